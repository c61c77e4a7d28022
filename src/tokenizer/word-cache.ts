// The per-word cache: most words of a text ("the", " of", ".") were seen before, so their BPE is looked up instead
// of recomputed. HF's slow tokenizer keeps a dict from word to tokens; this is the same idea, tuned for speed: an
// open-addressing hash table keyed directly by a range of the input string (text[start, end)), so a lookup
// allocates nothing. Only a miss copies the word out of the text, and its ids go into one shared Int32Array pool.

const SLOTS = 1 << 19; // 524,288 slots; the table is emptied when half full
const MAX_ENTRIES = SLOTS >> 1;

export class WordCache {
  // Allocated on first use (6 MB), so that making a tokenizer stays cheap.
  private keys: (string | undefined)[] = [];
  private hashes = new Int32Array(0);
  private starts = new Int32Array(0);
  private counts = new Int32Array(0);
  /** the cached ids, word after word */
  pool = new Int32Array(0);
  private poolLength = 0;
  private size = 0;

  /** FNV-1a over the UTF-16 code units of text[start, end). */
  static hash(text: string, start: number, end: number): number {
    let h = 0x811c9dc5 | 0;
    for (let k = start; k < end; k++) h = Math.imul(h ^ text.charCodeAt(k), 0x01000193);
    return h;
  }

  /** The slot holding text[start, end) (its ids are pool[start(slot) .. + count(slot)]), or -1. */
  find(text: string, start: number, end: number, h: number): number {
    if (this.hashes.length === 0) return -1;
    const len = end - start;
    let slot = h & (SLOTS - 1);
    for (;;) {
      const key = this.keys[slot];
      if (key === undefined) return -1;
      if (this.hashes[slot] === h && key.length === len) {
        let k = 0;
        while (k < len && key.charCodeAt(k) === text.charCodeAt(start + k)) k++;
        if (k === len) return slot;
      }
      slot = (slot + 1) & (SLOTS - 1);
    }
  }

  slotStart(slot: number): number {
    return this.starts[slot]!;
  }

  slotCount(slot: number): number {
    return this.counts[slot]!;
  }

  /** Stores the ids of text[start, end) (not already present) and returns its slot. */
  add(text: string, start: number, end: number, h: number, ids: Int32Array): number {
    if (this.hashes.length === 0) {
      this.keys = new Array<string | undefined>(SLOTS);
      this.hashes = new Int32Array(SLOTS);
      this.starts = new Int32Array(SLOTS);
      this.counts = new Int32Array(SLOTS);
      this.pool = new Int32Array(1 << 16);
    }
    if (this.size >= MAX_ENTRIES || this.poolLength + ids.length > (1 << 26)) this.clear();
    let slot = h & (SLOTS - 1);
    while (this.keys[slot] !== undefined) slot = (slot + 1) & (SLOTS - 1);
    if (this.poolLength + ids.length > this.pool.length) {
      let n = this.pool.length * 2;
      while (n < this.poolLength + ids.length) n *= 2;
      const bigger = new Int32Array(n);
      bigger.set(this.pool.subarray(0, this.poolLength));
      this.pool = bigger;
    }
    this.pool.set(ids, this.poolLength);
    this.keys[slot] = text.slice(start, end);
    this.hashes[slot] = h;
    this.starts[slot] = this.poolLength;
    this.counts[slot] = ids.length;
    this.poolLength += ids.length;
    this.size++;
    return slot;
  }

  clear(): void {
    if (this.size === 0) return;
    this.keys = new Array<string | undefined>(SLOTS);
    this.poolLength = 0;
    this.size = 0;
  }

  get entries(): number {
    return this.size;
  }
}

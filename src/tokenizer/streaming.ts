// Streaming decode: generation produces one id at a time, and one character may need several tokens (an emoji's
// 4 UTF-8 bytes are often 2 or 3 GPT-2 tokens). Decoding each token alone would print U+FFFD halves. This decoder
// keeps the bytes of an unfinished character until the rest arrives, and emits text only when it is complete.
// All the pieces joined equal decode(ids, { clean_up_tokenization_spaces: false }): same bytes, same U+FFFD for
// bytes that can never become valid UTF-8 (a TextDecoder in streaming mode follows the same rules as one call).

export interface StreamingDecoderOptions {
  /** drop special tokens (<|endoftext|>) from the text; default false */
  skip_special_tokens?: boolean;
}

/**
 *     const stream = tokenizer.createStreamDecoder();
 *     for (const id of ids) process.stdout.write(stream.push(id));   // '' while a character is incomplete
 *     process.stdout.write(stream.flush());                          // U+FFFD for bytes left unfinished
 */
export class StreamingDecoder {
  private readonly decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  private readonly state = new Utf8State();

  constructor(
    private readonly bytesOf: (id: number) => Uint8Array,
    private readonly specialIds: ReadonlySet<number>,
    private readonly options: StreamingDecoderOptions = {},
  ) {}

  /** Adds one id; returns the text that became complete (often the token's text, sometimes '' or more). */
  push(id: number): string {
    const bytes = this.bytesOf(id); // checks the id
    if (this.options.skip_special_tokens && this.specialIds.has(id)) return '';
    const text = this.decoder.decode(bytes, { stream: true });
    for (const b of bytes) this.state.feed(b);
    return text;
  }

  /** Adds several ids; returns the text that became complete. */
  pushAll(ids: Iterable<number>): string {
    let out = '';
    for (const id of ids) out += this.push(id);
    return out;
  }

  /** How many bytes of an unfinished character are held back (0 when all text so far has come out). */
  get pendingBytes(): number {
    return this.state.held;
  }

  /** Ends the stream: held-back bytes of an unfinished character come out as U+FFFD. The decoder can be reused. */
  flush(): string {
    this.state.reset();
    return this.decoder.decode();
  }
}

/**
 * WHATWG's UTF-8 decoder state, kept only to know how many bytes are held back: `needed` continuation bytes are
 * still expected after `seen` of them (plus the lead byte). TextDecoder does the actual decoding.
 */
class Utf8State {
  needed = 0;
  seen = 0;
  private lower = 0x80;
  private upper = 0xbf;

  feed(b: number): void {
    if (this.needed === 0) {
      this.start(b);
      return;
    }
    if (b < this.lower || b > this.upper) {
      this.reset(); // an invalid sequence: TextDecoder emits U+FFFD and looks at b again
      this.start(b);
      return;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    if (++this.seen === this.needed) this.reset();
  }

  private start(b: number): void {
    if (b >= 0xc2 && b <= 0xdf) this.needed = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      this.needed = 2;
      if (b === 0xe0) this.lower = 0xa0;
      if (b === 0xed) this.upper = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      this.needed = 3;
      if (b === 0xf0) this.lower = 0x90;
      if (b === 0xf4) this.upper = 0x8f;
    }
  }

  reset(): void {
    this.needed = 0;
    this.seen = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }

  get held(): number {
    return this.needed > 0 ? this.seen + 1 : 0;
  }
}

// Byte-level BPE works on bytes, but GPT-2's vocab.json stores its tokens as printable strings. HF's
// `bytes_to_unicode()` maps each of the 256 byte values to one printable character: the bytes that are already
// printable (`!`..`~`, `¡`..`¬`, `®`..`ÿ`) map to themselves, the others (control bytes, space, 0x7F..0xA0, 0xAD)
// to U+0100, U+0101, ... in order. So the space byte 0x20 becomes `Ġ` (U+0120) and "\n" becomes `Ċ` (U+010A).

/** BYTE_TO_CHAR[b] is the printable character that stands for byte b in vocab.json and merges.txt. */
export const BYTE_TO_CHAR: readonly string[] = buildByteToChar();

/** The inverse map: a printable character's code (< 0x144) to its byte value, or -1. */
export const CHAR_CODE_TO_BYTE: Int16Array = buildCharToByte();

function buildByteToChar(): string[] {
  const printable = (b: number): boolean => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const out: string[] = new Array<string>(256);
  let n = 0;
  for (let b = 0; b < 256; b++) out[b] = String.fromCharCode(printable(b) ? b : 256 + n++);
  return out;
}

function buildCharToByte(): Int16Array {
  const table = new Int16Array(0x144).fill(-1);
  for (let b = 0; b < 256; b++) table[BYTE_TO_CHAR[b]!.charCodeAt(0)] = b;
  return table;
}

/**
 * The bytes a vocabulary string stands for. Characters of the byte-level alphabet give their byte; any other
 * character (possible only in an added token such as a custom special token) gives its own UTF-8 bytes.
 */
export function tokenStringToBytes(token: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const b = code < CHAR_CODE_TO_BYTE.length ? CHAR_CODE_TO_BYTE[code]! : -1;
    if (b >= 0) out.push(b);
    else {
      const cp = token.codePointAt(i)!;
      appendUtf8(out, cp);
      if (cp > 0xffff) i++;
    }
  }
  return out;
}

/** tokenStringToBytes into `out` at offset o (room for 4 bytes per UTF-16 unit needed); returns the new offset. */
export function writeTokenBytes(token: string, out: Uint8Array, o: number): number {
  for (let i = 0; i < token.length; i++) {
    const code = token.charCodeAt(i);
    const b = code < CHAR_CODE_TO_BYTE.length ? CHAR_CODE_TO_BYTE[code]! : -1;
    if (b >= 0) {
      out[o++] = b;
      continue;
    }
    const bytes: number[] = [];
    const cp = token.codePointAt(i)!;
    appendUtf8(bytes, cp);
    if (cp > 0xffff) i++;
    for (const x of bytes) out[o++] = x;
  }
  return o;
}

/** Appends the UTF-8 encoding of one code point. A lone surrogate is written as U+FFFD, as TextEncoder does. */
export function appendUtf8(out: number[], cp: number): void {
  if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
  if (cp < 0x80) out.push(cp);
  else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
  else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
  else out.push(0xf0 | (cp >> 18), 0x80 | ((cp >> 12) & 63), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
}

/** The byte-level string of some bytes: what HF's `_tokenize` builds before BPE (`"".join(byte_encoder[b] ...)`). */
export function bytesToTokenString(bytes: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += BYTE_TO_CHAR[bytes[i]!]!;
  return s;
}

// Input checks shared by the tokenizer's public methods. Every message names the method and the bad value.

/** A short description of any value for an error message: `number 1.5`, `string "5"`, `null`, `array of 2`. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  switch (typeof v) {
    case 'string':
      return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
    case 'number':
      return `number ${String(v)}`;
    case 'bigint':
      return `bigint ${String(v)}n`;
    case 'boolean':
      return `boolean ${String(v)}`;
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    default:
      if (Array.isArray(v)) return `an array of length ${v.length}`;
      return `an object (${Object.prototype.toString.call(v).slice(8, -1)})`;
  }
}

/** Throws a TypeError unless `text` is a string. */
export function checkText(text: unknown, method: string, what = 'text'): asserts text is string {
  if (typeof text !== 'string') throw new TypeError(`${method}: ${what} must be a string, got ${describeValue(text)}`);
}

/**
 * Checks one token id: an integer in [0, size). `index` is its position in the caller's list (or -1 for a lone id).
 * Messages: `decode: token id at index 2 must be an integer, got number 1.5`;
 * `decode: token id 50257 at index 0 is out of range: valid ids are 0..50256`.
 */
export function checkId(id: unknown, index: number, size: number, method: string): number {
  const where = index >= 0 ? ` at index ${index}` : '';
  if (typeof id !== 'number' || !Number.isInteger(id)) {
    throw new TypeError(`${method}: token id${where} must be an integer, got ${describeValue(id)}`);
  }
  if (id < 0 || id >= size) {
    throw new RangeError(`${method}: token id ${id}${where} is out of range: valid ids are 0..${size - 1}`);
  }
  return id;
}

/** Checks a list of ids (an array or a typed array) and returns it as an iterable-by-index view. */
export function checkIds(ids: unknown, size: number, method: string): ArrayLike<number> {
  if (!Array.isArray(ids) && !(ArrayBuffer.isView(ids) && !(ids instanceof DataView))) {
    throw new TypeError(`${method}: ids must be an array of token ids, got ${describeValue(ids)}`);
  }
  const list = ids as ArrayLike<unknown>;
  for (let i = 0; i < list.length; i++) checkId(list[i], i, size, method);
  return list as ArrayLike<number>;
}

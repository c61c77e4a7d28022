// Checking a JSON request body against a small schema. Every message names the field and the value it got, so a
// person reading the 400 knows what to change: `"top_p" must be <= 1, got 1.5`.
import { ApiError } from './errors.js';

/** How one field may look. `limit` is this server's own ceiling (a 400 that says so), `max` the math's. */
export type FieldSpec =
  | { type: 'string'; maxLength?: number }
  | { type: 'boolean' }
  | { type: 'integer'; min?: number; max?: number; limit?: number }
  | { type: 'number'; min?: number; exclusiveMin?: number; max?: number }
  | { type: 'integers'; min?: number; max?: number; maxLength?: number; nonEmpty?: boolean }
  /** a list of strings (hook names) */
  | { type: 'strings'; maxLength?: number }
  /** an integer or a non-empty list of integers (eos_token_id) */
  | { type: 'integer-or-integers'; min?: number; max?: number }
  /** a token: an id, or a string (the text of one token, checked by the caller) */
  | { type: 'integer-or-string'; min?: number; max?: number; maxLength?: number }
  /** one of the listed JSON values (early_stopping: true, false, "never") */
  | { type: 'enum'; values: readonly (string | boolean | number)[] };

export type Schema = Record<string, FieldSpec>;

/**
 * A value in a message, short. Arrays and objects are described, not serialised: a request may nest them 100,000
 * deep, and JSON.stringify walks them recursively.
 */
function show(value: unknown): string {
  const flat = (x: unknown): boolean => typeof x !== 'object' || x === null;
  if (Array.isArray(value) && !(value.length <= 10 && value.every(flat))) return `a list of ${value.length} item${value.length === 1 ? '' : 's'}`;
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && !Object.values(value).every(flat)) return 'an object';
  const s = JSON.stringify(value); // one level deep at most
  if (s === undefined) return String(value);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

/** `name` is what the message shows (`input_ids[3]`), `param` the request field (`input_ids`). */
function checkInteger(name: string, v: unknown, spec: { min?: number; max?: number; limit?: number }, param = name): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ApiError(`"${name}" must be an integer, got ${show(v)}`, param);
  if (spec.min !== undefined && v < spec.min) throw new ApiError(`"${name}" must be >= ${spec.min}, got ${v}`, param);
  if (spec.max !== undefined && v > spec.max) throw new ApiError(`"${name}" must be <= ${spec.max}, got ${v}`, param);
  if (spec.limit !== undefined && v > spec.limit) {
    throw new ApiError(`"${name}" is ${v}, above this server's limit of ${spec.limit}`, param);
  }
  return v;
}

function checkField(name: string, v: unknown, spec: FieldSpec): unknown {
  switch (spec.type) {
    case 'string':
      if (typeof v !== 'string') throw new ApiError(`"${name}" must be a string, got ${show(v)}`, name);
      if (spec.maxLength !== undefined && v.length > spec.maxLength) {
        throw new ApiError(`"${name}" has ${v.length} characters, above this server's limit of ${spec.maxLength}`, name);
      }
      return v;
    case 'boolean':
      if (typeof v !== 'boolean') throw new ApiError(`"${name}" must be true or false, got ${show(v)}`, name);
      return v;
    case 'integer':
      return checkInteger(name, v, spec);
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ApiError(`"${name}" must be a number, got ${show(v)}`, name);
      if (spec.exclusiveMin !== undefined && v <= spec.exclusiveMin) {
        throw new ApiError(`"${name}" must be > ${spec.exclusiveMin}, got ${v}`, name);
      }
      if (spec.min !== undefined && v < spec.min) throw new ApiError(`"${name}" must be >= ${spec.min}, got ${v}`, name);
      if (spec.max !== undefined && v > spec.max) throw new ApiError(`"${name}" must be <= ${spec.max}, got ${v}`, name);
      return v;
    case 'integers': {
      if (!Array.isArray(v)) throw new ApiError(`"${name}" must be a list of integers, got ${show(v)}`, name);
      if (spec.nonEmpty && v.length === 0) throw new ApiError(`"${name}" is empty`, name);
      if (spec.maxLength !== undefined && v.length > spec.maxLength) {
        throw new ApiError(`"${name}" has ${v.length} items, above this server's limit of ${spec.maxLength}`, name);
      }
      v.forEach((x, i) => checkInteger(`${name}[${i}]`, x, spec, name));
      return v;
    }
    case 'strings':
      if (!Array.isArray(v)) throw new ApiError(`"${name}" must be a list of strings, got ${show(v)}`, name);
      if (spec.maxLength !== undefined && v.length > spec.maxLength) {
        throw new ApiError(`"${name}" has ${v.length} items, above this server's limit of ${spec.maxLength}`, name);
      }
      v.forEach((x, i) => {
        if (typeof x !== 'string') throw new ApiError(`"${name}[${i}]" must be a string, got ${show(x)}`, name);
      });
      return v;
    case 'integer-or-integers':
      if (Array.isArray(v)) {
        if (v.length === 0) throw new ApiError(`"${name}" is empty`, name);
        v.forEach((x, i) => checkInteger(`${name}[${i}]`, x, spec, name));
        return v;
      }
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        throw new ApiError(`"${name}" must be an integer or a list of integers, got ${show(v)}`, name);
      }
      return checkInteger(name, v, spec);
    case 'integer-or-string':
      if (typeof v === 'string') return checkField(name, v, { type: 'string', maxLength: spec.maxLength });
      if (typeof v !== 'number' || !Number.isInteger(v)) throw new ApiError(`"${name}" must be a token id or a token's text, got ${show(v)}`, name);
      return checkInteger(name, v, spec);
    case 'enum':
      if (!spec.values.includes(v as string | boolean | number)) {
        throw new ApiError(`"${name}" must be one of ${spec.values.map(show).join(', ')}, got ${show(v)}`, name);
      }
      return v;
  }
}

/**
 * Checks `body` (already parsed JSON) against `schema`: it must be an object, every field known, every value of its
 * type and range. `null` counts as absent. Returns the body, typed by the caller.
 */
export function validate<T>(body: unknown, schema: Schema): T {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(`the request body must be a JSON object, got ${show(body)}`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    // own properties only: "__proto__", "constructor" or "toString" are unknown fields like any other
    const spec = Object.hasOwn(schema, name) ? schema[name] : undefined;
    if (!spec) {
      throw new ApiError(`unknown field "${name}"; this endpoint takes: ${Object.keys(schema).join(', ')}`, name);
    }
    if (value === null || value === undefined) continue;
    out[name] = checkField(name, value, spec);
  }
  return out as T;
}

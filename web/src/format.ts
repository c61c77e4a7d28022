// Showing tokens and numbers to people: visible whitespace, percentages, and colours for probabilities.
import { format, interpolateRgbBasis } from 'd3';

/**
 * A token's text with its whitespace made visible: a space is `·`, a newline `↵`, a tab `→`. GPT-2 glues the space
 * before a word onto the word (" the" is one token), and learners need to see that space.
 */
export function visible(text: string): string {
  if (text === '') return '∅';
  return text.replace(/ /g, '·').replace(/\n/g, '↵').replace(/\t/g, '→').replace(/\r/g, '␍');
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** True when the token's bytes are not whole UTF-8 characters: the token holds part of a character (an emoji, say). */
export function isPartialCharacter(bytes: readonly number[]): boolean {
  try {
    utf8.decode(new Uint8Array(bytes));
    return false;
  } catch {
    return true;
  }
}

export function hexBytes(bytes: readonly number[]): string {
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

const pct1 = format('.1%');
const pct2 = format('.2%');

/** 0.3815 → "38.2%"; small values keep two significant digits: 0.00042 → "0.042%". */
export function percent(p: number): string {
  if (p >= 0.001) return p >= 0.1 ? pct1(p) : pct2(p);
  if (p === 0) return '0%';
  return `${(p * 100).toPrecision(2)}%`;
}

export const fixed2 = format('.2f');
export const fixed3 = format('.3f');
export const thousands = format(',');

/** Background colour for a probability: warm for unlikely choices, green for confident ones. */
export const probColor = interpolateRgbBasis(['#f6b1a0', '#fbe3a0', '#a9d8b8']);

/** Attention weight → colour (white to deep blue). */
export const attnColor = interpolateRgbBasis(['#ffffff', '#c6dbef', '#4292c6', '#08306b']);

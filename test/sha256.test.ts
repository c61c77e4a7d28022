// The incremental SHA-256 the static site checks LFS downloads with (src/hub/sha256.ts), against node:crypto.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Sha256 } from '../src/hub/sha256.js';

const nodeSha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

test('sha256 of the standard vectors', () => {
  assert.equal(new Sha256().hex(), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(new Sha256().update(new TextEncoder().encode('abc')).hex(), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  const two = new TextEncoder().encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq');
  assert.equal(new Sha256().update(two).hex(), '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
});

test('sha256 fed in pieces of every size equals node:crypto over the whole message', () => {
  // lengths around the block (64) and padding (56) boundaries, and pieces that split blocks anywhere
  const data = new Uint8Array(1000);
  for (let i = 0; i < data.length; i++) data[i] = (i * 131 + 7) & 0xff;
  let checked = 0;
  for (const len of [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000]) {
    const msg = data.subarray(0, len);
    for (const piece of [1, 3, 17, 64, 100, 1000]) {
      const h = new Sha256();
      for (let i = 0; i < len; i += piece) h.update(msg.subarray(i, i + piece));
      assert.equal(h.hex(), nodeSha(msg), `length ${len}, pieces of ${piece}`);
      checked++;
    }
  }
  assert.equal(checked, 14 * 6);
});

test('sha256 refuses input after the digest', () => {
  const h = new Sha256();
  h.hex();
  assert.throws(() => h.update(new Uint8Array(1)), /^Error: sha256: update\(\) after hex\(\)$/);
  assert.throws(() => h.hex(), /^Error: sha256: hex\(\) called twice$/);
});

// The bench's protobuf / ONNX writer (bench/onnx), byte for byte against the encodings in the protocol-buffers
// documentation (https://protobuf.dev/programming-guides/encoding/) and hand-encoded ONNX messages. (That the
// whole GPT-2 graph computes our model is checked by `npm run bench -- peers` itself, with onnxruntime-node.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtoWriter } from '../bench/onnx/proto.js';
import { node, tensor, valueInfo } from '../bench/onnx/onnx.js';

const bytes = (w: ProtoWriter): number[] => w.finish().flatMap((p) => Array.from(p));
const ascii = (s: string): number[] => Array.from(s, (c) => c.charCodeAt(0));

test('protobuf: the documentation\'s examples, byte for byte', () => {
  assert.deepEqual(bytes(new ProtoWriter().int(1, 150)), [0x08, 0x96, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().string(2, 'testing')), [0x12, 0x07, ...ascii('testing')]);
  assert.deepEqual(bytes(new ProtoWriter().message(3, new ProtoWriter().int(1, 150))), [0x1a, 0x03, 0x08, 0x96, 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().packedInts(4, [3, 270, 86942])), [0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
  // int64 −1: ten bytes of two's complement; float 1.0 little-endian after a fixed32 tag
  assert.deepEqual(bytes(new ProtoWriter().int(1, -1)), [0x08, ...Array(9).fill(0xff), 0x01]);
  assert.deepEqual(bytes(new ProtoWriter().float(2, 1)), [0x15, 0x00, 0x00, 0x80, 0x3f]);
  // a varint past 2^32
  assert.deepEqual(bytes(new ProtoWriter().int(1, 2 ** 35)), [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]);
  const w = new ProtoWriter().int(1, 1).string(2, 'ab');
  assert.equal(w.size, 6);
  assert.throws(() => new ProtoWriter().int(1, 1.5), /protobuf varint: 1.5 is not an integer/);
});

test('onnx: TensorProto, NodeProto and ValueInfoProto as onnx.proto numbers their fields', () => {
  // dims (1, packed) [2]; data_type (2) FLOAT = 1; name (8) "t"; raw_data (9) 1.0f, 2.0f little-endian
  const t = new Float32Array([1, 2]);
  const tp = tensor('t', [2], t);
  assert.deepEqual(bytes(tp), [0x0a, 0x01, 0x02, 0x10, 0x01, 0x42, 0x01, 0x74, 0x4a, 0x08, 0, 0, 0x80, 0x3f, 0, 0, 0, 0x40]);
  assert.equal(tp.parts.at(-1)!.buffer, t.buffer, 'the tensor bytes are referenced, not copied');
  // input (1) "x", output (2) "y", name (3) "n", op_type (4) "Relu", attribute (5) { name (1) "a", i (3) 7, type (20) INT = 2 }
  assert.deepEqual(bytes(node('Relu', ['x'], ['y'], 'n', { a: { int: 7 } })), [
    0x0a, 0x01, 0x78, 0x12, 0x01, 0x79, 0x1a, 0x01, 0x6e, 0x22, 0x04, ...ascii('Relu'),
    0x2a, 0x08, 0x0a, 0x01, 0x61, 0x18, 0x07, 0xa0, 0x01, 0x02,
  ]);
  // name (1) "v"; type (2) { tensor_type (1) { elem_type (1) INT64 = 7, shape (2) { dim (1) { dim_param (2) "b" }, dim (1) { dim_value (1) 3 } } } }
  assert.deepEqual(bytes(valueInfo('v', 7, ['b', 3])), [
    0x0a, 0x01, 0x76, 0x12, 0x0f, 0x0a, 0x0d, 0x08, 0x07, 0x12, 0x09, 0x0a, 0x03, 0x12, 0x01, 0x62, 0x0a, 0x02, 0x08, 0x03,
  ]);
});

// The few ONNX messages the bench writes, on top of proto.ts. Field numbers from onnx/onnx.proto (IR version 8):
//   ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8     OperatorSetIdProto: domain 1, version 2
//   GraphProto: node 1, name 2, initializer 5, input 11, output 12
//   NodeProto: input 1, output 2, name 3, op_type 4, attribute 5
//   AttributeProto: name 1, f 2, i 3, s 4, t 5, ints 8, type 20 (FLOAT 1, INT 2, STRING 3, TENSOR 4, INTS 7)
//   TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little-endian)     DataType: FLOAT 1, INT64 7, BOOL 9
//   ValueInfoProto: name 1, type 2; TypeProto: tensor_type 1; TypeProto.Tensor: elem_type 1, shape 2;
//   TensorShapeProto: dim 1; Dimension: dim_value 1, dim_param 2
import { ProtoWriter } from './proto.js';

export const FLOAT = 1;
export const INT64 = 7;
export const BOOL = 9;

export type AttrValue = { int: number } | { ints: readonly number[] } | { float: number } | string | ProtoWriter;

/** A TensorProto holding `data` as raw little-endian bytes (referenced, not copied). */
export function tensor(name: string, dims: readonly number[], data: Float32Array | BigInt64Array): ProtoWriter {
  const w = new ProtoWriter();
  if (dims.length) w.packedInts(1, dims);
  w.int(2, data instanceof Float32Array ? FLOAT : INT64);
  w.string(8, name);
  w.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return w;
}

function attribute(name: string, value: AttrValue): ProtoWriter {
  const w = new ProtoWriter().string(1, name);
  if (typeof value === 'string') return w.string(4, value).int(20, 3);
  if (value instanceof ProtoWriter) return w.message(5, value).int(20, 4);
  if ('int' in value) return w.int(3, value.int).int(20, 2);
  if ('float' in value) return w.float(2, value.float).int(20, 1);
  return w.packedInts(8, value.ints).int(20, 7);
}

/** A NodeProto. */
export function node(op: string, inputs: readonly string[], outputs: readonly string[], name: string, attrs: Record<string, AttrValue> = {}): ProtoWriter {
  const w = new ProtoWriter();
  for (const i of inputs) w.string(1, i);
  for (const o of outputs) w.string(2, o);
  w.string(3, name).string(4, op);
  for (const [k, v] of Object.entries(attrs)) w.message(5, attribute(k, v));
  return w;
}

/** A ValueInfoProto of a tensor: each dim a size or a symbolic name (dim_param). */
export function valueInfo(name: string, elemType: number, dims: readonly (number | string)[]): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of dims) shape.message(1, typeof d === 'number' ? new ProtoWriter().int(1, d) : new ProtoWriter().string(2, d));
  const tensorType = new ProtoWriter().int(1, elemType).message(2, shape);
  return new ProtoWriter().string(1, name).message(2, new ProtoWriter().message(1, tensorType));
}

export interface Graph {
  name: string;
  nodes: ProtoWriter[];
  initializers: ProtoWriter[];
  inputs: ProtoWriter[];
  outputs: ProtoWriter[];
}

/** A ModelProto: IR version 8, the default domain at `opset`. */
export function model(graph: Graph, opset: number, producer: string): ProtoWriter {
  const g = new ProtoWriter();
  for (const n of graph.nodes) g.message(1, n);
  g.string(2, graph.name);
  for (const t of graph.initializers) g.message(5, t);
  for (const i of graph.inputs) g.message(11, i);
  for (const o of graph.outputs) g.message(12, o);
  const m = new ProtoWriter().int(1, 8).string(2, producer);
  m.message(7, g);
  m.message(8, new ProtoWriter().string(1, '').int(2, opset));
  return m;
}

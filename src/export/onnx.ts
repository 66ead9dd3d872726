// ONNX export: the traced forward pass (trace.ts) written as an ONNX model for onnxruntime and other runtimes.
// Input `lr` [N,3,H,W] and output `sr` [N,3,H·s,W·s] are float32 NCHW in [0,1], the output neither clamped nor
// rounded, exactly like Model.forward. Weight norm is folded away and weights become OIHW.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import type { ConvDef } from '../models/arch.js';
import type { Model } from '../models/model.js';
import { traceForward, type TracedOp } from '../compiler/trace.js';

const { onnx } = onnxProto;

export const OPSET = 13;
/** IR version 7 came with opset 13 (ONNX 1.8); older runtimes that read opset 13 read it. */
const IR_VERSION = 7;

const UNARY = { relu: 'Relu', neg: 'Neg', sign: 'Sign' } as const;
const BINARY = { add: 'Add', sub: 'Sub', mul: 'Mul' } as const;

interface Step {
  opType: string;
  /** Inputs after the chained value: initializer names. */
  extra?: string[];
  attribute?: Onnx.IAttributeProto[];
}

export function exportOnnx(model: Model): Uint8Array {
  return onnx.ModelProto.encode(onnxModel(model)).finish();
}

/** Node count per op type of an encoded model (decoding it is also the check that it is well-formed protobuf). */
export function onnxOpCounts(bytes: Uint8Array): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const n of onnx.ModelProto.decode(bytes).graph?.node ?? []) counts[n.opType ?? '?'] = (counts[n.opType ?? '?'] ?? 0) + 1;
  return counts;
}

function onnxModel(model: Model): Onnx.IModelProto {
  const { ops, output } = traceForward(model);
  const s = model.scale;
  const nodes: Onnx.INodeProto[] = [];
  const initializer: Onnx.ITensorProto[] = [];
  const value = (v: number) => (v === 0 ? 'lr' : v === output ? 'sr' : `t${v}`);

  /** Emits `steps` one after another from value x to value y, naming what lies between after y. */
  const chain = (x: string, y: string, steps: Step[]) =>
    steps.forEach((st, i) =>
      nodes.push({
        opType: st.opType,
        input: [i === 0 ? x : `${y}.${i}`, ...(st.extra ?? [])],
        output: [i === steps.length - 1 ? y : `${y}.${i + 1}`],
        attribute: st.attribute ?? [],
      }),
    );

  const constants = new Set<string>();
  const constant = (c: number) => {
    const name = `const_${c}`;
    if (!constants.has(name)) initializer.push(floatTensor(name, [], [c]));
    constants.add(name);
    return name;
  };
  // A conv the forward pass applies twice shares one pair of initializers.
  const convParams = new Set<string>();
  const convInputs = ({ conv: c, weight, bias }: Extract<TracedOp, { op: 'conv2d' }>) => {
    const [w, b] = [`${c.name}.weight`, `${c.name}.bias`];
    if (!convParams.has(c.name)) initializer.push(floatTensor(w, [c.cout, c.cin, c.k, c.k], hwioToOihw(weight, c)), floatTensor(b, [c.cout], bias));
    convParams.add(c.name);
    return [w, b];
  };

  for (const op of ops) {
    switch (op.op) {
      case 'conv2d': {
        const p = (op.conv.k - 1) / 2;
        const conv = { opType: 'Conv', extra: convInputs(op), attribute: [ints('kernel_shape', [op.conv.k, op.conv.k]), ints('pads', [p, p, p, p])] };
        chain(value(op.x), value(op.y), op.relu ? [conv, { opType: 'Relu' }] : [conv]);
        break;
      }
      case 'unary':
        chain(value(op.x), value(op.y), [{ opType: UNARY[op.kind] }]);
        break;
      case 'binary':
        chain(value(op.a), value(op.y), [{ opType: BINARY[op.kind], extra: [value(op.b)] }]);
        break;
      case 'affine': {
        const steps: Step[] = [];
        if (op.scale !== 1) steps.push({ opType: 'Mul', extra: [constant(op.scale)] });
        if (op.shift !== 0) steps.push({ opType: 'Add', extra: [constant(op.shift)] });
        chain(value(op.x), value(op.y), steps.length ? steps : [{ opType: 'Identity' }]);
        break;
      }
      case 'depthToSpace':
        // CRD is PyTorch's pixel-shuffle order, which ops.depthToSpace follows; ONNX's default (DCR) is not.
        chain(value(op.x), value(op.y), [
          { opType: 'DepthToSpace', attribute: [{ name: 'blocksize', type: onnx.AttributeProto.AttributeType.INT, i: op.s }, { name: 'mode', type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode('CRD') }] },
        ]);
        break;
    }
  }

  return {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'rtsr',
    metadataProps: [{ key: 'rtsr.spec', value: JSON.stringify(model.spec) }],
    graph: {
      name: model.spec.arch,
      node: nodes,
      initializer,
      input: [image('lr', 'H', 'W')],
      output: [image('sr', `H*${s}`, `W*${s}`)],
    },
  };
}

/** HWIO [k,k,cin,cout] → OIHW [cout,cin,k,k]. */
function hwioToOihw(w: Float32Array, c: ConvDef): Float32Array {
  const { k, cin, cout } = c;
  const out = new Float32Array(w.length);
  for (let dy = 0; dy < k; dy++)
    for (let dx = 0; dx < k; dx++)
      for (let i = 0; i < cin; i++) for (let o = 0; o < cout; o++) out[((o * cin + i) * k + dy) * k + dx] = w[((dy * k + dx) * cin + i) * cout + o];
  return out;
}

function floatTensor(name: string, dims: number[], data: ArrayLike<number>): Onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, floatData: Array.from(data) };
}

function ints(name: string, values: number[]): Onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.INTS, ints: values };
}

/** A float32 NCHW RGB batch with symbolic batch and spatial sizes. */
function image(name: string, h: string, w: string): Onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType: onnx.TensorProto.DataType.FLOAT, shape: { dim: [{ dimParam: 'N' }, { dimValue: 3 }, { dimParam: h }, { dimParam: w }] } } },
  };
}

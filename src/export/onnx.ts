// ONNX export: the compiler's graph of the model (traced from its forward pass, folded and pruned: the graph every
// target compiles) rendered as an ONNX model for onnxruntime and other runtimes. Input `lr` [N,3,H,W] and output
// `sr` [N,3,H·s,W·s] are float32 NCHW in [0,1], the output neither clamped nor rounded, exactly like
// Model.forward. Weight norm, ReLUs, gates and the input/output shifts are folded into the convs (a conv whose
// input is a constant other than 0 outside the image gets an explicit Pad); weights become OIHW.
import onnxProto from 'onnx-proto';
import type { onnx as Onnx } from 'onnx-proto';
import { optimizedGraph } from '../compiler/compile.js';
import { channelsOf, describe, INPUT } from '../compiler/ir.js';
import type { Model } from '../models/model.js';

const { onnx } = onnxProto;

export const OPSET = 13;
/** IR version 7 came with opset 13 (ONNX 1.8); older runtimes that read opset 13 read it. */
const IR_VERSION = 7;

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
  const g = optimizedGraph(model);
  const channels = channelsOf(g);
  const nodes: Onnx.INodeProto[] = [];
  const initializer: Onnx.ITensorProto[] = [];
  const value = (v: number) => (v === INPUT ? 'lr' : v === g.output ? 'sr' : `t${v}`);
  const names = new Set<string>();
  /** An initializer under a name of its own (a conv the forward pass applies twice is two nodes). */
  const init = (name: string, t: (name: string) => Onnx.ITensorProto) => {
    let n = name;
    for (let i = 2; names.has(n); i++) n = `${name}.${i}`;
    names.add(n);
    initializer.push(t(n));
    return n;
  };

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
  const scalar = (name: string, c: number) => init(name, (n) => floatTensor(n, [], [c]));

  for (const n of g.nodes) {
    switch (n.op) {
      case 'conv': {
        if (n.g) throw new Error(`export: conv '${n.name}' still has weight-norm gains (the fold pass did not run)`);
        const p = (n.k - 1) / 2;
        const steps: Step[] = [];
        // A folded input shift leaves a conv whose input is `pad` (not 0) outside the image: an explicit Pad.
        if (n.pad !== 0 && p > 0)
          steps.push({ opType: 'Pad', extra: [init(`${n.name}.pads`, (m) => int64Tensor(m, [8], [0, 0, p, p, 0, 0, p, p])), scalar(`${n.name}.pad_value`, n.pad)], attribute: [str('mode', 'constant')] });
        const weight = init(`${n.name}.weight`, (m) => floatTensor(m, [n.cout, n.cin, n.k, n.k], hwioToOihw(n.w, n)));
        const bias = init(`${n.name}.bias`, (m) => floatTensor(m, [n.cout], n.b));
        const pads = n.pad !== 0 ? 0 : p;
        steps.push({ opType: 'Conv', extra: [weight, bias], attribute: [ints('kernel_shape', [n.k, n.k]), ints('pads', [pads, pads, pads, pads])] });
        if (n.relu) steps.push({ opType: 'Relu' });
        chain(value(n.x), value(n.y), steps);
        break;
      }
      case 'relu':
        chain(value(n.x), value(n.y), [{ opType: 'Relu' }]);
        break;
      case 'add': {
        // A repeated operand (ir.ts AddNode) as that many copies side by side: ONNX broadcasts no channel repeat.
        const times = channels.get(n.a)! / channels.get(n.b)!;
        const b = times === 1 ? value(n.b) : `${value(n.y)}.repeat`;
        if (times > 1) nodes.push({ opType: 'Concat', input: Array(times).fill(value(n.b)), output: [b], attribute: [{ name: 'axis', type: onnx.AttributeProto.AttributeType.INT, i: 1 }] });
        chain(value(n.a), value(n.y), [{ opType: 'Add', extra: [b] }]);
        break;
      }
      case 'gate':
        chain(value(n.x), value(n.y), [{ opType: 'Mul', extra: [init(`gate${n.y}`, (m) => floatTensor(m, [1, n.g.length, 1, 1], n.g))] }]);
        break;
      case 'affine': {
        const steps: Step[] = [];
        if (n.scale !== 1) steps.push({ opType: 'Mul', extra: [scalar(`scale${n.y}`, n.scale)] });
        if (n.shift !== 0) steps.push({ opType: 'Add', extra: [scalar(`shift${n.y}`, n.shift)] });
        chain(value(n.x), value(n.y), steps.length ? steps : [{ opType: 'Identity' }]);
        break;
      }
      case 'depthToSpace':
        // CRD is PyTorch's pixel-shuffle order, which ops.depthToSpace follows; ONNX's default (DCR) is not.
        chain(value(n.x), value(n.y), [{ opType: 'DepthToSpace', attribute: [{ name: 'blocksize', type: onnx.AttributeProto.AttributeType.INT, i: n.s }, str('mode', 'CRD')] }]);
        break;
      case 'stage':
        throw new Error(`export: ${describe(n)} is fused; ONNX is rendered from the unfused graph`);
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
      output: [image('sr', `H*${g.scale}`, `W*${g.scale}`)],
    },
  };
}

/** HWIO [k,k,cin,cout] → OIHW [cout,cin,k,k]. */
function hwioToOihw(w: Float32Array, c: { k: number; cin: number; cout: number }): Float32Array {
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

function int64Tensor(name: string, dims: number[], data: number[]): Onnx.ITensorProto {
  return { name, dims, dataType: onnx.TensorProto.DataType.INT64, int64Data: data };
}

function str(name: string, value: string): Onnx.IAttributeProto {
  return { name, type: onnx.AttributeProto.AttributeType.STRING, s: new TextEncoder().encode(value) };
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

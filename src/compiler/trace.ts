// Records a model's inference graph by running its own forward pass once on a tiny input with a recording
// backend installed, so exporters follow the architecture's code rather than a second description of it that
// could drift. Kernels run for real (on the reference backend) while they are recorded, so any JavaScript in a
// forward pass sees true values; a kernel with no graph mapping fails by name instead of being dropped.
import type { Backend, BinaryKind, UnaryKind } from '../backends/backend.js';
import { referenceBackend } from '../backends/reference.js';
import { backend, Tensor, useBackend } from '../engine/tensor.js';
import type { ConvDef, ParamMap } from '../models/arch.js';
import { fixedConvOf, param } from '../models/layers.js';
import { convs, type Model } from '../models/model.js';
import { branchConvs } from '../models/reparam.js';

/** A recorded op on NHWC activations. Values are numbered: 0 is the input, each op defines `y`. */
export type TracedOp =
  /** `weight` is the deployed HWIO weight (weight norm folded), `bias` the model's own (zeros for a branch's
   *  conv, which has none: `conv.branchOf` names the conv it folds into). */
  | { op: 'conv2d'; conv: ConvDef; weight: Float32Array; bias: Float32Array; relu: boolean; x: number; y: number }
  | { op: 'unary'; kind: UnaryKind; x: number; y: number }
  | { op: 'binary'; kind: Exclude<BinaryKind, 'reluGrad'>; a: number; b: number; y: number }
  | { op: 'affine'; scale: number; shift: number; x: number; y: number }
  | { op: 'depthToSpace'; s: number; x: number; y: number };

export interface Trace {
  ops: TracedOp[];
  /** The value that is the SR output. */
  output: number;
}

/** The deployed weight of a conv, HWIO: w itself, or g·v/‖v‖ computed in float64 and rounded once. */
function foldedWeight(params: ParamMap, c: ConvDef): Float32Array {
  if (c.fixed) return c.fixed;
  if (!c.weightNorm) return param(params, `${c.name}.w`).data;
  const v = param(params, `${c.name}.v`).data;
  const g = param(params, `${c.name}.g`).data;
  const norm2 = new Float64Array(c.cout);
  for (let i = 0; i < v.length; i++) norm2[i % c.cout] += v[i] * v[i];
  if (norm2.some((n) => n === 0)) throw new Error(`conv '${c.name}': a weight-norm direction v[..., o] is all zeros`);
  return v.map((vi, i) => (g[i % c.cout] * vi) / Math.sqrt(norm2[i % c.cout]));
}

export function traceForward(model: Model): Trace {
  const s = model.scale;
  // A conv's bias array is the model's own parameter (ops pass parameter data through untouched), which ties
  // every recorded conv to its ConvDef by identity; a branch's conv has no bias and is tied by its weight.
  const byBias = new Map(convs(model.spec).map((c) => [param(model.params, `${c.name}.b`).data, c]));
  const byWeight = new Map(branchConvs(convs(model.spec)).map((c) => [param(model.params, `${c.name}.w`).data, c]));
  const values = new Map<Float32Array, number>();
  const ops: TracedOp[] = [];
  const id = (a: Float32Array | null) => (a ? values.get(a) : undefined);
  const define = (y: Float32Array) => {
    values.set(y, values.size);
    return values.size - 1;
  };

  const guarded = Object.fromEntries(
    Object.entries(referenceBackend).map(([name, kernel]) => [
      name,
      typeof kernel !== 'function'
        ? kernel
        : (...args: unknown[]) => {
            if (args.some((a) => a instanceof Float32Array && values.has(a)))
              throw new Error(`export of ${model.spec.arch}: the forward pass runs kernel '${name}' on an activation, which has no exported equivalent`);
            return (kernel as (...a: unknown[]) => unknown)(...args);
          },
    ]),
  ) as unknown as Backend;

  const tracer: Backend = {
    ...guarded,
    branchesApart: true,
    conv2d(x, w, b, shape, relu, add) {
      // The residual as the add it is, so the trace holds only ops the IR has.
      if (add) return tracer.binary('add', tracer.conv2d(x, w, b, shape, relu), add);
      const xi = id(x);
      if (xi === undefined || id(w) !== undefined || id(b) !== undefined) return guarded.conv2d(x, w, b, shape, relu);
      const conv = b ? byBias.get(b) : (byWeight.get(w) ?? fixedConvOf(w));
      const desc = `conv2d k=${shape.k} ${shape.cin}→${shape.cout}`;
      if (!conv) throw new Error(`export of ${model.spec.arch}: ${desc} has no bias parameter of the model and is neither a branch of one nor a fixed conv, so it matches none of its convs`);
      if (conv.k !== shape.k || conv.cin !== shape.cin || conv.cout !== shape.cout)
        throw new Error(`export of ${model.spec.arch}: conv '${conv.name}' is k=${conv.k} ${conv.cin}→${conv.cout} but the forward pass runs ${desc} with its bias`);
      const folded = foldedWeight(model.params, conv);
      let maxAbs = 0;
      let maxDiff = 0;
      for (let i = 0; i < w.length; i++) {
        maxAbs = Math.max(maxAbs, Math.abs(folded[i]));
        maxDiff = Math.max(maxDiff, Math.abs(folded[i] - w[i]));
      }
      // The engine folds weight norm in float32; anything beyond a few ulps means another weight was used.
      if (maxDiff > 1e-5 * maxAbs)
        throw new Error(`export of ${model.spec.arch}: conv '${conv.name}' runs with a weight that differs from its parameters by ${maxDiff}`);
      const y = referenceBackend.conv2d(x, w, b, shape, relu);
      ops.push({ op: 'conv2d', conv, weight: folded, bias: b ?? new Float32Array(shape.cout), relu, x: xi, y: define(y) });
      return y;
    },
    unary(kind, x) {
      const xi = id(x);
      const y = referenceBackend.unary(kind, x);
      if (xi !== undefined) ops.push({ op: 'unary', kind, x: xi, y: define(y) });
      return y;
    },
    binary(kind, a, b) {
      const [ai, bi] = [id(a), id(b)];
      if (ai === undefined && bi === undefined) return referenceBackend.binary(kind, a, b);
      // A constant operand would be baked in at the trace's tiny size, so only activation ∘ activation exports.
      if (kind === 'reluGrad' || ai === undefined || bi === undefined) return guarded.binary(kind, a, b);
      const y = referenceBackend.binary(kind, a, b);
      ops.push({ op: 'binary', kind, a: ai, b: bi, y: define(y) });
      return y;
    },
    affine(x, scale, shift) {
      const xi = id(x);
      const y = referenceBackend.affine(x, scale, shift);
      if (xi !== undefined) ops.push({ op: 'affine', scale, shift, x: xi, y: define(y) });
      return y;
    },
    depthToSpace(x, n, h, w, c, bs) {
      const xi = id(x);
      const y = referenceBackend.depthToSpace(x, n, h, w, c, bs);
      if (xi !== undefined) ops.push({ op: 'depthToSpace', s: bs, x: xi, y: define(y) });
      return y;
    },
  };

  const input = Tensor.zeros([1, 1, 1, 3]);
  define(input.data);
  const previous = backend();
  useBackend(tracer);
  let out: Tensor;
  try {
    out = model.forward(input);
  } finally {
    useBackend(previous);
  }
  const output = id(out.data);
  if (output === undefined || output === 0) throw new Error(`export of ${model.spec.arch}: the output is not computed from the input`);
  if (out.shape.join(',') !== `1,${s},${s},3`)
    throw new Error(`export of ${model.spec.arch}: a [1,1,1,3] input gives [${out.shape}], expected [1,${s},${s},3]`);
  return { ops, output };
}

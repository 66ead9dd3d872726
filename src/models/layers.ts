// Building blocks shared by the architectures: a conv that reads its parameters by name, weight-normalised
// or not, with its training-time branches (reparam.ts) when it has them, as its ConvDef says.
import { centreTaps, composeConvWeights, identityWeight } from '../engine/conv-weights.js';
import * as ops from '../engine/ops.js';
import { backend, Tensor } from '../engine/tensor.js';
import type { ConvDef, ParamMap } from './arch.js';
import { type Branch, branchesOf } from './reparam.js';

export function param(params: ParamMap, name: string): Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`missing parameter '${name}' (have: ${[...params.keys()].slice(0, 8).join(', ')}${params.size > 8 ? ', …' : ''})`);
  return t;
}

/** The effective weight of a conv: v·g/‖v‖ when weight-normalised, else w. */
export function convWeight(params: ParamMap, c: ConvDef): Tensor {
  return c.weightNorm ? ops.weightNorm(param(params, `${c.name}.v`), param(params, `${c.name}.g`)) : param(params, `${c.name}.w`);
}

/** Sets a conv's parameters so that its effective weight is `w` (HWIO): v = w and g = ‖w‖ per output channel
 *  (the same weight up to rounding) when weight-normalised. */
export function setConvWeight(params: ParamMap, c: ConvDef, w: Float32Array): void {
  const shape = [c.k, c.k, c.cin, c.cout];
  if (!c.weightNorm) {
    params.set(`${c.name}.w`, new Tensor(w, shape, true));
    return;
  }
  const norms = new Float64Array(c.cout);
  for (let i = 0; i < w.length; i++) norms[i % c.cout] += w[i] * w[i];
  params.set(`${c.name}.v`, new Tensor(w, shape, true));
  params.set(`${c.name}.g`, new Tensor(Float32Array.from(norms, Math.sqrt), [c.cout], true));
}

/** A branch as one weight of its conv's shape. */
function branchWeight(params: ParamMap, c: ConvDef, b: Branch): Tensor {
  if (b.chain.length === 0) return identityWeight(c.k, c.cin);
  const [first, ...rest] = b.chain.map((p) => param(params, `${p.name}.w`));
  return centreTaps(rest.reduce(composeConvWeights, first), c.k);
}

/** Whether a conv's branches run as convs of their own: only for a backend that asks (the export tracer, so
 *  that the compiler's fold pass folds and checks them). Training folds them into the conv's weight first
 *  (the same function: they are linear and bias-free), so a step costs one conv, and the fused WDSR-B block
 *  trains a branched block too. */
export const branchesApart = (c: ConvDef) => backend().branchesApart === true && branchesOf(c).length > 0;

/** convWeight with the conv's training branches added in (conv-weights.ts). */
export function trainedWeight(params: ParamMap, c: ConvDef): Tensor {
  return branchesOf(c).reduce((w, b) => ops.add(w, branchWeight(params, c, b)), convWeight(params, c));
}

export function applyConv(params: ParamMap, c: ConvDef, x: Tensor, relu = false): Tensor {
  if (!branchesApart(c)) return ops.conv2d(x, trainedWeight(params, c), param(params, `${c.name}.b`), { relu });
  // The branches join before the ReLU: only a linear sum folds into one conv.
  const branches = branchesOf(c);
  let y = ops.conv2d(x, convWeight(params, c), param(params, `${c.name}.b`));
  for (const b of branches) y = ops.add(y, b.chain.reduce((t, p) => ops.conv2d(t, param(params, `${p.name}.w`), null), x));
  return relu ? ops.relu(y) : y;
}

const FIXED = new WeakMap<Float32Array, ConvDef>();

/** A constant bias-free conv that the compiler composes into the conv `def.branchOf` (compiler/reparam.ts);
 *  registered by its weight so that the export tracer (compiler/trace.ts) knows it. */
export function fixedConv(def: ConvDef & { fixed: Float32Array }): Tensor {
  FIXED.set(def.fixed, def);
  return new Tensor(def.fixed, [def.k, def.k, def.cin, def.cout]);
}

export const fixedConvOf = (w: Float32Array): ConvDef | undefined => FIXED.get(w);

/** Looks a conv up by name in an architecture's list, so forward passes and conv lists cannot drift apart. */
export function convTable(convs: ConvDef[]): (name: string) => ConvDef {
  const byName = new Map(convs.map((c) => [c.name, c]));
  return (name) => {
    const c = byName.get(name);
    if (!c) throw new Error(`no conv named '${name}'`);
    return c;
  };
}

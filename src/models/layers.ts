// Building blocks shared by the architectures: a conv that reads its parameters by name, weight-normalised
// or not, with its training-time branches (reparam.ts) when it has them, as its ConvDef says.
import * as ops from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import type { ConvDef, ParamMap } from './arch.js';
import { branchesOf } from './reparam.js';

export function param(params: ParamMap, name: string): Tensor {
  const t = params.get(name);
  if (!t) throw new Error(`missing parameter '${name}' (have: ${[...params.keys()].slice(0, 8).join(', ')}${params.size > 8 ? ', …' : ''})`);
  return t;
}

/** The effective weight of a conv: v·g/‖v‖ when weight-normalised, else w. */
export function convWeight(params: ParamMap, c: ConvDef): Tensor {
  return c.weightNorm ? ops.weightNorm(param(params, `${c.name}.v`), param(params, `${c.name}.g`)) : param(params, `${c.name}.w`);
}

export function applyConv(params: ParamMap, c: ConvDef, x: Tensor, relu = false): Tensor {
  const branches = branchesOf(c);
  if (branches.length === 0) return ops.conv2d(x, convWeight(params, c), param(params, `${c.name}.b`), { relu });
  // The branches join before the ReLU: only a linear sum folds into one conv.
  let y = ops.conv2d(x, convWeight(params, c), param(params, `${c.name}.b`));
  for (const b of branches) y = ops.add(y, b.chain.reduce((t, p) => ops.conv2d(t, param(params, `${p.name}.w`), null), x));
  return relu ? ops.relu(y) : y;
}

/** Looks a conv up by name in an architecture's list, so forward passes and conv lists cannot drift apart. */
export function convTable(convs: ConvDef[]): (name: string) => ConvDef {
  const byName = new Map(convs.map((c) => [c.name, c]));
  return (name) => {
    const c = byName.get(name);
    if (!c) throw new Error(`no conv named '${name}'`);
    return c;
  };
}

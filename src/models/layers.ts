// Building blocks shared by the architectures: a conv that reads its parameters by name, weight-normalised
// or not, as its ConvDef says.
import * as ops from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import type { ConvDef, ParamMap } from './arch.js';

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
  return ops.conv2d(x, convWeight(params, c), param(params, `${c.name}.b`), { relu });
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

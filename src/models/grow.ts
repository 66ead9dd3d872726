// Deepening a trained WDSR-B by one block that starts as the identity (Net2Net's deepening): its 3×3 conv's
// gain and bias are zero (minus its identity branch where it has one), so the grown network computes exactly what
// the trained one did, and training goes on from there with the added capacity. This spends frame time freed
// later (a smaller tail, faster kernels) on a network already trained long, instead of training anew.
import { identityWeight } from '../engine/conv-weights.js';
import { Tensor } from '../engine/tensor.js';
import type { ParamMap } from './arch.js';
import { setConvWeight } from './layers.js';
import { convs, Model } from './model.js';
import { branchesOf } from './reparam.js';
import { validateSpec } from './registry.js';

/** `model` with a block of widths {m1, m2} inserted before its block `at` (its block count: after the last);
 *  the new block's 1×1 convs are initialised as Model.init(…, seed) draws them. */
export function withIdentityBlock(model: Model, at: number, block: { m1: number; m2: number }, seed: number): Model {
  const spec = model.spec;
  if (spec.arch !== 'wdsr-b') throw new Error(`a block can only be added to a wdsr-b network, not ${spec.arch}`);
  const n = spec.blocks.length;
  if (!Number.isInteger(at) || at < 0 || at > n) throw new Error(`a block can go before block 0…${n - 1} or after the last (${n}), not at ${at}`);
  const blocks = [...spec.blocks];
  blocks.splice(at, 0, { m1: block.m1, m2: block.m2 });
  const grown = Model.init(validateSpec({ ...spec, blocks }, 'the grown network'), seed);
  const params: ParamMap = new Map();
  const source = (name: string): string => {
    const m = /^blocks\.(\d+)\.(.*)$/.exec(name);
    if (!m || +m[1] < at) return name;
    return `blocks.${+m[1] - 1}.${m[2]}`;
  };
  const prefix = `blocks.${at}.`;
  // Copies, so that training the grown network leaves `model` as it was.
  const copy = (t: Tensor) => new Tensor(t.data.slice(), t.shape, true);
  for (const [name, t] of grown.params) params.set(name, name.startsWith(prefix) ? t : copy(model.params.get(source(name))!));
  const conv = convs(grown.spec).find((c) => c.name === `${prefix}conv`)!;
  // Model.init leaves each branch's last conv at zero; an identity branch still adds the input, which the
  // conv's own weight then takes off (the weight norm needs a non-zero weight for it anyway).
  if (branchesOf(conv).some((b) => b.kind === 'identity')) {
    setConvWeight(params, conv, identityWeight(conv.k, conv.cin).data.map((v) => -v));
  } else {
    params.set(`${conv.name}.g`, new Tensor(new Float32Array(conv.cout), [conv.cout], true));
  }
  params.set(`${conv.name}.b`, new Tensor(new Float32Array(conv.cout), [conv.cout], true));
  return new Model(grown.spec, params);
}

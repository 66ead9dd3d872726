// FSRCNN-style net (Dong et al., ECCV 2016) on RGB: feature conv5×5 3→d, shrink 1×1 d→s, m × map conv3×3 s→s,
// expand 1×1 s→d, then — unlike the paper's 9×9 deconvolution — a conv3×3 d→3s² and depth-to-space, hence the
// name `fsrcnn-d2s`. ReLU instead of PReLU.
import * as ops from '../engine/ops.js';
import { type Architecture, type ConvDef, intField, scaleField } from './arch.js';
import { applyConv, convTable } from './layers.js';
import { type Reparam, reparamField, withBranches } from './reparam.js';

export interface FsrcnnSpec {
  arch: 'fsrcnn-d2s';
  scale: number;
  d: number;
  s: number;
  m: number;
  reparam?: Reparam;
}

export const fsrcnnD2s: Architecture<FsrcnnSpec> = {
  name: 'fsrcnn-d2s',
  summary: 'FSRCNN body with a depth-to-space tail, RGB, ReLU: {"arch":"fsrcnn-d2s","scale":2,"d":56,"s":12,"m":4}',
  validate: (raw) => ({
    arch: 'fsrcnn-d2s',
    scale: scaleField(raw, 'fsrcnn-d2s'),
    d: intField(raw, 'fsrcnn-d2s', 'd', 1, 1024, 56),
    s: intField(raw, 'fsrcnn-d2s', 's', 1, 1024, 12),
    m: intField(raw, 'fsrcnn-d2s', 'm', 0, 64, 4),
    ...reparamField(raw, 'fsrcnn-d2s'),
  }),
  convs(spec) {
    const plain = (name: string, k: number, cin: number, cout: number): ConvDef => ({ name, k, cin, cout, weightNorm: false });
    return withBranches([
      plain('feature', 5, 3, spec.d),
      plain('shrink', 1, spec.d, spec.s),
      ...Array.from({ length: spec.m }, (_, i) => plain(`map.${i}`, 3, spec.s, spec.s)),
      plain('expand', 1, spec.s, spec.d),
      plain('tail', 3, spec.d, 3 * spec.scale * spec.scale),
    ], spec.reparam);
  },
  forward(spec, params, x) {
    const conv = convTable(this.convs(spec));
    let h = applyConv(params, conv('shrink'), applyConv(params, conv('feature'), x, true), true);
    for (let i = 0; i < spec.m; i++) h = applyConv(params, conv(`map.${i}`), h, true);
    h = applyConv(params, conv('expand'), h, true);
    return ops.depthToSpace(applyConv(params, conv('tail'), h), spec.scale);
  },
};

// ESPCN (Shi et al., CVPR 2016) on RGB: conv5×5 3→f1, conv3×3 f1→f2, conv3×3 f2→3s², depth-to-space.
// ReLU instead of the paper's tanh (rtsr has no tanh op; common re-implementations do the same).
import * as ops from '../engine/ops.js';
import { type Architecture, type ConvDef, intField, scaleField } from './arch.js';
import { applyConv, convTable } from './layers.js';
import { type Reparam, reparamField, withBranches } from './reparam.js';

export interface EspcnSpec {
  arch: 'espcn';
  scale: number;
  f1: number;
  f2: number;
  reparam?: Reparam;
}

export const espcn: Architecture<EspcnSpec> = {
  name: 'espcn',
  summary: 'ESPCN on RGB with ReLU: {"arch":"espcn","scale":2,"f1":64,"f2":32}',
  validate: (raw) => ({
    arch: 'espcn',
    scale: scaleField(raw, 'espcn'),
    f1: intField(raw, 'espcn', 'f1', 1, 1024, 64),
    f2: intField(raw, 'espcn', 'f2', 1, 1024, 32),
    ...reparamField(raw, 'espcn'),
  }),
  convs(spec) {
    const plain = (name: string, k: number, cin: number, cout: number): ConvDef => ({ name, k, cin, cout, weightNorm: false });
    return withBranches([plain('conv1', 5, 3, spec.f1), plain('conv2', 3, spec.f1, spec.f2), plain('conv3', 3, spec.f2, 3 * spec.scale * spec.scale)], spec.reparam);
  },
  forward(spec, params, x) {
    const conv = convTable(this.convs(spec));
    const h = applyConv(params, conv('conv2'), applyConv(params, conv('conv1'), x, true), true);
    return ops.depthToSpace(applyConv(params, conv('conv3'), h), spec.scale);
  },
};

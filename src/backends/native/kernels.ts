// Which kernels exist and what they are called: a spec names a group of kernels that are used together and
// so compiled together (one compiler start per group, or one for everything via precompile).
import type { BinaryKind, UnaryKind } from '../backend.js';
import { convForward, convGradWeight, type ConvGeom } from './codegen-conv.js';
import type { ForwardBlocking, GradWeightBlocking } from './conv-blocking.js';
import { adamKernel, mapKernel, mulChannelsKernel, reduceKernel, shuffleKernel } from './codegen-elementwise.js';
import { wdsrBackward, wdsrForward, type WdsrGeom } from './codegen-wdsr.js';
import type { KernelSource, Target } from './glue.js';
import { type ConvTuning, DEFAULT_WDSR, defaultConvTuning, type WdsrTuning } from './tune.js';

export type KernelSpec =
  /** conv2d, conv2dGradInput and conv2dGradWeight for one geometry (any batch size), blocked as `tuning` says
   *  (default: conv-blocking.ts's defaults). */
  | { readonly op: 'conv'; readonly shape: ConvGeom; readonly tuning?: ConvTuning }
  /** mulChannels and channelSum (with and without b) for c channels. */
  | { readonly op: 'channels'; readonly c: number }
  /** depthToSpace and spaceToDepth for c channels and scale s. */
  | { readonly op: 'shuffle'; readonly c: number; readonly s: number }
  /** The fused WDSR-B expansion (1×1 C→M1, ReLU, 1×1 M1→M2), forward and backward, at `tuning`'s tiles. */
  | { readonly op: 'wdsr'; readonly geom: WdsrGeom; readonly tuning?: WdsrTuning };

export type ConvKind = 'fwd' | 'gin' | 'gw';
/** A blocking as a name suffix: kernels of one geometry but different blockings must not share a name. */
const blockingTag = (b: ForwardBlocking | GradWeightBlocking) =>
  (b.winograd ? `w${b.winograd}` : '') +
  ('taps' in b ? `${b.packing ? 'k' : 'd'}${b.taps}x${b.channels}r${b.rows}` : `${b.packing ? 'k' : 'd'}${b.pixels ?? ''}`) +
  (b.lanes ? `v${b.lanes}` : '');
export const convName = (kind: ConvKind, g: ConvGeom, tuning: ConvTuning) =>
  `conv_${kind}_h${g.h}_w${g.w}_i${g.cin}_o${g.cout}_k${g.k}_${blockingTag(tuning[kind])}`;
export const channelName = (kind: 'mul' | 'sum' | 'sumprod', c: number) => `ch_${kind}_c${c}`;
export const wdsrName = (backward: boolean, g: WdsrGeom, tuning: WdsrTuning) =>
  `wdsr_${backward ? 'bwd' : 'fwd'}_c${g.c}_a${g.m1}_b${g.m2}_t${backward ? tuning.bwd : tuning.fwd}`;
export const shuffleName = (inverse: boolean, c: number, s: number) => `${inverse ? 's2d' : 'd2s'}_c${c}_s${s}`;

const UNARY: Record<UnaryKind, string> = {
  relu: 'a > 0.f ? a : 0.f',
  sign: 'a > 0.f ? 1.f : a < 0.f ? -1.f : a', // Math.sign: ±0 and NaN map to themselves
  neg: '-a',
};
const BINARY: Record<BinaryKind, string> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  reluGrad: 'b > 0.f ? a : 0.f',
};

/** The shape-free kernels: compiled once, with whatever group is compiled first. */
export function baseSources(t: Target): KernelSource[] {
  return [
    ...Object.entries(UNARY).map(([k, e]) => mapKernel(k, 1, e)),
    ...Object.entries(BINARY).map(([k, e]) => mapKernel(k, 2, e)),
    mapKernel('threshold', 1, '(double)a >= t ? 1.f : 0.f', ['t']),
    mapKernel('affine', 1, '(float)(sa * a + sb)', ['sa', 'sb']),
    mapKernel('accumulate', 2, 'a + b', [], true),
    reduceKernel('sum', 1, 'a', 1, t.vw),
    reduceKernel('dist1', 2, 'fabs(a - b)', 1, t.vw),
    reduceKernel('dist2', 2, '(a - b) * (a - b)', 1, t.vw),
    adamKernel('adam'),
  ];
}

/** The name of one base kernel: lets the backend tell whether the base group is loaded. */
export const BASE_PROBE = 'relu';

export function specSources(spec: KernelSpec, t: Target): KernelSource[] {
  switch (spec.op) {
    case 'conv': {
      const g = spec.shape;
      const tuning = spec.tuning ?? defaultConvTuning(g, t);
      return [
        convForward(convName('fwd', g, tuning), g, t, false, tuning.fwd),
        convForward(convName('gin', g, tuning), g, t, true, tuning.gin),
        convGradWeight(convName('gw', g, tuning), g, t, tuning.gw),
      ];
    }
    case 'channels':
      return [
        mulChannelsKernel(channelName('mul', spec.c), spec.c, t.vw),
        reduceKernel(channelName('sum', spec.c), 1, 'a', spec.c, t.vw),
        reduceKernel(channelName('sumprod', spec.c), 2, 'a * b', spec.c, t.vw),
      ];
    case 'shuffle':
      return [false, true].map((inv) => shuffleKernel(shuffleName(inv, spec.c, spec.s), spec.c, spec.s, inv));
    case 'wdsr': {
      const tiles = spec.tuning ?? DEFAULT_WDSR;
      return [
        wdsrForward(wdsrName(false, spec.geom, tiles), spec.geom, t, tiles.fwd),
        wdsrBackward(wdsrName(true, spec.geom, tiles), spec.geom, t, tiles.bwd),
      ];
    }
  }
}

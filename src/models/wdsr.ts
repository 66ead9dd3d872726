// WDSR-B with adaptive blocks, the seed's search space: input − 0.5; head conv3×3 3→C; N blocks of
// [1×1 C→M1, ReLU, 1×1 M1→M2, 3×3 M2→C, + residual]; tail conv3×3 C→3s² plus a global skip conv5×5 3→3s²;
// depth-to-space(s); + 0.5. Every conv is weight-normalised, block convs with the seed's initial gains.
// `luma` trains a luminance body (what Y-PSNR measures; FSRCNN, ESPCN and ECBSR publish Y-only networks): the
// head reads BT.601 Y, the tail's s² outputs go to R, G and B alike, and colour comes from the linear skip. Both
// maps are fixed 1×1 convs: the compiler composes the head's into the head, so the deployed head is the RGB one,
// and turns the tail's into a repeat of its s² outputs over R, G and B, a third of an RGB tail's MACs.
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { type BlockGates, type ChannelGate, composeBlock, wdsrBlock } from '../engine/wdsr-block.js';
import { BT601 } from '../metrics/ycbcr.js';
import { type Architecture, type ConvDef, intField, type ParamMap, scaleField } from './arch.js';
import { applyConv, branchesApart, convTable, convWeight, fixedConv, param, setConvWeight, trainedWeight } from './layers.js';
import { type Reparam, reparamField, withBranches } from './reparam.js';

export interface WdsrSpec {
  arch: 'wdsr-b';
  scale: number;
  channels: number;
  blocks: { m1: number; m2: number }[];
  reparam?: Reparam;
  /** Luminance body: the head reads Y only and the tail's residual is Y only, added alike to R, G and B
   *  (which moves Y and leaves Cb, Cr alone); colour comes from the linear skip. */
  luma?: boolean;
}

const MAX_WIDTH = 1024;
/** 16× the seed's supernet: far beyond any real-time network, and a typo's 100 000 blocks fail here, not in memory. */
export const MAX_BLOCKS = 256;

const blockCount = (n: number) => {
  if (n > MAX_BLOCKS) throw new Error(`wdsr-b spec: at most ${MAX_BLOCKS} blocks, got ${n}`);
  return n;
};

export const wdsrB: Architecture<WdsrSpec> = {
  name: 'wdsr-b',
  summary: 'WDSR-B with per-block widths: {"arch":"wdsr-b","scale":2,"channels":C,"blocks":[{"m1":M1,"m2":M2},…]}',
  validate(raw) {
    const channels = intField(raw, 'wdsr-b', 'channels', 1, MAX_WIDTH);
    if (!Array.isArray(raw.blocks)) throw new Error(`wdsr-b spec: 'blocks' must be an array of {"m1", "m2"}, got ${JSON.stringify(raw.blocks)}`);
    blockCount(raw.blocks.length);
    const blocks = raw.blocks.map((b: unknown, i: number) => {
      if (typeof b !== 'object' || b === null) throw new Error(`wdsr-b spec: blocks[${i}] must be {"m1", "m2"}, got ${JSON.stringify(b)}`);
      const r = b as Record<string, unknown>;
      return { m1: intField(r, `wdsr-b blocks[${i}]`, 'm1', 1, MAX_WIDTH), m2: intField(r, `wdsr-b blocks[${i}]`, 'm2', 1, MAX_WIDTH) };
    });
    if (raw.luma !== undefined && typeof raw.luma !== 'boolean') throw new Error(`wdsr-b spec: 'luma' must be true or false, got ${JSON.stringify(raw.luma)}`);
    return { arch: 'wdsr-b', scale: scaleField(raw, 'wdsr-b'), channels, blocks, ...reparamField(raw, 'wdsr-b'), ...(raw.luma ? { luma: true } : {}) };
  },
  convs(spec) {
    const c = spec.channels;
    const out = 3 * spec.scale * spec.scale;
    const wn = (name: string, k: number, cin: number, cout: number, gInit?: number): ConvDef => ({ name, k, cin, cout, weightNorm: true, gInit });
    const residualGain = 1 / Math.sqrt(Math.max(1, spec.blocks.length));
    return withBranches([
      wn('head', 3, spec.luma ? 1 : 3, c),
      ...spec.blocks.flatMap((b, i) => [
        wn(`blocks.${i}.expand`, 1, c, b.m1, 2),
        wn(`blocks.${i}.reduce`, 1, b.m1, b.m2, 2),
        wn(`blocks.${i}.conv`, 3, b.m2, c, residualGain),
      ]),
      wn('tail', 3, c, spec.luma ? out / 3 : out),
      wn('skip', 5, 3, out),
    ], spec.reparam);
  },
  // A luminance head composes into an RGB head (3→C); its tail stays C→s², repeated into R, G and B by the
  // sum with the skip (compiler/reparam.ts).
  deployedConvs: ({ luma, ...plain }) => wdsrB.convs(plain).map((c) => (luma && c.name === 'tail' ? { ...c, cout: c.cout / 3 } : c)),
  luma: { spec: (spec) => (spec.luma ? spec : { ...spec, luma: true }), params: lumaParams },
  forward: (spec, params, x) => wdsrForward(spec, params, x),
};

/** Where the search's supernet inserts its gates; every hook defaults to the identity / a plain residual. */
export interface WdsrHooks {
  /** The residual stream as block i reads it (i = blocks.length: as the tail reads it). */
  read?(i: number, h: Tensor): Tensor;
  /** A channel gate on the residual stream as every block and the tail read it, as data so that the block
   *  op folds it into its first conv (instead of `read`). */
  inputGate?: ChannelGate;
  /** Block i's width gates on M1 (after the expansion's ReLU) and M2 (after the reduction), as data so that
   *  the fused block op (engine/wdsr-block.ts) applies them. */
  widthGates?(i: number): BlockGates;
  /** Block i's output from its input h and its body's output. */
  merge?(i: number, h: Tensor, body: Tensor): Tensor;
  /** Block i's output from h and h + body, the residual added inside the block op (merge takes precedence). */
  mix?(i: number, h: Tensor, out: Tensor): Tensor;
}

export function wdsrForward(spec: WdsrSpec, params: ParamMap, x: Tensor, hooks: WdsrHooks = {}): Tensor {
  const conv = convTable(wdsrB.convs(spec));
  const ig = hooks.inputGate;
  const read = hooks.read ?? (ig ? (_: number, h: Tensor) => ops.gateChannels(h, ig.gate, ig.mask, ig.worth) : (_: number, h: Tensor) => h);
  const xs = ops.affine(x, 1, -0.5);
  let h = applyConv(params, conv('head'), spec.luma ? ops.conv2d(xs, lumaConv(), null) : xs);
  spec.blocks.forEach((_, i) => {
    const defs = (['expand', 'reduce', 'conv'] as const).map((k) => conv(`blocks.${i}.${k}`));
    // With an input gate the block op gates its input itself (the skip stays ungated).
    const input = ig && !hooks.read ? h : read(i, h);
    const gates = { ...(ig && !hooks.read ? { c: ig } : {}), ...(hooks.widthGates?.(i) ?? {}) };
    // The residual rides in the block op unless a merge hook combines h and the body itself.
    const skip = hooks.merge ? null : h;
    let out: Tensor;
    if (defs.some(branchesApart)) {
      const [expand, reduce, body] = defs.map((d, j) => (t: Tensor) => applyConv(params, d, t, j === 0));
      out = composeBlock(input, skip, { expand, reduce, conv: body }, gates);
    } else {
      const [w1, w2, w3] = defs.map((d) => trainedWeight(params, d));
      const [b1, b2, b3] = defs.map((d) => param(params, `${d.name}.b`));
      out = wdsrBlock(input, skip, { w1, b1, w2, b2, w3, b3 }, gates);
    }
    h = hooks.merge ? hooks.merge(i, h, out) : hooks.mix ? hooks.mix(i, h, out) : out;
  });
  const tail = applyConv(params, conv('tail'), read(spec.blocks.length, h));
  const y = ops.add(spec.luma ? ops.conv2d(tail, rgbConv(spec.scale), null) : tail, applyConv(params, conv('skip'), xs));
  return ops.affine(ops.depthToSpace(y, spec.scale), 1, 0.5);
}

/** BT.601 luma of RGB as a fixed 1×1 conv 3→1 (weights summing to 1), composed into the head when compiled. */
const lumaConv = () => fixedConv({ name: 'head.luma', k: 1, cin: 3, cout: 1, weightNorm: false, branchOf: 'head', fixed: LUMA });
const LUMA = Float32Array.from(BT601.y, (w) => w / 219);

/** A fixed 1×1 conv s²→3s² copying each sub-pixel's value to R, G and B (depth-to-space's channel order);
 *  compiled, the sum it feeds repeats the tail's s² channels instead (compiler/reparam.ts). */
function rgbConv(s: number): Tensor {
  const n = s * s;
  let w = TO_RGB.get(s);
  if (!w) {
    w = new Float32Array(n * 3 * n);
    for (let c = 0; c < 3; c++) for (let p = 0; p < n; p++) w[p * 3 * n + c * n + p] = 1;
    TO_RGB.set(s, w);
  }
  return fixedConv({ name: 'tail.rgb', k: 1, cin: n, cout: 3 * n, weightNorm: false, branchOf: 'tail', fixed: w });
}
const TO_RGB = new Map<number, Float32Array>();

/** A plain network's parameters for its luminance body: the head's weights summed over R, G and B (the luma
 *  weights sum to 1, so grey input meets the same head), the tail's weights and biases averaged over colours. */
function lumaParams(spec: WdsrSpec, params: ParamMap): ParamMap {
  const plain = convTable(wdsrB.convs(spec));
  const body = convTable(wdsrB.convs({ ...spec, luma: true }));
  const n = spec.scale * spec.scale;
  const c = spec.channels;
  const next = new Map(params);
  const head = convWeight(params, plain('head')).data;
  setConvWeight(next, body('head'), Float32Array.from({ length: body('head').k ** 2 * c }, (_, i) => {
    const [t, o] = [Math.floor(i / c), i % c];
    return head[(t * 3 + 0) * c + o] + head[(t * 3 + 1) * c + o] + head[(t * 3 + 2) * c + o];
  }));
  const tail = convWeight(params, plain('tail')).data;
  const mean = (a: Float32Array, at: number, p: number) => (a[at + p] + a[at + n + p] + a[at + 2 * n + p]) / 3;
  setConvWeight(next, body('tail'), Float32Array.from({ length: body('tail').k ** 2 * c * n }, (_, i) => mean(tail, Math.floor(i / n) * 3 * n, i % n)));
  next.set('tail.b', new Tensor(Float32Array.from({ length: n }, (_, p) => mean(param(params, 'tail.b').data, 0, p)), [n], true));
  return next;
}

/** The seed's uniform block: M1 = 6C, M2 = ⌊0.84·C⌋. */
export function uniformWdsr(scale: number, blocks: number, channels: number): WdsrSpec {
  const m2 = Math.max(1, Math.floor(0.84 * channels));
  return { arch: 'wdsr-b', scale, channels, blocks: Array.from({ length: blockCount(blocks) }, () => ({ m1: 6 * channels, m2 })) };
}

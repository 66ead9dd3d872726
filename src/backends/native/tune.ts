// Choosing the training kernels' blocking on the machine they run on: the defaults (conv-blocking.ts, the fused
// block's tile) were measured where they were written, and a CPU with other caches, ports or register pressure
// may want others. Per conv geometry, every candidate of the three kernels is compiled into one module per
// vector width among them (one compiler run, two where narrower vectors are candidates), timed on synthetic
// tensors at the batch size of the first call, interleaved over rounds, each keeping its fastest run (noise
// only ever adds time), at the threads training uses; then the weight gradient's rows per tile for the register
// block chosen (one more module; none when Winograd's kernel is chosen). Per fused WDSR-B geometry, the same for its
// two kernels' tile sizes. Choices are cached on disk per (geometry, CPU, compiler) beside the inference
// tuner's, with every measurement that led to them.
import type { ConvGeom, ForwardBlocking, GradWeightBlocking } from './conv-blocking.js';
import { DEFAULT_FORWARD, defaultGradWeight, forwardCandidates, gradWeightCandidates, gradWeightRows } from './conv-blocking.js';
import { convForward, convGradWeight } from './codegen-conv.js';
import { WDSR_TILE, wdsrBackward, wdsrForward, type WdsrGeom } from './codegen-wdsr.js';
import { loadKernels, loadModule, type Toolchain } from './compile.js';
import { moduleSource, type Target } from './glue.js';
import { cacheEntry, readChoice, writeChoice } from '../../targets/native/tune.js';
import { fastestRuns } from '../../util/fastest.js';
import { Rng } from '../../util/random.js';

export interface ConvTuning {
  readonly fwd: ForwardBlocking;
  readonly gin: ForwardBlocking;
  readonly gw: GradWeightBlocking;
}

/** The fused WDSR-B expansion's pixels per tile, forward and backward. */
export interface WdsrTuning {
  readonly fwd: number;
  readonly bwd: number;
}

/** Bumped whenever the generated code or the meaning of a blocking changes, so stale choices are not reused. */
const TRAIN_TUNING_VERSION = 5;

/** A call below this many multiply-adds takes well under a millisecond whatever the blocking (a net's 3-channel
 *  head, test-sized shapes): not worth a compiler run and the timing. */
export const MIN_TUNED_MACS = 5e7;

/** Tiles to try, the default first: the tile's x, dz, u and du must stay in L1 while every product sweeps it,
 *  and L1 sizes differ. */
export const WDSR_TILES = [WDSR_TILE, 16, 24, 48, 64];
export const DEFAULT_WDSR: WdsrTuning = { fwd: WDSR_TILE, bwd: WDSR_TILE };

/** Of two candidates, a later one must beat the default by this share to be chosen: the rounds' minimum still
 *  carries a little noise, and the default is the blocking measured best where it was written. */
const MARGIN = 0.03;

export const defaultConvTuning = (g: ConvGeom, t: Target): ConvTuning => ({ fwd: DEFAULT_FORWARD, gin: DEFAULT_FORWARD, gw: defaultGradWeight(g, t) });

export interface ConvCandidates {
  readonly fwd: readonly ForwardBlocking[];
  readonly gin: readonly ForwardBlocking[];
  readonly gw: readonly GradWeightBlocking[];
}

export const convCandidates = (g: ConvGeom, t: Target): ConvCandidates => ({
  fwd: forwardCandidates(g, t, false),
  gin: forwardCandidates(g, t, true),
  gw: gradWeightCandidates(g, t),
});

/** Lookups of the on-disk cache in this process; `measured` counts geometries timed afresh. */
export const trainTuneStats = { hits: 0, measured: 0 };

export interface TrainTuneEnv {
  readonly tc: Toolchain;
  readonly target: Target;
  readonly cacheDir: string;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

function isChoice(x: unknown, g: ConvGeom, c: ConvCandidates): x is ConvTuning {
  if (typeof x !== 'object' || x === null) return false;
  const { fwd, gin, gw } = x as Record<string, unknown>;
  const gws = c.gw.flatMap((b) => gradWeightRows(g).map((rows) => ({ ...b, rows })));
  return c.fwd.some((b) => same(b, fwd)) && c.gin.some((b) => same(b, gin)) && gws.some((b) => same(b, gw));
}

/** The candidate to keep of `list` timed `ms`: the fastest, if it beats the first (the default) by MARGIN. */
function pick<B>(list: readonly B[], ms: readonly number[]): B {
  const best = ms.indexOf(Math.min(...ms));
  return ms[best] < ms[0] * (1 - MARGIN) ? list[best] : list[0];
}

/** The choice cached for `what` (keyed with the target and the tuning version; `w` picks the width class), if a
 *  tuner could have made it, else measured and cached with the measurements that led to it. */
function cachedOrMeasured<C>(what: object, w: number, env: TrainTuneEnv, valid: (x: unknown) => x is C, measure: () => { choice: C; log: unknown[] }): C {
  const t = env.target;
  const entry = cacheEntry({ ...what, lanes: t.vw, registers: t.nreg, version: TRAIN_TUNING_VERSION }, w, { tc: env.tc, cacheDir: env.cacheDir });
  const cached = readChoice(entry, valid);
  if (cached) {
    trainTuneStats.hits++;
    return cached;
  }
  const { choice, log } = measure();
  trainTuneStats.measured++;
  writeChoice(entry, choice, log);
  return choice;
}

/** The blocking for a conv of geometry `g` at batch `n`: the default for small work, else cached, else measured
 *  here (and cached). */
export function tuneConv(g: ConvGeom, n: number, env: TrainTuneEnv): ConvTuning {
  const t = env.target;
  if (n * g.h * g.w * g.cin * g.cout * g.k * g.k < MIN_TUNED_MACS) return defaultConvTuning(g, t);
  const cands = convCandidates(g, t);
  return cachedOrMeasured({ trainConv: g }, g.w, env, (x): x is ConvTuning => isChoice(x, g, cands), () => {
    const first = timeCandidates(g, n, cands, env);
    const block = pick(cands.gw, first.gw);
    const log = (c: ConvCandidates, ms: Record<keyof ConvCandidates, number[]>) =>
      (['fwd', 'gin', 'gw'] as const).flatMap((kind) => c[kind].map((b, i) => ({ kind, blocking: b, ms: ms[kind][i] })));
    const fwd = { fwd: pick(cands.fwd, first.fwd), gin: pick(cands.gin, first.gin) };
    // Rows per tile mean nothing to Winograd's kernel, which walks chunks of tiles.
    if (block.winograd) return { choice: { ...fwd, gw: block }, log: log(cands, first) };
    const tiles = { fwd: [], gin: [], gw: gradWeightRows(g).map((rows) => ({ ...block, rows })) };
    const second = timeCandidates(g, n, tiles, env);
    return { choice: { ...fwd, gw: pick(tiles.gw, second.gw) }, log: [...log(cands, first), ...log(tiles, second)] };
  });
}

/** The tiles for a fused WDSR-B expansion of geometry `g` over n samples of hw pixels: as tuneConv. */
export function tuneWdsr(g: WdsrGeom, n: number, hw: number, env: TrainTuneEnv): WdsrTuning {
  if (n * hw * (g.c * g.m1 + g.m1 * g.m2) < MIN_TUNED_MACS) return DEFAULT_WDSR;
  const valid = (x: unknown): x is WdsrTuning =>
    typeof x === 'object' && x !== null && WDSR_TILES.includes((x as WdsrTuning).fwd) && WDSR_TILES.includes((x as WdsrTuning).bwd);
  // Keyed by the pixels a sample as a width: the tile's fit does not depend on the image's shape.
  return cachedOrMeasured({ trainWdsr: g }, hw, env, valid, () => {
    const ms = timeWdsr(g, n, hw, env);
    return {
      choice: { fwd: pick(WDSR_TILES, ms.fwd), bwd: pick(WDSR_TILES, ms.bwd) },
      log: WDSR_TILES.flatMap((tile, i) => [{ kind: 'fwd', tile, ms: ms.fwd[i] }, { kind: 'bwd', tile, ms: ms.bwd[i] }]),
    };
  });
}

/** Each tile's fastest time (ms), forward and backward, on seeded values. */
function timeWdsr(g: WdsrGeom, n: number, hw: number, env: TrainTuneEnv): { fwd: number[]; bwd: number[] } {
  const t = env.target;
  const sources = WDSR_TILES.flatMap((tile, i) => [wdsrForward(`tune_f${i}`, g, t, tile), wdsrBackward(`tune_b${i}`, g, t, tile)]);
  const mod = loadModule(moduleSource(t, sources), env.tc, env.cacheDir);
  const px = n * hw;
  const random = seeded();
  const x = random(px * g.c), dz = random(px * g.m2), w1 = random(g.c * g.m1), b1 = random(g.m1), w2 = random(g.m1 * g.m2), b2 = random(g.m2);
  const z = new Float32Array(px * g.m2), dx = new Float32Array(px * g.c), dw1 = new Float32Array(w1.length), db1 = new Float32Array(g.m1);
  const dw2 = new Float32Array(n * g.m1 * g.m2), db2 = new Float32Array(n * g.m2);
  const fwd = (i: number) => mod.call(2 * i, x, w1, b1, w2, b2, z, px);
  const bwd = (i: number) => mod.call(2 * i + 1, x, dz, w1, b1, w2, dx, dw1, db1, dw2, db2, null, n, hw);
  WDSR_TILES.forEach((_, i) => (fwd(i), bwd(i)));
  return { fwd: fastestRuns(WDSR_TILES.length, 9, fwd), bwd: fastestRuns(WDSR_TILES.length, 9, bwd) };
}

/** A generator of seeded values in [−1, 1): what the kernels are timed on. */
function seeded(): (len: number) => Float32Array {
  const rng = new Rng(1);
  return (len) => rng.fill(new Float32Array(len), () => rng.uniform(-1, 1));
}

/** Each candidate's fastest time (ms), per kernel (none where a kernel has a single candidate), on seeded values. */
function timeCandidates(g: ConvGeom, n: number, c: ConvCandidates, env: TrainTuneEnv): Record<keyof ConvCandidates, number[]> {
  const t = env.target;
  const sources = [
    ...c.fwd.map((b, i) => convForward(`tune_fwd${i}`, g, t, false, b)),
    ...c.gin.map((b, i) => convForward(`tune_gin${i}`, g, t, true, b)),
    ...c.gw.map((b, i) => convGradWeight(`tune_gw${i}`, g, t, b)),
  ];
  const kernel = loadKernels(t, sources, env.tc, env.cacheDir);
  const px = n * g.h * g.w;
  const random = seeded();
  const x = random(px * g.cin), dy = random(px * g.cout), w = random(g.k * g.k * g.cin * g.cout), b = random(g.cout);
  const y = new Float32Array(px * g.cout), dx = new Float32Array(px * g.cin), dw = new Float32Array(w.length);
  const at = { fwd: 0, gin: c.fwd.length, gw: c.fwd.length + c.gin.length };
  const call = (kind: keyof ConvCandidates, i: number) => {
    const k = at[kind] + i;
    if (kind === 'fwd') kernel[k](x, w, b, y, null, n, 1);
    else if (kind === 'gin') kernel[k](dy, w, null, dx, null, n, 0);
    else kernel[k](x, dy, dw, n);
  };
  const out = {} as Record<keyof ConvCandidates, number[]>;
  for (const kind of ['fwd', 'gin', 'gw'] as const) {
    const count = c[kind].length;
    if (count <= 1) {
      out[kind] = [0];
      continue;
    }
    for (let i = 0; i < count; i++) call(kind, i); // first touch of the outputs, the kernels' code paged in
    out[kind] = fastestRuns(count, 9, (i) => call(kind, i));
  }
  return out;
}

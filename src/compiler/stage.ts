// A fused stage as every target sees it: the shape its code depends on (weights are a runtime argument), the
// blocking choices a target may tune, and the weight blob laid out as kernels read it. Target-free: no
// `node:*`, so it runs in a browser too.
import { hashHex } from '../util/hash.js';
import { INPUT, type StageNode } from './ir.js';

/** Input element type of the raw RGB frame and output element type of a final (shuffling) stage. */
export type Io = 'f32' | 'u8';

/** Everything the C code of a stage depends on; weights are a runtime argument. */
export interface StageShape {
  readonly terms: readonly {
    /** 'raw': the RGB input frame (HWC, Io); 'planar': a previous stage's output. */
    readonly source: 'raw' | 'planar';
    readonly chain: readonly { readonly cin: number; readonly cout: number; readonly relu: boolean }[];
    readonly k: number;
    readonly cin: number;
  }[];
  readonly cout: number;
  readonly relu: boolean;
  readonly residual: boolean;
  /** Channels of a repeated residual (ir.ts StageNode); absent when it has cout, so other shapes keep their
   *  kernel names and stored tunings. */
  readonly residualChannels?: number;
  readonly shuffle: number;
  readonly io: Io;
}

/** Channels of a stage's residual value: row strides and which channel output o reads (o mod this). */
export const residualChannels = (s: StageShape): number => s.residualChannels ?? s.cout;

/** Loop and blocking choices; every choice computes bit-identical results (same order of additions). */
export interface StageTuning {
  /** k×k conv register block: output channels × pixel vectors. */
  readonly ob: number;
  readonly pb: number;
  /** 'xo': pixel blocks outside, output-channel blocks inside (inputs stay in L1); 'ox': the reverse
   *  (weights stay in L1 while the ring rows stream from L2). */
  readonly order: 'xo' | 'ox';
  /** Chain tile width in pixels (a multiple of VW) and the chain's register block. */
  readonly tp: number;
  readonly cob: number;
  readonly cpb: number;
}

export function stageShape(st: StageNode, io: Io): StageShape {
  // Only stages that touch the frame (read the raw input or store the output) depend on its element type.
  const touchesFrame = st.shuffle > 1 || st.terms.some((t) => t.x === INPUT);
  return {
    terms: st.terms.map((t) => ({ source: t.x === INPUT ? 'raw' : 'planar', chain: t.chain.map(({ cin, cout, relu }) => ({ cin, cout, relu })), k: t.k, cin: t.cin })),
    cout: st.terms[0].cout,
    relu: st.relu,
    residual: st.residual !== null,
    ...(st.residualChannels === undefined ? {} : { residualChannels: st.residualChannels }),
    shuffle: st.shuffle,
    io: touchesFrame ? io : 'f32',
  };
}

/** Offsets into a stage's weight blob: per term its pad value, its chain's weights and biases ([cin][cout],
 *  [cout]) and its conv weights (HWIO); then the stage bias. */
export interface BlobLayout {
  terms: { pad: number; chain: { w: number; b: number }[]; w: number }[];
  bias: number;
  size: number;
}

export function blobLayout(s: StageShape): BlobLayout {
  let at = 0;
  const take = (n: number) => ((at += n), at - n);
  const terms = s.terms.map((t) => ({
    pad: take(1),
    chain: t.chain.map((p) => ({ w: take(p.cin * p.cout), b: take(p.cout) })),
    w: take(t.k * t.k * t.cin * s.cout),
  }));
  const bias = take(s.cout);
  return { terms, bias, size: at };
}

/** The stage's weights laid out as its kernel reads them. */
export function packStage(st: StageNode): Float32Array {
  const L = blobLayout(stageShape(st, 'f32'));
  const blob = new Float32Array(L.size);
  st.terms.forEach((t, i) => {
    blob[L.terms[i].pad] = t.pad;
    t.chain.forEach((p, j) => {
      blob.set(p.w, L.terms[i].chain[j].w);
      blob.set(p.b, L.terms[i].chain[j].b);
    });
    blob.set(t.w, L.terms[i].w);
  });
  blob.set(st.b, L.bias);
  return blob;
}

/** A name for the kernel of (shape, tuning): equal stages share one kernel. */
export function stageKernelName(s: StageShape, t: StageTuning): string {
  return `stage_${hashHex(JSON.stringify([s, t])).slice(0, 16)}`;
}

/** What a target's vectors offer a stage's register blocks: float lanes per vector, vector registers. */
export interface StageLimits {
  readonly vw: number;
  readonly nreg: number;
}

// The tuning space, target-free so that every target (and a browser) searches the same one as native's tuner.

/** The largest register block of `per` pixel vectors that leaves room for the loads: acc + loads + 2 ≤ nreg. */
export const blockFor = (l: StageLimits, per: number): number => Math.max(1, Math.floor((l.nreg - 2 - per) / per));

/** The untuned choice: a 4-vector-wide block with 32 registers (2-wide with 16), pixel blocks outside, 64-pixel
 *  chain tiles. */
export function defaultTuning(l: StageLimits): StageTuning {
  const pb = l.nreg >= 32 ? 4 : 2;
  return { ob: blockFor(l, pb), pb, order: 'xo', tp: Math.max(l.vw, 64), cob: blockFor(l, pb), cpb: pb };
}

const pixelBlocks = (l: StageLimits) => [2, 3, 4].filter((p) => blockFor(l, p) >= 2);
const chainTiles = (l: StageLimits) => [2, 4, 8].map((v) => v * l.vw);

/** Whether `x` is a tuning a tuner could have chosen: a stored value is trusted only then. */
export function isTuningCandidate(x: unknown, l: StageLimits): x is StageTuning {
  const d = defaultTuning(l);
  const u = x as Record<string, unknown> | null;
  if (typeof u !== 'object' || u === null || Object.keys(u).sort().join() !== Object.keys(d).sort().join()) return false;
  const pbs = [d.pb, ...pixelBlocks(l)];
  return (
    pbs.includes(u.pb as number) && u.ob === blockFor(l, u.pb as number) && (u.order === 'xo' || u.order === 'ox') &&
    pbs.includes(u.cpb as number) && u.cob === blockFor(l, u.cpb as number) && [d.tp, ...chainTiles(l)].includes(u.tp as number)
  );
}

/** The coordinate-wise search: the conv's register block and loop order, then (with a chain) the chain's
 *  register block, then its tile width; each round proposes candidates around the best so far. */
export function tuningRounds(s: StageShape, l: StageLimits): ((best: StageTuning) => StageTuning[])[] {
  const widths = pixelBlocks(l);
  const r: ((best: StageTuning) => StageTuning[])[] = [
    (b) => widths.flatMap((pb) => (['xo', 'ox'] as const).map((order) => ({ ...b, ob: blockFor(l, pb), pb, order }))),
  ];
  if (s.terms.some((x) => x.chain.length > 0))
    r.push(
      (b) => widths.map((cpb) => ({ ...b, cob: blockFor(l, cpb), cpb })),
      (b) => chainTiles(l).map((tp) => ({ ...b, tp })),
    );
  return r;
}

/** Tunings are keyed by the row length in vectors rounded up to a power of two: remainders of the pixel blocks
 *  matter for narrow frames, the exact width beyond that does not. */
export function widthClass(w: number, vw: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(w / vw))));
}

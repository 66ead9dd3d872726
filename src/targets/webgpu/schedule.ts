// A stage's GPU schedule: each workgroup computes a tile of TW×TH output pixels (at the stage's input
// resolution) with one thread per pixel and channel group: the output channels split into balanced groups of
// at most OB. The k×k conv input of the tile and its halo sit in workgroup memory, one term at a time;
// a frame-writing stage reuses that memory to gather its depth-to-space output so that every thread stores
// whole 32-bit words (four bytes of a uint8 frame) and no two workgroups ever share a word.
import type { StageShape } from '../../compiler/stage.js';
import type { Precision } from '../target.js';
import type { GpuLimits } from './gpu.js';

export interface GpuTuning {
  /** Tile width (a multiple of 4, so a uint8 tile row is whole words) and height, in output pixels. */
  readonly tw: number;
  readonly th: number;
  /** The most output channels one thread accumulates. */
  readonly ob: number;
}

export interface Workgroup {
  /** Channel groups and the channels in each (the last may run past cout: its extra channels are discarded). */
  readonly groups: number;
  readonly ob: number;
  readonly threads: number;
  /** Floats of workgroup memory: the widest term's halo tile, or the gathered output of a frame stage. */
  readonly smem: number;
}

export function workgroupOf(s: StageShape, t: GpuTuning): Workgroup {
  const groups = Math.ceil(s.cout / t.ob);
  const halo = Math.max(...s.terms.map((x) => x.cin * (t.tw + x.k - 1) * (t.th + x.k - 1)));
  return {
    groups,
    ob: Math.ceil(s.cout / groups),
    threads: t.tw * t.th * groups,
    smem: Math.max(halo, s.shuffle > 1 ? t.tw * t.th * s.cout : 0),
  };
}

/** Bytes of one stored element (weights, activations, workgroup memory) at a precision. */
export const elementBytes = (p: Precision): number => (p === 'f16' ? 2 : 4);

export function fits(s: StageShape, t: GpuTuning, l: GpuLimits, p: Precision = 'f32'): boolean {
  const g = workgroupOf(s, t);
  return g.threads <= Math.min(l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX) && elementBytes(p) * g.smem <= l.maxComputeWorkgroupStorageSize;
}

/** Tiles from the widest (least halo recomputed: the chain runs once per halo pixel) down to one word of bytes. */
const TILES: readonly [number, number][] = [
  [16, 16],
  [16, 8],
  [8, 8],
  [8, 4],
  [4, 4],
  [4, 2],
  [4, 1],
];

/** Channels a thread may accumulate: fewer give more threads a pixel (more parallel work for small tiles), more
 *  reuse each workgroup-memory read over more channels. */
const CHANNEL_GROUPS = [4, 8, 16, 32, 64];

/** The smallest tile: the most workgroups a dispatch of any schedule has (the runner checks those fit). */
export const SMALLEST_TILE = { tw: 4, th: 1 } as const;

/** The untuned schedule: up to 8 channels a thread, in the widest tile that fits the device. */
export function defaultTuning(s: StageShape, l: GpuLimits, p: Precision = 'f32'): GpuTuning {
  for (const ob of CHANNEL_GROUPS.slice(1))
    for (const [tw, th] of TILES) {
      const t = { tw, th, ob };
      if (fits(s, t, l, p)) return t;
    }
  const cin = Math.max(...s.terms.map((x) => x.cin));
  throw new Error(`webgpu: no workgroup tile fits this device for a stage with ${cin} conv inputs (workgroup memory ${l.maxComputeWorkgroupStorageSize} bytes)`);
}

/** Whether `x` is a schedule the tuner could have chosen for this stage on this device: a stored value is
 *  trusted only then. */
export function isGpuCandidate(x: unknown, s: StageShape, l: GpuLimits, p: Precision = 'f32'): x is GpuTuning {
  const u = x as Record<string, unknown> | null;
  if (typeof u !== 'object' || u === null || Object.keys(u).sort().join() !== 'ob,th,tw') return false;
  const t = u as unknown as GpuTuning;
  return TILES.some(([tw, th]) => tw === t.tw && th === t.th) && CHANNEL_GROUPS.includes(t.ob) && fits(s, t, l, p);
}

/** Every schedule of the space that fits, one per distinct workgroup (channel-group sizes past cout coincide). */
export function candidates(s: StageShape, l: GpuLimits, p: Precision = 'f32'): GpuTuning[] {
  const all = TILES.flatMap(([tw, th]) => CHANNEL_GROUPS.map((ob) => ({ tw, th, ob })));
  return distinct(s, all.filter((t) => fits(s, t, l, p)));
}

/** The coordinate-wise search: the tile with the best channel group so far, then the channel group in the best
 *  tile; each round proposes the candidates that fit. */
export function tuningRounds(s: StageShape, l: GpuLimits, p: Precision = 'f32'): ((best: GpuTuning) => GpuTuning[])[] {
  const fitting = (ts: GpuTuning[]) => distinct(s, ts.filter((t) => fits(s, t, l, p)));
  return [(b) => fitting(TILES.map(([tw, th]) => ({ ...b, tw, th }))), (b) => fitting(CHANNEL_GROUPS.map((ob) => ({ ...b, ob })))];
}

function distinct(s: StageShape, ts: GpuTuning[]): GpuTuning[] {
  return [...new Map(ts.map((t) => [JSON.stringify([t.tw, t.th, workgroupOf(s, t).ob]), t])).values()];
}

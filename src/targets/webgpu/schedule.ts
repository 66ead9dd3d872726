// A stage's GPU schedule: each workgroup computes a tile of TW×TH output pixels (at the stage's input
// resolution) with one thread per pixel and channel group: the output channels split into balanced groups of
// at most OB. The k×k conv input of the tile and its halo sit in workgroup memory, one term at a time;
// a frame-writing stage reuses that memory to gather its depth-to-space output so that every thread stores
// whole 32-bit words (four bytes of a uint8 frame) and no two workgroups ever share a word.
import type { StageShape } from '../../compiler/stage.js';
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

export function fits(s: StageShape, t: GpuTuning, l: GpuLimits): boolean {
  const g = workgroupOf(s, t);
  return g.threads <= Math.min(l.maxComputeInvocationsPerWorkgroup, l.maxComputeWorkgroupSizeX) && 4 * g.smem <= l.maxComputeWorkgroupStorageSize;
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

/** The schedule (no tuner yet): up to 8 channels a thread, in the widest tile that fits the device. */
export function defaultTuning(s: StageShape, l: GpuLimits): GpuTuning {
  for (const ob of [8, 16, 32, 64])
    for (const [tw, th] of TILES) {
      const t = { tw, th, ob };
      if (fits(s, t, l)) return t;
    }
  const cin = Math.max(...s.terms.map((x) => x.cin));
  throw new Error(`webgpu: no workgroup tile fits this device for a stage with ${cin} conv inputs (workgroup memory ${l.maxComputeWorkgroupStorageSize} bytes)`);
}

// Where each fused stage reads and writes: the caller's frame for the graph's input and output, otherwise a
// buffer slot reused as soon as the value it holds is dead. Target-free: every target that runs stages in
// order allocates its buffers from this plan (sized per slot by its widest value).
import { stagesOf } from './fuse.js';
import { channelsOf, type Graph, INPUT, type StageNode } from './ir.js';
import { packStage } from './stage.js';

/** The caller's frame, or buffer slot i. */
export type Place = 'frame' | number;

export interface PlannedStage {
  readonly node: StageNode;
  /** The stage's weights as its kernel reads them (stage.ts). */
  readonly blob: Float32Array;
  readonly inputs: readonly Place[];
  readonly residual: Place | null;
  readonly out: Place;
}

export interface StagePlan {
  readonly stages: readonly PlannedStage[];
  /** Channels of the widest value each slot holds. */
  readonly slotChannels: readonly number[];
}

export function planStages(graph: Graph): StagePlan {
  const stages = stagesOf(graph);
  const channels = channelsOf(graph);
  const lastUse = new Map<number, number>();
  stages.forEach((s, i) => [...s.terms.map((t) => t.x), ...(s.residual === null ? [] : [s.residual])].forEach((v) => lastUse.set(v, i)));
  const slotChannels: number[] = [];
  const slotOf = new Map<number, number>();
  const place = (v: number): Place => (v === INPUT ? 'frame' : slotOf.get(v)!);
  const planned = stages.map((node, i): PlannedStage => {
    const inputs = node.terms.map((t) => place(t.x));
    const residual = node.residual === null ? null : place(node.residual);
    let out: Place = 'frame';
    if (node.y !== graph.output) {
      // A slot is free once its value's last reader has run; a stage never writes a slot it reads.
      const busy = new Set([...slotOf].filter(([v]) => lastUse.get(v)! >= i).map(([, s]) => s));
      let s = slotChannels.findIndex((_, j) => !busy.has(j));
      if (s < 0) s = slotChannels.push(0) - 1;
      slotChannels[s] = Math.max(slotChannels[s], channels.get(node.y)!);
      for (const [v, sv] of slotOf) if (sv === s) slotOf.delete(v);
      slotOf.set(node.y, s);
      out = s;
    }
    return { node, blob: packStage(node), inputs, residual, out };
  });
  return { stages: planned, slotChannels };
}

/** Bands of rows handed out dynamically to a stage's threads (every CPU target): several per thread, so a thread
 *  slowed by another process does less of the work, but not so many that the chain rows recomputed at band
 *  edges (2r per band) add up. */
export function bandsFor(rows: number, threads: number): number {
  return Math.max(1, Math.min(rows, threads === 1 ? 1 : 4 * threads, Math.floor(rows / 8)));
}

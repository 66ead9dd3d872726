// The speed model predicts a network as the sum of its blocks' and fixed parts' profiled times; a whole
// compiled network runs 7–14 % slower here (docs/search.md), so a budget met by prediction alone is missed by
// that much. Before the gated stages the search therefore times one network of its own space, sized near the
// budget, and aims the speed model at budget × predicted / measured. Saved in the output folder, so a resumed
// search keeps the target its stages started with.
import { existsSync, readFileSync } from 'node:fs';
import type { WdsrSpec } from '../models/wdsr.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type LatencyPredictor, specMs } from './latency-loss.js';
import { MIN_CHANNELS } from './supernet.js';

export interface Calibration {
  budget_ms: number;
  /** The network timed: uniform blocks within the supernet's widths, predicted closest to the budget. */
  reference: WdsrSpec;
  predicted_ms: number;
  measured_ms: number;
  /** What the search aims the speed model at: budget_ms × predicted_ms / measured_ms. */
  target_ms: number;
}

/** The seed's uniform block shape (M1 = 6C, M2 = ⌊0.84C⌋) clipped to the supernet's widths, at the depth and C
 *  (at least MIN_CHANNELS) whose prediction is closest to the budget. */
export function referenceSpec(supernet: WdsrSpec, budgetMs: number, p: LatencyPredictor): WdsrSpec {
  const m1Max = Math.max(...supernet.blocks.map((b) => b.m1));
  const m2Max = Math.max(...supernet.blocks.map((b) => b.m2));
  let best: { spec: WdsrSpec; miss: number } | null = null;
  for (let depth = 1; depth <= supernet.blocks.length; depth++) {
    for (let c = MIN_CHANNELS; c <= supernet.channels; c++) {
      const block = { m1: Math.min(6 * c, m1Max), m2: Math.min(Math.max(MIN_CHANNELS, Math.floor(0.84 * c)), m2Max) };
      const spec: WdsrSpec = { arch: 'wdsr-b', scale: supernet.scale, channels: c, blocks: Array.from({ length: depth }, () => ({ ...block })) };
      const miss = Math.abs(specMs(spec, p) - budgetMs);
      if (!best || miss < best.miss) best = { spec, miss };
    }
  }
  return best!.spec;
}

/** The saved calibration for this budget, else the reference timed now (`time`: its measured milliseconds). */
export async function calibrate(path: string, supernet: WdsrSpec, budgetMs: number, p: LatencyPredictor, time: (spec: WdsrSpec) => Promise<number>, log: (line: string) => void): Promise<Calibration> {
  if (existsSync(path)) {
    let saved: Calibration | null = null;
    try {
      saved = JSON.parse(readFileSync(path, 'utf8')) as Calibration;
    } catch (err) {
      log(`${path}: unreadable (${(err as Error).message}); timing the reference again`);
    }
    if (saved && saved.budget_ms === budgetMs && saved.target_ms > 0) return saved;
    if (saved) log(`${path} was made for a ${saved.budget_ms} ms budget, not ${budgetMs}: timing the reference again`);
  }
  const reference = referenceSpec(supernet, budgetMs, p);
  const predicted = specMs(reference, p);
  const measured = await time(reference);
  if (!(measured > 0)) throw new Error(`calibration: timing ${JSON.stringify(reference)} gave ${measured} ms`);
  const cal: Calibration = { budget_ms: budgetMs, reference, predicted_ms: predicted, measured_ms: measured, target_ms: (budgetMs * predicted) / measured };
  // Whole networks have measured 1.07–1.14× their prediction here; far off, the timing itself is suspect.
  const ratio = measured / predicted;
  if (ratio > 1.5 || ratio < 1 / 1.5) log(`calibration: the reference ran ${ratio.toFixed(2)}× its predicted time; is the machine busy? the target follows this timing (delete ${path} to time it again)`);
  writeFileAtomic(path, JSON.stringify(cal, null, 2) + '\n');
  return cal;
}

/** Throws, before any training, when even the narrowest network of the space — C = MIN_CHANNELS and every
 *  block skipped — is predicted over the calibrated target: the search could only end over the budget. */
export function assertReachable(cal: Calibration, p: LatencyPredictor): void {
  const smallest: WdsrSpec = { ...cal.reference, channels: MIN_CHANNELS, blocks: [] };
  const ms = specMs(smallest, p);
  if (ms > cal.target_ms) {
    throw new Error(
      `a ${cal.budget_ms} ms budget is out of reach here: the narrowest network of the search space (C ${MIN_CHANNELS}, no blocks) is predicted at ` +
        `${ms.toFixed(2)} ms, and the budget became ${cal.target_ms.toFixed(2)} ms predicted (the reference was predicted at ${cal.predicted_ms.toFixed(1)} ms and measured ${cal.measured_ms.toFixed(1)} ms); ` +
        'raise --budget-ms or lower --input (or, if the machine was busy when the reference was timed, delete calibration.json in the output folder)',
    );
  }
}

/** Throws, before any training, when the whole space fits the budget: the supernet itself is predicted under the
 *  calibrated target, so the search has nothing to choose and could only hand back the supernet. */
export function assertBelowSupernet(cal: Calibration, supernet: WdsrSpec, p: LatencyPredictor): void {
  const ms = specMs(supernet, p);
  if (ms > cal.target_ms) return;
  const measured = (ms * cal.measured_ms) / cal.predicted_ms;
  throw new Error(
    `a ${cal.budget_ms} ms budget exceeds the whole search space: its largest network, the supernet (${supernet.blocks.length} blocks, C ${supernet.channels}), ` +
      `is predicted at ${ms.toFixed(1)} ms (≈ ${measured.toFixed(1)} ms measured here), under the ${cal.target_ms.toFixed(1)} ms predicted the budget became; ` +
      `there is nothing to search: lower --budget-ms under ≈ ${measured.toFixed(1)} ms, or train that network directly (rtsr train --arch '${JSON.stringify(supernet)}')`,
  );
}

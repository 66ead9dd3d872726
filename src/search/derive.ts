// From the joint stage's gates to the network the fine-tune stage trains: trimmed or filled to the predicted-ms
// target (never empty while a block fits), then, where the search can time it, measured: the speed model and its
// calibration err by a few per cent, so a network measured over the budget is derived again at a target lowered by
// its overshoot (from the joint stage's gates each time). The target used is kept in derived.json, so a resumed
// fine-tune derives the same network without timing anything.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../engine/tensor.js';
import type { Model } from '../models/model.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { writeFileAtomic } from '../util/atomic.js';
import { type LatencyPredictor, fillToBudget, keepOneBlock, narrowestOneBlock, predictedMs, specMs, trimToBudget } from './latency-loss.js';
import type { Supernet } from './supernet.js';

/** A network's measured time over the budget (1 = exactly the budget). */
export type OverBudget = (model: Model) => Promise<number>;

/** Derivations after the first: each measured overshoot lowers the target, rarely more than once. */
const MAX_REDERIVES = 3;
/** Aim this far under the measured budget: timing noise on a quiet machine is a few per cent. */
const MARGIN = 0.98;

/** The network the joint stage's gates select, trimmed or filled to the target, with a block kept wherever one fits
 *  (keepOneBlock): what the fine-tune stage trains. `noBlockFits`: the narrowest one-block network's prediction,
 *  when even it is over the target. */
export function deriveWithinBudget(net: Supernet, predictor: LatencyPredictor, targetMs: number) {
  let trimmed = trimToBudget(net, predictor, targetMs);
  const filled = fillToBudget(net, predictor, targetMs);
  const madeRoom = keepOneBlock(net, predictor, targetMs);
  if (madeRoom !== null) {
    trimmed += madeRoom;
    const again = fillToBudget(net, predictor, targetMs);
    filled.blocks += 1 + again.blocks;
    filled.channels += again.channels;
  }
  const predicted = predictedMs(net, predictor, { depth: true, widthGradient: false }).data[0];
  const model = net.derive();
  const oneBlockMs = specMs(narrowestOneBlock(net.spec), predictor);
  return { model, predicted, trimmed, filled, keptOneBlock: madeRoom !== null, noBlockFits: (model.spec as WdsrSpec).blocks.length === 0 && oneBlockMs > targetMs ? oneBlockMs : undefined };
}

function savedTarget(path: string): number | null {
  try {
    const t = (JSON.parse(readFileSync(path, 'utf8')) as { target_ms?: unknown }).target_ms;
    return typeof t === 'number' && t > 0 ? t : null;
  } catch {
    return null;
  }
}

/** deriveWithinBudget at the saved target, else at `targetMs`, lowered while the network measures over the
 *  budget. `resumed`: a fine-tune checkpoint exists, so nothing is timed (one from before derived.json was written
 *  was derived at `targetMs`). `state`: the supernet's tensors, gates included, restored before each new try. */
export async function deriveMeasured(net: Supernet, state: Map<string, Tensor>, predictor: LatencyPredictor, targetMs: number, outDir: string, resumed: boolean, overBudget?: OverBudget) {
  const path = join(outDir, 'derived.json');
  const saved = savedTarget(path);
  if (saved !== null || resumed || !overBudget) return { ...deriveWithinBudget(net, predictor, saved ?? targetMs), targetMs: saved ?? targetMs };
  const tensors = [...state.values()];
  const snapshot = tensors.map((t) => t.data.slice());
  let target = targetMs;
  let d = deriveWithinBudget(net, predictor, target);
  for (let i = 0; i < MAX_REDERIVES; i++) {
    const over = await overBudget(d.model);
    if (over <= 1) break;
    target *= MARGIN / over;
    tensors.forEach((t, j) => t.data.set(snapshot[j]));
    d = deriveWithinBudget(net, predictor, target);
  }
  writeFileAtomic(path, JSON.stringify({ target_ms: target }) + '\n');
  return { ...d, targetMs: target };
}

// Whole-model check of a speed model: random networks of the search space, compiled and timed on this device
// in interleaved rounds (as profiles are), against the model's predictions.
import { Rng } from '../util/random.js';
import { summarize, timeRound } from './measure.js';
import type { BlockRunner, Part } from './runner.js';
import type { SpeedModel } from './speed-model.js';

export interface ModelCheckRow {
  part: Extract<Part, { kind: 'model' }>;
  measuredMs: number;
  spread: number;
  predictedMs: number;
  /** (predicted − measured) / measured. */
  error: number;
}

/** `now` gives milliseconds; tests pass a virtual clock. */
export async function checkWholeModels(
  runner: BlockRunner, model: SpeedModel, archs: Extract<Part, { kind: 'model' }>[], rounds: number, scale: number,
  now: () => number = () => performance.now(),
): Promise<ModelCheckRow[]> {
  await runner.prepare(archs);
  const rng = new Rng(5);
  await timeRound(runner, archs, rng, now); // warm-up
  const times: number[][] = [];
  for (let r = 0; r < rounds; r++) times.push(await timeRound(runner, archs, rng, now));
  return archs.map((part, i) => {
    const t = summarize(times.map((r) => r[i]));
    const predictedMs = model.specMs({ arch: 'wdsr-b', scale, channels: part.c, blocks: part.blocks.map((b) => ({ ...b })) });
    return { part, measuredMs: t.ms, spread: t.spread, predictedMs, error: (predictedMs - t.ms) / t.ms };
  });
}

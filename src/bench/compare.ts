// Several compiled models timed side by side on one frame size, for "which of these meets my budget here":
// each round runs every model once, in a fresh random order and after bench's idle gap, so load from
// elsewhere hits them alike; the figure is each model's median over the rounds.
import { compile } from '../compiler/compile.js';
import type { Model } from '../models/model.js';
import type { Precision, Target } from '../targets/target.js';
import { Rng } from '../util/random.js';
import { frameFor, idle, median, timeOnce } from './infer-bench.js';

export interface CompareOptions {
  readonly target: Target;
  /** Default f32. */
  readonly precision?: Precision;
  readonly threads: number;
  readonly warmup: number;
  readonly repeats: number;
}

/** The models compiled and warmed up once; `rounds()` times them in `repeats` interleaved rounds and returns each
 *  model's samples (ms), and can be called again for another window of rounds. */
export async function compiledRounds(models: readonly Model[], w: number, h: number, opts: CompareOptions): Promise<{ rounds(): Promise<number[][]>; dispose(): Promise<void> }> {
  const rng = new Rng(0);
  const x = rng.fill(new Float32Array(h * w * 3), () => rng.next());
  const compiled = await Promise.all(models.map((m) => compile(m, { target: opts.target, threads: opts.threads, precision: opts.precision })));
  const outs = models.map((m) => frameFor(m, h, w));
  // The first run of each tunes it; the warm-up runs are not timed either.
  for (let i = 0; i < 1 + opts.warmup; i++) for (const [j, c] of compiled.entries()) await timeOnce(c, x, h, w, outs[j]);
  return {
    async rounds() {
      const times: number[][] = models.map(() => []);
      for (let r = 0; r < opts.repeats; r++) {
        for (const i of rng.shuffled([...models.keys()])) {
          await idle();
          times[i].push((await timeOnce(compiled[i], x, h, w, outs[i])).ms);
        }
      }
      return times;
    },
    dispose: async () => void (await Promise.all(compiled.map((c) => c.dispose()))),
  };
}

/** Median milliseconds per w×h frame of each model, in the order given. */
export async function timeModels(models: readonly Model[], w: number, h: number, opts: CompareOptions): Promise<number[]> {
  const timer = await compiledRounds(models, w, h, opts);
  try {
    return (await timer.rounds()).map(median);
  } finally {
    await timer.dispose();
  }
}

// Inference speed of a compiled model on one frame size, optionally against onnxruntime-node running the same
// model and weights in the same process. The machines are shared, so the protocol is: one untimed run of each
// (ours compiles and tunes there) plus `warmup` more, then alternate one run of ours with one of onnxruntime's,
// so any load from elsewhere hits both alike, and report medians. Every timed run starts after a short idle gap:
// onnxruntime's pool threads keep spinning on both cores for a while after session.run returns, and a run
// started at once shares the cores with them (measured here: ours 53 ms right after onnxruntime, 38–41 ms
// after a gap or with its spinning off; onnxruntime's own time was the same either way).
import { type CompiledModel, compile } from '../compiler/compile.js';
import { Tensor } from '../engine/tensor.js';
import { exportOnnx } from '../export/onnx.js';
import { ortSession, ortTime } from '../export/ort.js';
import type { Model } from '../models/model.js';
import type { CompareOptions } from './compare.js';
import { Rng } from '../util/random.js';

export interface InferBenchOptions extends CompareOptions {
  /** Also time onnxruntime (2 threads, all graph optimisations) and compare outputs. */
  readonly compare: boolean;
}

export interface InferBenchResult {
  model: string;
  target: string;
  threads: number;
  /** LR input, WxH. */
  input: string;
  ms: number;
  gflops: number;
  onnxruntime_ms: number | null;
  /** onnxruntime_ms / ms. */
  speedup: number | null;
  /** max |ours − onnxruntime| over the float outputs. */
  max_abs_diff: number | null;
}

/** Median, averaging the middle two of an even count. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Longer than onnxruntime's spin-wait after a run (30 ms was enough here). */
const IDLE_GAP_MS = 50;
export const idle = () => new Promise((resolve) => setTimeout(resolve, IDLE_GAP_MS));

export async function timeOnce(c: CompiledModel, x: Float32Array, h: number, w: number): Promise<{ ms: number; out: Float32Array }> {
  const t0 = performance.now();
  const out = await c.run(x, h, w);
  return { ms: performance.now() - t0, out };
}

export async function benchInfer(name: string, model: Model, w: number, h: number, opts: InferBenchOptions): Promise<InferBenchResult> {
  const rng = new Rng(0);
  const x = rng.fill(new Float32Array(h * w * 3), () => rng.next());
  const compiled = await compile(model, { target: opts.target, threads: opts.threads });
  const session = opts.compare ? await ortSession(exportOnnx(model), 2) : null;
  const input = new Tensor(x, [1, h, w, 3]);
  try {
    // One run each outside the warm-up count: ours compiles and tunes on its first frame.
    for (let i = 0; i < 1 + opts.warmup; i++) {
      await timeOnce(compiled, x, h, w);
      if (session) await ortTime(session, input, { warmup: 0, repeats: 1 });
    }
    const ours: number[] = [];
    const theirs: number[] = [];
    let out: Float32Array = new Float32Array(0);
    let ortOut: Tensor | null = null;
    for (let i = 0; i < opts.repeats; i++) {
      await idle();
      const r = await timeOnce(compiled, x, h, w);
      ours.push(r.ms);
      out = r.out;
      if (session) {
        await idle();
        const t = await ortTime(session, input, { warmup: 0, repeats: 1 });
        theirs.push(t.medianMs);
        ortOut = t.output;
      }
    }
    const ms = median(ours);
    let maxDiff: number | null = null;
    if (ortOut) {
      if (ortOut.size !== out.length) throw new Error(`bench: onnxruntime gave ${ortOut.size} outputs, ours ${out.length}`);
      maxDiff = 0;
      for (let i = 0; i < out.length; i++) maxDiff = Math.max(maxDiff, Math.abs(out[i] - ortOut.data[i]));
    }
    const ortMs = session ? median(theirs) : null;
    return {
      model: name,
      target: opts.target.name,
      threads: opts.threads,
      input: `${w}x${h}`,
      ms,
      gflops: (2 * model.macs(h, w)) / (ms * 1e6),
      onnxruntime_ms: ortMs,
      speedup: ortMs === null ? null : ortMs / ms,
      max_abs_diff: maxDiff,
    };
  } finally {
    await session?.release();
    await compiled.dispose();
  }
}

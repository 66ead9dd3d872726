// Inference speed of a compiled model on one frame size, optionally against an onnxruntime running the same
// model and weights in the same process (onnxruntime-node's CPU provider, or onnxruntime-web's wasm backend for
// the wasm target), and against our native target when another target is timed. The machines are shared, so
// the protocol is: one untimed run of each (ours compiles and tunes there) plus `warmup` more, then rounds of
// one run of each in turn, so any load from elsewhere hits them alike, and report medians. Every timed run
// starts after a short idle gap: onnxruntime's pool threads keep spinning on both cores for a while after
// session.run returns, and a run started at once shares the cores with them (measured here: ours 53 ms right
// after onnxruntime, 38–41 ms after a gap or with its spinning off; onnxruntime's own time was the same).
import { type CompiledModel, compile } from '../compiler/compile.js';
import { Tensor } from '../engine/tensor.js';
import { exportOnnx } from '../export/onnx.js';
import { type OrtRuntime, ortSession, ortTime } from '../export/ort.js';
import type { Model } from '../models/model.js';
import type { Target } from '../targets/target.js';
import { Rng } from '../util/random.js';
import { aroundCeiling, type Ceiling, ceilingFields } from './ceiling.js';
import type { CompareOptions } from './compare.js';

export interface InferBenchOptions extends CompareOptions {
  /** Also time this onnxruntime (the same threads, all graph optimisations) and compare outputs. */
  readonly compare: OrtRuntime | null;
  /** Also time the model on this target in the same rounds (the native one, beside a portable target). */
  readonly alongside: Target | null;
}

export interface InferBenchResult {
  model: string;
  target: string;
  threads: number;
  /** LR input, WxH. */
  input: string;
  ms: number;
  gflops: number;
  /** Which onnxruntime was compared ('onnxruntime' = onnxruntime-node's CPU provider), or null. */
  onnxruntime: OrtRuntime | null;
  onnxruntime_ms: number | null;
  /** onnxruntime_ms / ms. */
  speedup: number | null;
  /** max |ours − onnxruntime| over the float outputs. */
  max_abs_diff: number | null;
  /** The `alongside` target's time in the same rounds, and ms / alongside_ms. */
  alongside: string | null;
  alongside_ms: number | null;
  ratio_to_alongside: number | null;
  /** The FP32 FMA ceiling of the CPU at the same threads, measured around the rounds, and gflops / ceiling_gflops. */
  ceiling_gflops: number | null;
  share_of_ceiling: number | null;
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

/** One timed run of `c`, writing into `out` (each contender keeps one across its rounds, as a frame loop would:
 *  on Linux a fresh 11 MB array faulted its pages in on about a third of the frames, 2–3 ms at 2 threads here). */
export async function timeOnce(c: CompiledModel, x: Float32Array, h: number, w: number, out: Float32Array): Promise<{ ms: number; out: Float32Array }> {
  const t0 = performance.now();
  await c.run(x, h, w, out);
  return { ms: performance.now() - t0, out };
}

/** An output frame for `model`'s h×w input. */
export const frameFor = (model: Model, h: number, w: number): Float32Array => new Float32Array(h * w * 3 * model.scale * model.scale);

/** One thing timed: a run returns its time and its float output (NHWC). */
type Contender = () => Promise<{ ms: number; out: Float32Array }>;

/** Why a target's figure is not read against the CPU's ceiling, or null where it is. */
export const ceilingSkip = (target: Target): string | null => (target.name === 'webgpu' ? 'the webgpu target runs on the GPU, not on the CPU cores it bounds' : null);

export async function benchInfer(name: string, model: Model, w: number, h: number, opts: InferBenchOptions): Promise<{ result: InferBenchResult; ceiling: Ceiling }> {
  const rng = new Rng(0);
  const x = rng.fill(new Float32Array(h * w * 3), () => rng.next());
  const { threads } = opts;
  const compiled = await compile(model, { target: opts.target, threads, precision: opts.precision });
  const beside = opts.alongside ? await compile(model, { target: opts.alongside, threads }) : null;
  const session = opts.compare ? await ortSession(exportOnnx(model), threads, opts.compare) : null;
  const input = new Tensor(x, [1, h, w, 3]);
  const [ours, theirs] = [frameFor(model, h, w), frameFor(model, h, w)];
  const contenders: Contender[] = [() => timeOnce(compiled, x, h, w, ours)];
  if (beside) contenders.push(() => timeOnce(beside, x, h, w, theirs));
  if (session)
    contenders.push(async () => {
      const t = await ortTime(session, input, { warmup: 0, repeats: 1 });
      return { ms: t.medianMs, out: t.output.data };
    });
  try {
    // One run each outside the warm-up count: ours compiles and tunes on its first frame.
    for (let i = 0; i < 1 + opts.warmup; i++) for (const c of contenders) await c();
    const times: number[][] = contenders.map(() => []);
    const outs: Float32Array[] = [];
    const { ceiling } = await aroundCeiling(threads, async () => {
      for (let r = 0; r < opts.repeats; r++)
        for (const [i, c] of contenders.entries()) {
          await idle();
          const t = await c();
          times[i].push(t.ms);
          outs[i] = t.out;
        }
    }, ceilingSkip(opts.target));
    const [ms, ...others] = times.map(median);
    const besideMs = beside ? others.shift()! : null;
    const ortMs = session ? others.shift()! : null;
    const gflops = (2 * model.macs(h, w)) / (ms * 1e6);
    const result = {
      model: name,
      target: opts.target.name,
      threads,
      input: `${w}x${h}`,
      ms,
      gflops,
      onnxruntime: opts.compare,
      onnxruntime_ms: ortMs,
      speedup: ortMs === null ? null : ortMs / ms,
      max_abs_diff: session ? maxAbsDiff(outs[0], outs[outs.length - 1], opts.compare!) : null,
      alongside: opts.alongside?.name ?? null,
      alongside_ms: besideMs,
      ratio_to_alongside: besideMs === null ? null : ms / besideMs,
      ...ceilingFields(ceiling, gflops),
    };
    return { result, ceiling };
  } finally {
    await session?.release();
    await compiled.dispose();
    await beside?.dispose();
  }
}

function maxAbsDiff(ours: Float32Array, theirs: Float32Array, who: string): number {
  if (theirs.length !== ours.length) throw new Error(`bench: ${who} gave ${theirs.length} outputs, ours ${ours.length}`);
  let d = 0;
  for (let i = 0; i < ours.length; i++) d = Math.max(d, Math.abs(ours[i] - theirs[i]));
  return d;
}

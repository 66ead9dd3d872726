// Stages on synthetic h×w inputs, for the profiler and the tuner. run() is one dispatch and a wait for the queue; time() is
// the device's own time per dispatch: GPU timestamps around many dispatches of the stage in one pass where the
// adapter has 'timestamp-query', else the growth of the wall time between completion waits as the number of
// dispatches doubles (which cancels the submit-and-wait cost that a frame pays once, not per stage).
import { INPUT, type StageNode } from '../../compiler/ir.js';
import type { Io } from '../../compiler/stage.js';
import { Rng } from '../../util/random.js';
import { toHalves } from '../../util/half.js';
import type { Precision, StageBench } from '../target.js';
import type { GpuContext } from './device.js';
import { type GpuBindGroup, type GpuBuffer, MAP_READ, USAGE } from './gpu.js';
import { frameStride, gpuBuffer, type Region, StageProgram } from './program.js';
import { elementBytes, type GpuTuning } from './schedule.js';

/** Wall time a doubling round must reach before its growth is trusted. */
const MIN_ROUND_MS = 5;
const MAX_REPEATS = 4096;

/** Stage i on schedule tunings[i] (the tuner passes one stage several times, on its candidates). */
export async function stageBench(
  ctx: GpuContext, stages: readonly StageNode[], tunings: readonly GpuTuning[], io: Io, h: number, w: number, precision: Precision,
): Promise<StageBench> {
  const programs = await Promise.all(stages.map((s, i) => StageProgram.load(ctx, s, io, tunings[i], precision)));
  const rng = new Rng(1);
  const elem = elementBytes(precision);
  const random = (n: number, bytes: number): GpuBuffer => {
    const b = gpuBuffer(ctx, bytes * n, USAGE.STORAGE | USAGE.COPY_DST);
    const values = rng.fill(new Float32Array(n), () => rng.next());
    ctx.device.queue.writeBuffer(b, 0, bytes === 2 ? toHalves(values) : values);
    return b;
  };
  // Buffers by role, shared by every stage (values do not change times; a profile holds hundreds of parts).
  const widest = Math.max(...stages.flatMap((s) => [...s.terms.map((t) => (t.chain.length ? t.chain[0].cin : t.cin)), s.terms[0].cout]));
  const scale = Math.max(...stages.map((s) => s.shuffle));
  const pool = {
    // Random floats read as uint8 words are random bytes.
    raw: random(h * w * 3, 4),
    planar: random(widest * h * w, elem),
    residual: random(widest * h * w, elem),
    out: gpuBuffer(ctx, Math.max(elem * widest * h * w, 4 * frameStride(io, w, scale) * h * scale), USAGE.STORAGE),
  };
  const region: Region = { h, w, x0: 0, y0: 0, rw: w, rh: h };
  const groups: GpuBindGroup[] = programs.map((p, i) => {
    p.setRegion(region);
    return p.bind({ inputs: stages[i].terms.map((t) => (t.x === INPUT ? pool.raw : pool.planar)), residual: pool.residual, out: pool.out });
  });
  const query = ctx.timestamps ? ctx.device.createQuerySet({ type: 'timestamp', count: 2 }) : null;
  const resolved = query && gpuBuffer(ctx, 16, USAGE.QUERY_RESOLVE | USAGE.COPY_SRC);
  const readback = query && gpuBuffer(ctx, 16, USAGE.MAP_READ | USAGE.COPY_DST);

  /** Submits `repeats` dispatches of stage i in one pass and waits for them. */
  async function submit(i: number, repeats: number): Promise<void> {
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass(query ? { timestampWrites: { querySet: query, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : undefined);
    for (let r = 0; r < repeats; r++) programs[i].dispatch(pass, groups[i], region);
    pass.end();
    if (query) {
      enc.resolveQuerySet(query, 0, 2, resolved!, 0);
      enc.copyBufferToBuffer(resolved!, 0, readback!, 0, 16);
    }
    ctx.device.queue.submit([enc.finish()]);
    await ctx.until(ctx.device.queue.onSubmittedWorkDone());
    ctx.check();
  }

  async function wall(i: number, repeats: number): Promise<number> {
    const t0 = performance.now();
    await submit(i, repeats);
    return performance.now() - t0;
  }

  async function gpuMs(i: number, repeats: number): Promise<number> {
    await submit(i, repeats);
    await ctx.until(readback!.mapAsync(MAP_READ));
    const [t0, t1] = new BigUint64Array(readback!.getMappedRange().slice(0));
    readback!.unmap();
    return Number(t1 - t0) / 1e6 / repeats;
  }

  /** Dispatches per timed submit of each stage: found on its first timing, by doubling. */
  const counts = new Map<number, number>();
  async function repeatsFor(i: number): Promise<number> {
    let repeats = counts.get(i);
    if (repeats === undefined) {
      repeats = 1;
      await submit(i, 1);
      while (repeats < MAX_REPEATS && (await wall(i, repeats)) < MIN_ROUND_MS) repeats *= 2;
      counts.set(i, repeats);
    }
    return repeats;
  }

  return {
    run: (i) => submit(i, 1),
    async time(i) {
      const repeats = await repeatsFor(i);
      if (query) return gpuMs(i, repeats);
      // Noise only ever adds time: the fastest of a few rounds of each count, then the slope. Where noise swamps
      // the difference, the longer round's mean remains (an upper bound: it carries its share of the wait).
      let [a, b] = [Infinity, Infinity];
      for (let k = 0; k < 3; k++) [a, b] = [Math.min(a, await wall(i, repeats)), Math.min(b, await wall(i, 2 * repeats))];
      return b > a ? (b - a) / repeats : b / (2 * repeats);
    },
    async dispose() {
      programs.forEach((p) => p.dispose());
      [pool.raw, pool.planar, pool.residual, pool.out, resolved, readback].forEach((b) => b?.destroy());
      query?.destroy();
    },
  };
}

// The deployment runner: every part runs exactly the fused, tuned stage code `rtsr upscale` runs on the target —
// head, one block and tail through the compiler's part runnables, whole networks through `compile()` — so the
// profile and the speed model describe the code users get, not a stand-in. Parts are timed by the target's device
// clock where it has one (a GPU's: the time its stage takes on the device, without the submit-and-wait that a
// frame pays once; wasm's: the stage with its worker threads already awake, as every stage but a frame's first); whole networks always by the wall clock around runImage, what a user waits for.
import { compile } from '../compiler/compile.js';
import { compileParts, type PartSpec } from '../compiler/parts.js';
import { rgbImage } from '../image/image.js';
import { Model } from '../models/model.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { Rng } from '../util/random.js';
import { type BlockRunner, partKey, type Part, type RunnerOptions } from './runner.js';

export async function createCompilerRunner({ target, scale, h, w }: RunnerOptions): Promise<BlockRunner> {
  const threads = target.defaultThreads();
  const info = { runner: 'compiler-fused', target: target.name, compiler: await target.describe(), threads };
  const runs = new Map<string, { run(): Promise<unknown>; time?(): Promise<number> }>();
  const rng = new Rng(3);
  // Whole networks read a uint8 frame, as runImage does in deployment.
  const frame = rgbImage(w, h, Uint8Array.from({ length: w * h * 3 }, () => rng.int(256)));
  const prepared = (p: Part) => {
    const r = runs.get(partKey(p));
    if (!r) throw new Error(`compiler runner: part ${partKey(p)} was not prepared`);
    return r;
  };
  return {
    info,
    async prepare(parts) {
      const todo = parts.filter((p) => !runs.has(partKey(p)));
      const pieces = todo.filter((p): p is Part & PartSpec => p.kind !== 'model');
      (await compileParts(pieces, { target, scale, h, w, threads })).forEach((r, i) => runs.set(partKey(pieces[i]), r));
      for (const p of todo) {
        if (p.kind !== 'model') continue;
        const spec: WdsrSpec = { arch: 'wdsr-b', scale, channels: p.c, blocks: p.blocks.map((b) => ({ ...b })) };
        const compiled = await compile(Model.init(spec, 0), { target, threads });
        runs.set(partKey(p), { run: () => compiled.runImage(frame) });
      }
    },
    async run(p) {
      await prepared(p).run();
    },
    async time(p) {
      const r = prepared(p);
      if (r.time) return r.time();
      const t0 = performance.now();
      await r.run();
      return performance.now() - t0;
    },
  };
}

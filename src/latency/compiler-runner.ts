// The deployment runner: every part runs exactly the fused, tuned stage code `rtsr upscale` runs on the target —
// head, one block and tail through the compiler's part runnables, whole networks through `compile()` — so the
// profile and the speed model describe the code users get, not a stand-in.
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
  const runs = new Map<string, () => Promise<unknown>>();
  const rng = new Rng(3);
  // Whole networks read a uint8 frame, as runImage does in deployment.
  const frame = rgbImage(w, h, Uint8Array.from({ length: w * h * 3 }, () => rng.int(256)));
  return {
    info,
    async prepare(parts) {
      const todo = parts.filter((p) => !runs.has(partKey(p)));
      const pieces = todo.filter((p): p is Part & PartSpec => p.kind !== 'model');
      (await compileParts(pieces, { target, scale, h, w, threads })).forEach((r, i) => runs.set(partKey(pieces[i]), () => r.run()));
      for (const p of todo) {
        if (p.kind !== 'model') continue;
        const spec: WdsrSpec = { arch: 'wdsr-b', scale, channels: p.c, blocks: p.blocks.map((b) => ({ ...b })) };
        const compiled = await compile(Model.init(spec, 0), { target, threads });
        runs.set(partKey(p), () => compiled.runImage(frame));
      }
    },
    async run(p) {
      const r = runs.get(partKey(p));
      if (!r) throw new Error(`compiler runner: part ${partKey(p)} was not prepared`);
      await r();
    },
  };
}

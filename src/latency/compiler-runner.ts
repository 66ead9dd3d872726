// The deployment runner: every part runs exactly the fused, tuned kernel `rtsr upscale` runs — head, one block
// and tail through the compiler's part runnables, whole networks through `compile()` — so the profile and the
// speed model describe the code users get, not a stand-in.
import { findCompiler, ompThreads } from '../backends/native/index.js';
import { compile } from '../compiler/compile.js';
import { compileParts, type PartSpec } from '../compiler/profile.js';
import { rgbImage } from '../image/image.js';
import { Model } from '../models/model.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { Rng } from '../util/random.js';
import { type BlockRunner, partKey, type Part, type RunnerOptions } from './runner.js';

export function createCompilerRunner({ scale, h, w }: RunnerOptions): BlockRunner {
  const threads = ompThreads();
  const info = { runner: 'compiler-fused', backend: 'native', compiler: findCompiler()?.version ?? 'unknown', threads };
  const runs = new Map<string, () => void>();
  const rng = new Rng(3);
  // Whole networks read a uint8 frame, as runImage does in deployment.
  const frame = rgbImage(w, h, Uint8Array.from({ length: w * h * 3 }, () => rng.int(256)));
  return {
    info,
    prepare(parts) {
      const todo = parts.filter((p) => !runs.has(partKey(p)));
      const pieces = todo.filter((p): p is Part & PartSpec => p.kind !== 'model');
      compileParts(pieces, { scale, h, w, threads }).forEach((r, i) => runs.set(partKey(pieces[i]), () => r.run()));
      for (const p of todo) {
        if (p.kind !== 'model') continue;
        const spec: WdsrSpec = { arch: 'wdsr-b', scale, channels: p.c, blocks: p.blocks.map((b) => ({ ...b })) };
        const compiled = compile(Model.init(spec, 0), { backend: 'native', threads });
        runs.set(partKey(p), () => void compiled.runImage(frame));
      }
    },
    run(p) {
      const r = runs.get(partKey(p));
      if (!r) throw new Error(`compiler runner: part ${partKey(p)} was not prepared`);
      r();
    },
  };
}

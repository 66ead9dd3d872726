// The second tuning thread of tuneAll (tune.ts): tunes the shapes it is given into the on-disk cache, then
// wakes the main thread, which is blocked waiting for it — whatever happens, so tune.js is loaded inside the
// try (a failure to load it must not leave the main thread waiting forever).
import { workerData } from 'node:worker_threads';
import type { Io } from './codegen.js';
import type { StageNode } from './ir.js';
import type { TuneEnv } from './tune.js';

const { stages, io, h, w, env, done } = workerData as { stages: StageNode[]; io: Io; h: number; w: number; env: TuneEnv; done: Int32Array };
try {
  const { tuneStage } = await import('./tune.js');
  for (const s of stages) tuneStage(s, io, h, w, env);
} finally {
  Atomics.store(done, 0, 1);
  Atomics.notify(done, 0);
}

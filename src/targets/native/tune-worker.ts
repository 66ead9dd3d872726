// The second tuning thread of tuneAll (tune.ts): tunes the shapes it is given into the on-disk cache and exits;
// the main thread waits for its exit, which comes whether it succeeded or not.
import { workerData } from 'node:worker_threads';
import type { StageNode } from '../../compiler/ir.js';
import type { Io } from '../../compiler/stage.js';
import { tuneStage, type TuneEnv } from './tune.js';

const { stages, io, h, w, env } = workerData as { stages: StageNode[]; io: Io; h: number; w: number; env: TuneEnv };
for (const s of stages) await tuneStage(s, io, h, w, env);

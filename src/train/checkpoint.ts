// Training checkpoints: every tensor a run changes (weights, gates), each optimiser group's Adam moments, the
// step, the run's options and what it trains, in one checksummed tensor file written atomically. With the
// data order a pure function of (seed, step), this is all a resumed run needs to continue where it stopped.
import type { AdamState } from '../engine/optim.js';
import { encodeTensors } from '../engine/serialize.js';
import { loadTensors } from '../engine/tensor-file.js';
import type { Tensor } from '../engine/tensor.js';
import { writeFileAtomic } from '../util/atomic.js';

const FORMAT = 'rtsr-checkpoint';
const VERSION = 2;

export interface CheckpointMeta<O> {
  step: number;
  /** The run's options, so `--resume` needs no other flags. */
  options: O;
  /** What is trained (e.g. the architecture spec), for the caller to rebuild it. */
  subject: unknown;
  /** Training seconds up to `step`, over every process that worked on the run. */
  seconds?: number;
  /** The log window not yet logged: its step count and the sums of its loss terms, so a resumed run logs the
   *  mean over the same steps as one that never stopped. */
  window?: { steps: number; sums: Record<string, number> };
}

export function saveCheckpoint<O>(path: string, meta: CheckpointMeta<O>, state: Map<string, Tensor>, adam: Map<string, AdamState>): void {
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  for (const [name, t] of state) tensors.set(`state/${name}`, { shape: t.shape, data: t.data });
  const adamSteps: Record<string, number> = {};
  for (const [group, s] of adam) {
    adamSteps[group] = s.step;
    s.m.forEach((m, i) => tensors.set(`adam/${group}/m/${i}`, { shape: [m.length], data: m }));
    s.v.forEach((v, i) => tensors.set(`adam/${group}/v/${i}`, { shape: [v.length], data: v }));
  }
  writeFileAtomic(path, encodeTensors(tensors, { format: FORMAT, version: VERSION, ...meta, adamSteps }));
}

export interface LoadedCheckpoint<O> extends CheckpointMeta<O> {
  state: Map<string, Float32Array>;
  adam: Map<string, AdamState>;
}

export function loadCheckpoint<O>(path: string): LoadedCheckpoint<O> {
  const { tensors, meta } = loadTensors(path);
  if (meta.format !== FORMAT || meta.version !== VERSION)
    throw new Error(`${path}: not an rtsr checkpoint of version ${VERSION} (format ${JSON.stringify(meta.format)}, version ${JSON.stringify(meta.version)})`);
  const state = new Map<string, Float32Array>();
  const adam = new Map<string, AdamState>();
  for (const [group, step] of Object.entries(meta.adamSteps as Record<string, number>)) adam.set(group, { step, m: [], v: [] });
  for (const [key, t] of tensors) {
    const parts = key.split('/');
    if (parts[0] === 'state') state.set(key.slice('state/'.length), t.data);
    else {
      const s = adam.get(parts[1]);
      if (!s) throw new Error(`${path}: moments for unknown optimiser group '${parts[1]}'`);
      (parts[2] === 'm' ? s.m : s.v)[Number(parts[3])] = t.data;
    }
  }
  return { step: meta.step as number, options: meta.options as O, subject: meta.subject, seconds: meta.seconds as number | undefined, window: meta.window as CheckpointMeta<O>['window'], state, adam };
}

/** Copies checkpointed values into live tensors, refusing a checkpoint of another shape. */
export function restoreState(path: string, saved: Map<string, Float32Array>, live: Map<string, Tensor>): void {
  for (const [name, t] of live) {
    const v = saved.get(name);
    if (!v) throw new Error(`${path}: checkpoint lacks '${name}'`);
    if (v.length !== t.size) throw new Error(`${path}: '${name}' has ${v.length} values in the checkpoint, ${t.size} in this run`);
    t.data.set(v);
  }
  if (saved.size !== live.size) throw new Error(`${path}: checkpoint holds ${saved.size} tensors, this run ${live.size}`);
}

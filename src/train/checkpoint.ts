// Training checkpoints: parameters, Adam moments and the step, in one checksummed tensor file written
// atomically. With the data order a pure function of (seed, step), this is all a resumed run needs to
// continue exactly where it stopped.
import { Tensor } from '../engine/tensor.js';
import { encodeTensors, loadTensors } from '../engine/serialize.js';
import type { AdamState } from '../engine/optim.js';
import type { Model } from '../models/model.js';
import { validateSpec } from '../models/registry.js';
import type { ArchSpec } from '../models/registry.js';
import { writeFileAtomic } from '../util/atomic.js';

const FORMAT = 'rtsr-checkpoint';
const VERSION = 1;

export interface Checkpoint<O> {
  spec: ArchSpec;
  /** The run's options, so `--resume` needs no other flags. */
  options: O;
  step: number;
  params: Map<string, Tensor>;
  adam: AdamState;
}

export function saveCheckpoint<O>(path: string, model: Model, options: O, adam: AdamState): void {
  const tensors = new Map<string, { shape: readonly number[]; data: Float32Array }>();
  const names = [...model.params.keys()];
  names.forEach((name, i) => {
    const p = model.params.get(name)!;
    tensors.set(`param/${name}`, { shape: p.shape, data: p.data });
    tensors.set(`adam.m/${name}`, { shape: p.shape, data: adam.m[i] });
    tensors.set(`adam.v/${name}`, { shape: p.shape, data: adam.v[i] });
  });
  writeFileAtomic(path, encodeTensors(tensors, { format: FORMAT, version: VERSION, spec: model.spec, options, step: adam.step, names }));
}

export function loadCheckpoint<O>(path: string): Checkpoint<O> {
  const { tensors, meta } = loadTensors(path);
  if (meta.format !== FORMAT || meta.version !== VERSION)
    throw new Error(`${path}: not an rtsr checkpoint of version ${VERSION} (format ${JSON.stringify(meta.format)}, version ${JSON.stringify(meta.version)})`);
  const names = meta.names as string[];
  const get = (key: string) => {
    const t = tensors.get(key);
    if (!t) throw new Error(`${path}: checkpoint lacks '${key}'`);
    return t;
  };
  return {
    spec: validateSpec(meta.spec, path),
    options: meta.options as O,
    step: meta.step as number,
    params: new Map(names.map((n) => [n, new Tensor(get(`param/${n}`).data, get(`param/${n}`).shape, true)])),
    adam: { step: meta.step as number, m: names.map((n) => get(`adam.m/${n}`).data), v: names.map((n) => get(`adam.v/${n}`).data) },
  };
}

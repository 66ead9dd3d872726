// Model files: the tensor-file container (checksummed, nothing executed on load) with a header that carries
// the format version, the architecture spec, training metadata and measured metrics. No node imports: a browser
// decodes model bytes with this module (reading and writing files is in model-io.ts).
import { Tensor } from '../engine/tensor.js';
import { decodeTensors, encodeTensors, type TensorFile } from '../engine/serialize.js';
import { Model } from './model.js';
import { validateSpec } from './registry.js';

export const MODEL_FORMAT = 'rtsr-model';
export const MODEL_VERSION = 1;

export interface SetMetrics {
  psnr: number;
  ssim: number;
  images?: number;
}

export interface ModelInfo {
  /** How it was trained: command, steps, data, seconds… (free-form, for people). */
  training?: Record<string, unknown>;
  /** Measured by `rtsr eval`, per set. */
  metrics?: Record<string, SetMetrics>;
}

export function encodeModel(model: Model, info: ModelInfo = {}): Uint8Array[] {
  const tensors = new Map([...model.params].map(([name, t]) => [name, { shape: t.shape, data: t.data }]));
  return encodeTensors(tensors, { format: MODEL_FORMAT, version: MODEL_VERSION, spec: model.spec, ...info });
}

export function decodeModel(buf: Uint8Array, source: string, requiresGrad = false): { model: Model; info: ModelInfo } {
  return modelFromFile(decodeTensors(buf, source), source, requiresGrad);
}

export function modelFromFile(file: TensorFile, source: string, requiresGrad = false): { model: Model; info: ModelInfo } {
  const { meta } = file;
  if (meta.format !== MODEL_FORMAT) throw new Error(`${source}: not an rtsr model file (format ${JSON.stringify(meta.format)})`);
  if (meta.version !== MODEL_VERSION) throw new Error(`${source}: model format version ${JSON.stringify(meta.version)}, this rtsr reads version ${MODEL_VERSION}`);
  const spec = validateSpec(meta.spec, source);
  const params = new Map([...file.tensors].map(([name, t]) => [name, new Tensor(t.data, t.shape, requiresGrad)]));
  let model: Model;
  try {
    model = new Model(spec, params);
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
  return { model, info: { training: meta.training as ModelInfo['training'], metrics: meta.metrics as ModelInfo['metrics'] } };
}

// Model files on disk (node only); the format is in model-file.ts.
import { loadTensors } from '../engine/tensor-file.js';
import { writeFileAtomic } from '../util/atomic.js';
import { encodeModel, type ModelInfo, modelFromFile } from './model-file.js';
import type { Model } from './model.js';

export function saveModel(path: string, model: Model, info: ModelInfo = {}): void {
  writeFileAtomic(path, encodeModel(model, info));
}

export function loadModel(path: string, requiresGrad = false): { model: Model; info: ModelInfo } {
  return modelFromFile(loadTensors(path), path, requiresGrad);
}

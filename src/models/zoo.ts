// The model zoo: trained model files committed under zoo/, named by file (zoo/<name>.rtsr), each carrying the
// metrics `rtsr eval` measured for it.
import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';
import type { Model } from './model.js';
import type { ModelInfo } from './model-file.js';
import { loadModel } from './model-io.js';

export const ZOO_DIR = join(PACKAGE_ROOT, 'zoo');

export interface ZooEntry {
  name: string;
  scale: number;
  params: number;
  /** MACs for a 1280×720 output. */
  macs_720p: number;
  metrics: NonNullable<ModelInfo['metrics']>;
}

export function zooNames(): string[] {
  if (!existsSync(ZOO_DIR)) return [];
  return readdirSync(ZOO_DIR)
    .filter((f) => f.endsWith('.rtsr'))
    .map((f) => basename(f, '.rtsr'))
    .sort();
}

/** Zoo names of distillation teachers (`<arch>-teacher-x<scale>`, scripts/train-recipe.sh): large networks kept
 *  to train others (`rtsr train --teacher`), not candidates for a frame budget. */
export const isTeacher = (name: string) => /-teacher-x\d+$/.test(name);

export function zooEntry(name: string, model: Model, info: ModelInfo): ZooEntry {
  const s = model.scale;
  return {
    name,
    scale: s,
    params: model.paramCount,
    macs_720p: model.macs(Math.round(720 / s), Math.round(1280 / s)),
    metrics: Object.fromEntries(Object.entries(info.metrics ?? {}).map(([set, m]) => [set, { psnr: m.psnr, ssim: m.ssim }])),
  };
}

export function listZoo(): ZooEntry[] {
  return zooNames().map((name) => {
    const { model, info } = loadModel(join(ZOO_DIR, `${name}.rtsr`));
    return zooEntry(name, model, info);
  });
}

/** A model by zoo name or file path; the error lists the zoo when neither exists. */
export function findModel(nameOrPath: string): { path: string; model: Model; info: ModelInfo } {
  const path = existsSync(nameOrPath) ? nameOrPath : join(ZOO_DIR, `${nameOrPath}.rtsr`);
  if (!existsSync(path)) {
    const names = zooNames();
    throw new Error(`no model file '${nameOrPath}' and no zoo model of that name (zoo: ${names.length ? names.join(', ') : 'empty'})`);
  }
  return { path, ...loadModel(path) };
}

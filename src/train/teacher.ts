// Distillation's teacher: its SR of every whole training image, computed once per run on its compiled form
// and cropped beside each HR patch (data/patches.ts). Running a large teacher on every batch would cost more
// than the student's own step; once per image it costs about one pass over the data. Untuned kernels, so a
// resumed run recomputes exactly the same targets. A run refers to its teacher by file and checksum.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { compile } from '../compiler/compile.js';
import type { ImagePair } from '../data/datasets.js';
import { ensembleMean } from '../image/dihedral.js';
import { type FloatImage, toFloat } from '../image/image.js';
import type { Model } from '../models/model.js';
import { findModel } from '../models/zoo.js';
import type { Target } from '../targets/target.js';

export interface TeacherRef {
  path: string;
  sha256: string;
}

const digest = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A teacher by zoo name or file, for a student of `scale`. */
export function findTeacher(nameOrPath: string, scale: number): { model: Model; ref: TeacherRef } {
  const { path, model } = findModel(nameOrPath);
  if (model.scale !== scale) throw new Error(`teacher ${path} is a ×${model.scale} model; the student is ×${scale}`);
  return { model, ref: { path: resolve(path), sha256: digest(path) } };
}

/** The teacher a run was started with, refusing a file that has changed since. */
export function reloadTeacher(ref: TeacherRef, scale: number): Model {
  const { model, ref: now } = findTeacher(ref.path, scale);
  if (now.sha256 !== ref.sha256) throw new Error(`teacher ${ref.path} has changed since the run started (sha256 ${now.sha256.slice(0, 12)}…, was ${ref.sha256.slice(0, 12)}…): its targets would differ`);
  return model;
}

/** Per pair, the teacher's SR of the whole LR image as HR-sized HWC floats; with `ensemble`, its self-ensemble:
 *  the mean of its SR of the image's 8 flips and rotations, each mapped back (a better target than one pass,
 *  by as much as test-time self-ensembles gain, at 8 passes once per run). */
export async function teacherOutputs(teacher: Model, pairs: readonly ImagePair[], target: Target, ensemble = false): Promise<Float32Array[]> {
  const compiled = await compile(teacher, { target, tune: false });
  const s = teacher.scale;
  const sr = async (lr: FloatImage): Promise<FloatImage> => ({ width: lr.width * s, height: lr.height * s, channels: 3, data: await compiled.run(lr.data, lr.height, lr.width) });
  try {
    const out: Float32Array[] = [];
    for (const q of pairs) {
      const lr: FloatImage = { width: q.lr.width, height: q.lr.height, channels: 3, data: toFloat(q.lr) };
      out.push(ensemble ? await ensembleMean(lr, s, sr) : (await sr(lr)).data);
    }
    return out;
  } finally {
    await compiled.dispose();
  }
}

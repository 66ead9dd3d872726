// `--model NAME|FILE` and `--threads N` for the commands that run one compiled model. A model that cannot be
// found or compiled is the user's to fix (a wrong name, a file that is no model), so both are CliErrors.
import { basename, extname } from 'node:path';
import { compile, type CompiledModel } from '../compiler/compile.js';
import type { Model } from '../models/model.js';
import { findModel } from '../models/zoo.js';
import type { Precision, Target } from '../targets/target.js';
import { CliError } from './args.js';

/** The model a zoo name or file names, and the name to show for it (the file's, without extension). */
export function modelOption(arg: string): { name: string; model: Model } {
  try {
    const { path, model } = findModel(arg);
    return { name: basename(path, extname(path)), model };
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export async function compileOption(model: Model, target: Target, threads: number | undefined, precision: Precision = 'f32'): Promise<CompiledModel> {
  try {
    return await compile(model, { target, threads, precision });
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

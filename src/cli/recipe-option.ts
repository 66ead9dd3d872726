// `--recipe`, `--teacher` and `--distill-weight`, shared by `rtsr train` and `rtsr search` (its fine-tune stage).
import type { Model } from '../models/model.js';
import { loadRecipe, type Recipe, recipeNames } from '../train/recipe.js';
import { findTeacher, type TeacherRef } from '../train/teacher.js';
import { CliError } from './args.js';
import type { Options } from './options.js';

export const RECIPE_OPTIONS = {
  recipe: { kind: 'text', value: 'NAME|FILE', help: `how to train: ${recipeNames().join(', ')} (recipes/, docs/training.md) or a recipe file; default: baseline` },
  teacher: { kind: 'text', value: 'MODEL', help: "a model (zoo name or file) whose output the student also learns from: distillation" },
  'distill-weight': { kind: 'number', value: 'W', help: "the distillation loss's weight; default: the recipe's" },
} as const satisfies Options;

interface Values {
  readonly recipe?: string;
  readonly teacher?: string;
  readonly 'distill-weight'?: number;
}

/** The recipe `--recipe` names (default `baseline`), with `--distill-weight` applied. */
export function recipeOption(values: Values): Recipe {
  let recipe: Recipe;
  try {
    recipe = loadRecipe(values.recipe ?? 'baseline');
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const distill = values['distill-weight'];
  return distill === undefined ? recipe : { ...recipe, distill };
}

/** The teacher a `--teacher` argument names, for a student of `scale`. */
export function teacherArg(nameOrPath: string, scale: number): { model: Model; ref: TeacherRef } {
  try {
    return findTeacher(nameOrPath, scale);
  } catch (err) {
    throw new CliError(`--teacher: ${(err as Error).message}`);
  }
}

/** The teacher `--teacher` names, checked against the student's scale and the recipe's weight. */
export function teacherOption(values: Values, recipe: Recipe, scale: number): { model: Model; ref: TeacherRef } | undefined {
  if (values.teacher === undefined) {
    if (values['distill-weight'] !== undefined) throw new CliError('--distill-weight needs --teacher');
    if (recipe.ensemble) throw new CliError(`recipe '${recipe.name}' distils a teacher's self-ensemble: give --teacher (the --init model itself, for instance)`);
    return undefined;
  }
  if (recipe.distill === 0) throw new CliError(`--teacher with a distillation weight of 0 (recipe '${recipe.name}'): give --distill-weight`);
  return teacherArg(values.teacher, scale);
}

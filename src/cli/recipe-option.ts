// `--recipe`, `--teacher` and `--distill-weight`, shared by `rtsr train` and `rtsr search` (its fine-tune stage).
import type { Model } from '../models/model.js';
import { loadRecipe, type Recipe } from '../train/recipe.js';
import { findTeacher, type TeacherRef } from '../train/teacher.js';
import { CliError } from './args.js';

export const RECIPE_OPTIONS = {
  recipe: { type: 'string' },
  teacher: { type: 'string' },
  'distill-weight': { type: 'string' },
} as const;

type Values = Record<string, unknown>;

/** The recipe `--recipe` names (default `baseline`), with `--distill-weight` applied. */
export function recipeOption(values: Values): Recipe {
  let recipe: Recipe;
  try {
    recipe = loadRecipe((values.recipe as string | undefined) ?? 'baseline');
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const w = values['distill-weight'] as string | undefined;
  if (w === undefined) return recipe;
  const distill = Number(w);
  if (w.trim() === '' || !(distill >= 0)) throw new CliError(`--distill-weight must be a number ≥ 0, got '${w}'`);
  return { ...recipe, distill };
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
    return undefined;
  }
  if (recipe.distill === 0) throw new CliError(`--teacher with a distillation weight of 0 (recipe '${recipe.name}'): give --distill-weight`);
  return teacherArg(values.teacher as string, scale);
}

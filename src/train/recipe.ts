// Training recipes: what a run does beyond its architecture and step count — weight averaging, augmentation,
// patch sizes and the pixel loss over the run, training branches, the distillation weight. Named recipes are
// option files, recipes/NAME.json, one ingredient each over `baseline` (`"extends"`) for the ablation, and
// `full` with all of them. A run stores its recipe resolved, so a resumed run does what it started doing even if
// the file changed. Every schedule is a pure function of the step, which keeps resumes exact.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ops from '../engine/ops.js';
import type { Tensor } from '../engine/tensor.js';
import { type Reparam, reparamField } from '../models/reparam.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { ycbcrL1Loss } from './ycbcr-loss.js';

const RECIPE_DIR = join(PACKAGE_ROOT, 'recipes');

export const LOSSES = {
  l1: ops.l1Loss,
  l2: ops.mseLoss,
  charbonnier: (pred: Tensor, target: Tensor) => ops.charbonnierLoss(pred, target),
  ycbcr: ycbcrL1Loss,
} as const;
export type LossName = keyof typeof LOSSES;

export interface Recipe {
  name: string;
  description: string;
  /** Decay of an exponential moving average of the weights (0: none); validation and the model file at the end
   *  use the averaged weights. Early steps average over fewer: decay min(ema, (1 + t)/(10 + t)) at step t. */
  ema: number;
  /** Each patch under one of the 8 flips and rotations of the square. */
  augment: boolean;
  /** LR patch side from a fraction of the run on; before the first, `--patch`. */
  patches: { from: number; size: number }[];
  /** The pixel loss from a fraction of the run on (the first from 0). */
  losses: { from: number; loss: LossName }[];
  /** Training branches added to the network (models/reparam.ts); the deployed network is unchanged. */
  reparam?: Reparam;
  /** Trains a luminance body (models/wdsr.ts `luma`, Model.luma); the deployed network is unchanged. */
  luma?: true;
  /** Each training image also downscaled by these factors in (0, 1) (data/patches.ts withDownscales). */
  downscales?: number[];
  /** Each training image also cropped by these [dx, dy] HR pixels at the top-left (withShifts), before the
   *  downscaled copies are made (which then include the shifted images'); 'all': every phase of the scale's grid. */
  shifts?: [number, number][] | 'all';
  /** Weight of the distillation term ρ(SR, teacher's SR) beside ρ(SR, HR), when the run has a teacher. */
  distill: number;
  /** The teacher's SR is its self-ensemble over the 8 flips and rotations (train/teacher.ts); needs a teacher. */
  ensemble?: true;
}

const FIELDS = ['description', 'ema', 'augment', 'patches', 'losses', 'reparam', 'luma', 'downscales', 'shifts', 'distill', 'ensemble'];

/** A fraction in [0, 1) of the run, for schedule entries. */
function fraction(v: unknown, what: string): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`${what}: 'from' must be a fraction of the run in [0, 1), got ${JSON.stringify(v)}`);
  return v;
}

function schedule<T>(raw: unknown, what: string, entry: (e: Record<string, unknown>, at: string) => T): ({ from: number } & T)[] {
  if (!Array.isArray(raw)) throw new Error(`${what} must be a list, got ${JSON.stringify(raw)}`);
  const list = raw.map((e: unknown, i: number) => {
    const at = `${what}[${i}]`;
    if (typeof e !== 'object' || e === null) throw new Error(`${at} must be an object, got ${JSON.stringify(e)}`);
    const r = e as Record<string, unknown>;
    return { from: fraction(r.from, at), ...entry(r, at) };
  });
  list.forEach((e, i) => {
    if (i > 0 && e.from <= list[i - 1].from) throw new Error(`${what}: entries must start at increasing fractions of the run`);
  });
  return list;
}

/** Checks a recipe object (all fields present, after `extends` is resolved). */
export function validateRecipe(name: string, raw: Record<string, unknown>): Recipe {
  const where = `recipe '${name}'`;
  const unknown = Object.keys(raw).filter((k) => !FIELDS.includes(k));
  if (unknown.length) throw new Error(`${where}: unknown field ${unknown.map((k) => `'${k}'`).join(', ')} (fields: ${FIELDS.join(', ')}, extends)`);
  const { description, ema, augment, distill } = raw;
  if (typeof description !== 'string') throw new Error(`${where}: 'description' must be a string`);
  if (typeof ema !== 'number' || !(ema === 0 || (ema > 0 && ema < 1))) throw new Error(`${where}: 'ema' must be 0 (none) or a decay in (0, 1), got ${JSON.stringify(ema)}`);
  if (typeof augment !== 'boolean') throw new Error(`${where}: 'augment' must be true or false`);
  if (typeof distill !== 'number' || !(distill >= 0)) throw new Error(`${where}: 'distill' must be a weight ≥ 0, got ${JSON.stringify(distill)}`);
  const patches = schedule(raw.patches, `${where}: patches`, (e, at) => {
    if (typeof e.size !== 'number' || !Number.isInteger(e.size) || e.size < 4 || e.size > 512) throw new Error(`${at}: 'size' must be an integer in [4, 512], got ${JSON.stringify(e.size)}`);
    return { size: e.size };
  });
  const losses = schedule(raw.losses, `${where}: losses`, (e, at) => {
    if (typeof e.loss !== 'string' || !Object.hasOwn(LOSSES, e.loss)) throw new Error(`${at}: 'loss' must be one of ${Object.keys(LOSSES).join(', ')}, got ${JSON.stringify(e.loss)}`);
    return { loss: e.loss as LossName };
  });
  if (losses[0]?.from !== 0) throw new Error(`${where}: losses must start with one from 0`);
  for (const flag of ['luma', 'ensemble']) if (raw[flag] !== undefined && typeof raw[flag] !== 'boolean') throw new Error(`${where}: '${flag}' must be true or false, got ${JSON.stringify(raw[flag])}`);
  const downscales = raw.downscales;
  if (downscales !== undefined && !(Array.isArray(downscales) && downscales.length > 0 && downscales.every((f) => typeof f === 'number' && f > 0 && f < 1) && new Set(downscales).size === downscales.length))
    throw new Error(`${where}: 'downscales' must be a list of distinct factors in (0, 1), got ${JSON.stringify(downscales)}`);
  const shifts = raw.shifts;
  const shift = (v: unknown) => Array.isArray(v) && v.length === 2 && v.every((d) => Number.isInteger(d) && d >= 0 && d < 16) && (v[0] > 0 || v[1] > 0);
  if (shifts !== undefined && shifts !== 'all' && !(Array.isArray(shifts) && shifts.length > 0 && shifts.every(shift) && new Set(shifts.map(String)).size === shifts.length))
    throw new Error(`${where}: 'shifts' must be "all" or a list of distinct [dx, dy] pixel offsets, integers in [0, 16), not [0, 0], got ${JSON.stringify(shifts)}`);
  return {
    name, description, ema, augment, patches, losses, distill, ...reparamField(raw, where),
    ...(raw.luma ? { luma: true as const } : {}),
    ...(raw.ensemble ? { ensemble: true as const } : {}),
    ...(downscales ? { downscales: downscales as number[] } : {}),
    ...(shifts ? { shifts: shifts as [number, number][] | 'all' } : {}),
  };
}

/** The file of a named recipe, or `nameOrPath` itself when it is a .json file. */
function recipeFile(nameOrPath: string): string {
  if (nameOrPath.endsWith('.json')) return nameOrPath;
  const path = join(RECIPE_DIR, `${nameOrPath}.json`);
  if (!/^[a-z0-9][a-z0-9-]*$/.test(nameOrPath) || !existsSync(path)) throw new Error(`no recipe '${nameOrPath}' (recipes: ${recipeNames().join(', ')}; or a .json file)`);
  return path;
}

export function recipeNames(): string[] {
  return readdirSync(RECIPE_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** A named recipe or a recipe file, with `extends` resolved (fields of the file win over its base's). */
export function loadRecipe(nameOrPath: string, seen: string[] = []): Recipe {
  const path = recipeFile(nameOrPath);
  if (seen.includes(path)) throw new Error(`recipe ${path} extends itself (${[...seen, path].join(' → ')})`);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`recipe ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`recipe ${path}: must be a JSON object`);
  const { extends: base, ...own } = raw;
  const name = nameOrPath.endsWith('.json') ? path : nameOrPath;
  if (base === undefined) return validateRecipe(name, own);
  if (typeof base !== 'string') throw new Error(`recipe ${path}: 'extends' must name a recipe`);
  const { name: _, ...inherited } = loadRecipe(base, [...seen, path]);
  return validateRecipe(name, { ...inherited, ...own });
}

/** The step a fraction of the run starts at (as the lr milestones round theirs). */
const stepOf = (from: number, steps: number) => Math.round(from * steps);

/** LR patch side at 0-based `step` of a `steps`-step run. */
export function patchAt(r: Recipe, base: number, step: number, steps: number): number {
  return r.patches.filter((p) => step >= stepOf(p.from, steps)).at(-1)?.size ?? base;
}

export function lossAt(r: Recipe, step: number, steps: number): LossName {
  return r.losses.filter((l) => step >= stepOf(l.from, steps)).at(-1)!.loss;
}

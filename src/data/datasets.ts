// Benchmark/training sets laid out as `<dataDir>/<Set>/HR/*.{png,jpg,jpeg,bmp}`. LR is never read from disk:
// it is made from HR by our MATLAB-compatible downscale after the top-left crop to a multiple of the scale.
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { crop, modcrop, type RgbImage } from '../image/image.js';
import { readImage } from '../image/io.js';
import { resizeImage } from '../image/resize.js';
import { InputError } from '../util/errors.js';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp'];

/** The standard SR test sets, in the order tables list them. */
export const BENCHMARK_SETS = ['Set5', 'Set14', 'B100', 'Urban100'];

/** An HR/LR pair for one scale: HR cropped to a multiple of `scale`, LR = its bicubic downscale by `scale`. */
export interface ImagePair {
  readonly name: string;
  readonly path: string;
  readonly hr: RgbImage;
  readonly lr: RgbImage;
}

/** Names of the sets in `dataDir` (folders that contain an `HR` folder), sorted. */
export async function listSets(dataDir: string): Promise<string[]> {
  const entries = await readdir(dataDir, { withFileTypes: true }).catch((err: Error) => {
    throw new Error(`cannot list data folder ${dataDir}: ${err.message}`);
  });
  const sets: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const hr = await readdir(join(dataDir, e.name, 'HR')).catch(() => null);
    if (hr !== null) sets.push(e.name);
  }
  return sets.sort();
}

/** Paths of a set's HR images, sorted by name. Unknown or empty sets are errors that list what exists. */
export async function listImages(dataDir: string, set: string): Promise<string[]> {
  const dir = join(dataDir, set, 'HR');
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    const sets = await listSets(dataDir);
    throw new Error(`unknown set '${set}': no ${dir}; sets in ${dataDir}: ${sets.length ? sets.join(', ') : '(none)'}`);
  }
  const images = names.filter((n) => IMAGE_EXTENSIONS.includes(extname(n).toLowerCase())).sort();
  if (images.length === 0) throw new Error(`set '${set}' has no images in ${dir} (looked for ${IMAGE_EXTENSIONS.join(', ')})`);
  return images.map((n) => join(dir, n));
}

/** Loads one HR image and makes its LR for `scale`. */
export async function loadPair(path: string, scale: number): Promise<ImagePair> {
  const full = await readImage(path);
  try {
    return pairOf(basename(path, extname(path)), path, full, scale);
  } catch (err) {
    throw new InputError(`${path}: ${(err as Error).message}`);
  }
}

/** A training pair from a pair's HR downscaled by `factor` (MATLAB's bicubic, antialiased), named NAME@FACTOR;
 *  null when too small to hold one pixel at `scale`. */
export function downscaledPair(pair: ImagePair, factor: number, scale: number): ImagePair | null {
  const hr = resizeImage(pair.hr, factor);
  return hr.width < scale || hr.height < scale ? null : pairOf(`${pair.name}@${factor}`, pair.path, hr, scale);
}

/** A training pair from a pair's HR without its first `dx` columns and `dy` rows, named NAME+DX,DY: its LR
 *  samples the picture at another phase; null when too small to hold one pixel at `scale`. */
export function shiftedPair(pair: ImagePair, dx: number, dy: number, scale: number): ImagePair | null {
  const [w, h] = [pair.hr.width - dx, pair.hr.height - dy];
  return w < scale || h < scale ? null : pairOf(`${pair.name}+${dx},${dy}`, pair.path, crop(pair.hr, dx, dy, w, h), scale);
}

function pairOf(name: string, path: string, full: RgbImage, scale: number): ImagePair {
  const hr = modcrop(full, scale);
  return { name, path, hr, lr: resizeImage(hr, 1 / scale) };
}

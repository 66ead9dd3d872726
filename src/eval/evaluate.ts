// The benchmark protocol: for each HR image, crop to a multiple of the scale, downscale with our
// MATLAB-compatible bicubic, upscale with the model, score Y (PSNR, SSIM) with a `scale`-pixel border cut;
// a set's figure is the mean over its images.
import { listImages, loadPair } from '../data/datasets.js';
import type { RgbImage } from '../image/image.js';
import { scoreY } from '../metrics/score.js';
import { SSIM_WINDOW } from '../metrics/ssim.js';
import { InputError } from '../util/errors.js';
import type { Upscaler } from './upscaler.js';

export interface SetResult {
  readonly psnr: number;
  readonly ssim: number;
  readonly images: number;
}

export interface EvalResult {
  readonly model: string;
  readonly scale: number;
  readonly sets: Record<string, SetResult>;
}

export interface ImageResult {
  readonly set: string;
  readonly name: string;
  readonly psnr: number;
  readonly ssim: number;
  /** 1-based position within the set, and the set's size: for progress reports. */
  readonly index: number;
  readonly total: number;
}

/** Scores `model` on `sets` of `dataDir`. All set names are checked before any image is processed. */
export async function evaluate(
  model: Upscaler,
  dataDir: string,
  sets: readonly string[],
  onImage?: (r: ImageResult) => void,
): Promise<EvalResult> {
  const files = new Map<string, string[]>();
  for (const set of sets) files.set(set, await listImages(dataDir, set));
  const results: Record<string, SetResult> = {};
  for (const [set, paths] of files) {
    let psnr = 0;
    let ssim = 0;
    for (const [i, path] of paths.entries()) {
      const pair = await loadPair(path, model.scale);
      checkScorable(path, pair.hr, model.scale);
      const sr = await model.upscale(pair.lr);
      if (sr.width !== pair.hr.width || sr.height !== pair.hr.height) {
        throw new Error(
          `model ${model.name} turned the ${pair.lr.width}x${pair.lr.height} LR of ${path} into ${sr.width}x${sr.height}; ` +
            `expected ${pair.hr.width}x${pair.hr.height} (x${model.scale})`,
        );
      }
      const score = scoreY(sr, pair.hr, model.scale);
      psnr += score.psnr;
      ssim += score.ssim;
      onImage?.({ set, name: pair.name, ...score, index: i + 1, total: paths.length });
    }
    results[set] = { psnr: psnr / paths.length, ssim: ssim / paths.length, images: paths.length };
  }
  return { model: model.name, scale: model.scale, sets: results };
}

/** SSIM's window must fit inside the HR image once the `scale`-pixel border is cut. */
function checkScorable(path: string, hr: RgbImage, scale: number): void {
  const least = SSIM_WINDOW + 2 * scale;
  if (hr.width >= least && hr.height >= least) return;
  throw new InputError(`${path}: a ${hr.width}x${hr.height} image (cropped to a multiple of ${scale}) is too small to score at ×${scale}: at least ${least}x${least} is needed`);
}

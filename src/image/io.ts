// Reading and writing image files. Everything decodes to 8-bit RGB: grayscale is replicated to three channels
// (Set14's bridge.png), alpha is dropped, as benchmark code does before computing Y.
import { constants } from 'node:buffer';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import sharp from 'sharp';
import { decodeBmp } from './bmp.js';
import { rgbImage, type RgbImage } from './image.js';
import { writeFileAtomic } from '../util/atomic.js';
import { fsCause, InputError } from '../util/errors.js';

/** Decodes a PNG, JPEG or BMP file to RGB. */
export async function readImage(path: string): Promise<RgbImage> {
  return (await readImageFile(path)).image;
}

/** Decodes a PNG, JPEG or BMP file, saying whether an alpha channel was dropped. Errors name the file and
 *  are InputErrors; a missing file's error lists what its folder holds. */
export async function readImageFile(path: string): Promise<{ image: RgbImage; alpha: boolean }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InputError(`image not found: ${path}${await describeFolder(dirname(path))}`);
    throw new InputError(`cannot read image ${path}: ${fsCause(err)}`);
  }
  try {
    // sharp has no BMP loader; T91 and other classic training sets are distributed as BMP.
    if (bytes[0] === 0x42 && bytes[1] === 0x4d) return { image: decodeBmp(bytes), alpha: false };
    // sharp's default pixel limit (268 MP) refuses images that tiling handles; ours is what one array holds.
    const meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    checkImageSize(meta.width ?? 0, meta.height ?? 0, path);
    // No colour management or EXIF rotation: benchmark numbers are defined on the stored pixel values.
    const { data, info } = await sharp(bytes, { limitInputPixels: false })
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    // 1 channel = gray, 2 = gray + alpha.
    const image = rgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length), (meta.channels ?? 3) <= 2);
    return { image, alpha: meta.hasAlpha === true };
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`cannot decode image ${path}: ${(err as Error).message}`);
  }
}

/** The largest RGB image one typed array holds (4 GiB in node 20). */
export const MAX_IMAGE_BYTES = constants.MAX_LENGTH;

/** Throws an InputError naming `what` and its size when a `width`×`height` RGB image cannot be held. */
export function checkImageSize(width: number, height: number, what: string): void {
  const bytes = width * height * 3;
  if (bytes <= MAX_IMAGE_BYTES) return;
  const gb = (n: number) => (n / 1e9).toFixed(2);
  throw new InputError(`${what}: ${width}x${height} (${Math.round((width * height) / 1e6)} megapixels) needs ${gb(bytes)} GB of RGB pixels, more than the ${gb(MAX_IMAGE_BYTES)} GB one image can hold`);
}

/** Writes `img` as an 8-bit RGB PNG, atomically: a killed run leaves the old file (or none), never half a PNG.
 *  With `replace: false` an existing file is an error and stays as it was. */
export async function writePng(path: string, img: RgbImage, { replace = true } = {}): Promise<void> {
  const png = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 }, limitInputPixels: false }).png().toBuffer();
  try {
    writeFileAtomic(path, png, { replace });
  } catch (err) {
    throw new Error(`cannot write ${path}: ${fsCause(err)}`);
  }
}

async function describeFolder(dir: string): Promise<string> {
  let names: string[];
  try {
    names = (await readdir(dir)).sort();
  } catch {
    return ` (folder ${dir} does not exist)`;
  }
  if (names.length === 0) return ` (folder ${dir} is empty)`;
  const shown = names.slice(0, 20).join(', ');
  return ` (${basename(dir)}/ holds ${names.length}: ${shown}${names.length > 20 ? ', …' : ''})`;
}

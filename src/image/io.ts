// Reading and writing image files. Everything decodes to 8-bit RGB: grayscale is replicated to three channels
// (Set14's bridge.png), alpha is dropped, as benchmark code does before computing Y.
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import sharp from 'sharp';
import { decodeBmp } from './bmp.js';
import { rgbImage, type RgbImage } from './image.js';

/** Decodes a PNG, JPEG or BMP file. Errors name the file; a missing file's error lists what its folder holds. */
export async function readImage(path: string): Promise<RgbImage> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`image not found: ${path}${await describeFolder(dirname(path))}`);
    throw new Error(`cannot read image ${path}: ${(err as Error).message}`);
  }
  try {
    // sharp has no BMP loader; T91 and other classic training sets are distributed as BMP.
    if (bytes[0] === 0x42 && bytes[1] === 0x4d) return decodeBmp(bytes);
    const { channels } = await sharp(bytes).metadata();
    // No colour management or EXIF rotation: benchmark numbers are defined on the stored pixel values.
    const { data, info } = await sharp(bytes)
      .removeAlpha()
      .toColourspace('srgb')
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels, expected 3`);
    // 1 channel = gray, 2 = gray + alpha.
    return rgbImage(info.width, info.height, new Uint8Array(data.buffer, data.byteOffset, data.length), channels <= 2);
  } catch (err) {
    throw new Error(`cannot decode image ${path}: ${(err as Error).message}`);
  }
}

/** Writes `img` as an 8-bit RGB PNG. */
export async function writePng(path: string, img: RgbImage): Promise<void> {
  try {
    await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } }).png().toFile(path);
  } catch (err) {
    throw new Error(`cannot write PNG ${path}: ${(err as Error).message}`);
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

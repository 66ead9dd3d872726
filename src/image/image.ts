// The in-memory image type shared by I/O, resizing, metrics and data loading, and its conversions to the
// float layout our tensors use (NHWC float32 in [0, 1]).

/** An 8-bit RGB image: rows top to bottom, pixels interleaved R, G, B (`data.length = width·height·3`). */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
  /** Decoded from a grayscale file (R = G = B). Benchmark code scores such images on the gray level itself
   *  rather than on Y, so the flag survives cropping and resizing. */
  readonly gray?: boolean;
}

/** An HWC float image with any number of channels (model outputs, resize in float). */
export interface FloatImage {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/** Wraps (or allocates) RGB pixel data, checking that its length matches the shape. */
export function rgbImage(
  width: number,
  height: number,
  data: Uint8Array = new Uint8Array(width * height * 3),
  gray = false,
): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`invalid image size ${width}x${height}`);
  }
  if (data.length !== width * height * 3) {
    throw new Error(`RGB data for a ${width}x${height} image needs ${width * height * 3} bytes, got ${data.length}`);
  }
  return gray ? { width, height, data, gray } : { width, height, data };
}

/** HWC float32 in [0, 1]: the layout of one item of an NHWC batch. */
export function toFloat(img: RgbImage): Float32Array {
  const out = new Float32Array(img.data.length);
  for (let i = 0; i < out.length; i++) out[i] = img.data[i] / 255;
  return out;
}

/** Back from HWC float in [0, 1] to uint8, rounding and clipping as an SR output is before it is scored. */
export function fromFloat(data: Float32Array, width: number, height: number): RgbImage {
  if (data.length !== width * height * 3) {
    throw new Error(`float RGB data for a ${width}x${height} image needs ${width * height * 3} values, got ${data.length}`);
  }
  const out = new Uint8Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = clampByte(data[i] * 255);
  return rgbImage(width, height, out);
}

/** MATLAB's uint8 conversion: round half away from zero (only positive values matter here), then saturate. */
export function clampByte(v: number): number {
  if (!(v > 0)) return 0; // also NaN → 0, as MATLAB's uint8(NaN)
  return v >= 254.5 ? 255 : Math.floor(v + 0.5);
}

/** The `width`×`height` region whose top-left corner is (x, y). */
export function crop(img: RgbImage, x: number, y: number, width: number, height: number): RgbImage {
  if (x < 0 || y < 0 || width <= 0 || height <= 0 || x + width > img.width || y + height > img.height) {
    throw new Error(`crop ${width}x${height} at (${x}, ${y}) is outside a ${img.width}x${img.height} image`);
  }
  const out = new Uint8Array(width * height * 3);
  for (let r = 0; r < height; r++) {
    const src = ((y + r) * img.width + x) * 3;
    out.set(img.data.subarray(src, src + width * 3), r * width * 3);
  }
  return rgbImage(width, height, out, img.gray);
}

/** The benchmark pairing: crop HR at the top-left to a multiple of `scale` in both dimensions. */
export function modcrop(img: RgbImage, scale: number): RgbImage {
  const w = img.width - (img.width % scale);
  const h = img.height - (img.height % scale);
  if (w === img.width && h === img.height) return img;
  if (w === 0 || h === 0) throw new Error(`a ${img.width}x${img.height} image is smaller than the scale ${scale}`);
  return crop(img, 0, 0, w, h);
}

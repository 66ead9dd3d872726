// A single-channel float64 image: what PSNR and SSIM are computed on (the Y channel in [0, 255]).

export interface Plane {
  readonly width: number;
  readonly height: number;
  readonly data: Float64Array;
}

/** Removes `border` pixels on every side (SR papers crop `scale` pixels, where upscaling has no context). */
export function shave(p: Plane, border: number): Plane {
  if (border === 0) return p;
  const width = p.width - 2 * border;
  const height = p.height - 2 * border;
  if (width <= 0 || height <= 0) throw new Error(`cannot crop a ${border}-pixel border from a ${p.width}x${p.height} image`);
  const data = new Float64Array(width * height);
  for (let y = 0; y < height; y++) {
    const src = (y + border) * p.width + border;
    data.set(p.data.subarray(src, src + width), y * width);
  }
  return { width, height, data };
}

export function assertSameShape(a: Plane, b: Plane, metric: string): void {
  if (a.width !== b.width || a.height !== b.height) {
    throw new Error(`${metric}: image sizes differ, ${a.width}x${a.height} vs ${b.width}x${b.height}`);
  }
}

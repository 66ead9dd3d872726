// Browser frames ↔ the compiler's RGB images. Pixels are read through a 2D canvas (ImageData is read as it is),
// so every source a canvas can draw works: ImageBitmap, HTMLCanvasElement, OffscreenCanvas, VideoFrame, video and
// image elements. Alpha is dropped on the way in (super-resolution works on RGB) and set opaque on the way out.
import { rgbImage, type RgbImage } from '../image/image.js';

export type FrameSource = ImageBitmap | ImageData | HTMLCanvasElement | OffscreenCanvas | VideoFrame | HTMLVideoElement | HTMLImageElement;

function sizeOf(src: Exclude<FrameSource, ImageData>): { width: number; height: number } {
  if ('displayWidth' in src) return { width: src.displayWidth, height: src.displayHeight };
  if (typeof HTMLVideoElement !== 'undefined' && src instanceof HTMLVideoElement) return { width: src.videoWidth, height: src.videoHeight };
  if (typeof HTMLImageElement !== 'undefined' && src instanceof HTMLImageElement) return { width: src.naturalWidth, height: src.naturalHeight };
  return { width: src.width, height: src.height };
}

/** One reusable canvas per upscaler: a video plays through the same one frame after frame. */
export class FrameReader {
  private canvas: OffscreenCanvas | null = null;

  read(src: FrameSource): RgbImage {
    const data = src instanceof ImageData ? src : this.draw(src);
    return rgbaToRgb(data);
  }

  private draw(src: Exclude<FrameSource, ImageData>): ImageData {
    const { width, height } = sizeOf(src);
    if (!(width > 0 && height > 0)) throw new Error(`upscale: the frame has no pixels (${width}x${height}); is the image or video loaded?`);
    if (this.canvas?.width !== width || this.canvas.height !== height) this.canvas = new OffscreenCanvas(width, height);
    const ctx = this.canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new Error('upscale: this browser gives no 2D canvas context');
    ctx.clearRect(0, 0, width, height);
    ctx.drawImage(src, 0, 0);
    return ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  }
}

export function rgbaToRgb(img: ImageData): RgbImage {
  const { width, height, data } = img;
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = data[i];
    rgb[j + 1] = data[i + 1];
    rgb[j + 2] = data[i + 2];
  }
  return rgbImage(width, height, rgb);
}

export function rgbToImageData(img: RgbImage): ImageData {
  const rgba = new Uint8ClampedArray(img.width * img.height * 4);
  for (let i = 0, j = 0; j < img.data.length; i += 4, j += 3) {
    rgba[i] = img.data[j];
    rgba[i + 1] = img.data[j + 1];
    rgba[i + 2] = img.data[j + 2];
    rgba[i + 3] = 255;
  }
  return new ImageData(rgba, img.width, img.height);
}

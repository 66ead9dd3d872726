// A minimal BMP decoder (sharp has none): uncompressed 24- and 32-bit, and 8-bit palette images, which covers
// the classic SR training sets (T91, BSD200 conversions). Anything else is rejected with its header values.
import { rgbImage, type RgbImage } from './image.js';

export function decodeBmp(bytes: Uint8Array): RgbImage {
  if (bytes.length < 54 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) throw new Error('not a BMP file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const pixelOffset = view.getUint32(10, true);
  const headerSize = view.getUint32(14, true);
  if (headerSize < 40) throw new Error(`unsupported BMP header of ${headerSize} bytes (OS/2 bitmaps are not supported)`);
  const width = view.getInt32(18, true);
  const signedHeight = view.getInt32(22, true);
  const bits = view.getUint16(28, true);
  const compression = view.getUint32(30, true);
  const height = Math.abs(signedHeight);
  if (width <= 0 || height === 0) throw new Error(`invalid BMP size ${width}x${signedHeight}`);
  if (compression !== 0 || (bits !== 24 && bits !== 32 && bits !== 8)) {
    throw new Error(`unsupported BMP: ${bits}-bit, compression ${compression} (only uncompressed 8/24/32-bit)`);
  }
  const stride = Math.ceil((width * bits) / 32) * 4; // rows are padded to 4 bytes
  if (pixelOffset + stride * height > bytes.length) {
    throw new Error(`truncated BMP: ${width}x${height} ${bits}-bit needs ${pixelOffset + stride * height} bytes, file has ${bytes.length}`);
  }
  // 8-bit: palette of BGRX entries right after the info header.
  const paletteStart = 14 + headerSize;
  const paletteSize = bits === 8 ? view.getUint32(46, true) || 256 : 0;
  const out = new Uint8Array(width * height * 3);
  const bytesPerPixel = bits / 8;
  for (let y = 0; y < height; y++) {
    // Positive height means the rows are stored bottom-up.
    const row = pixelOffset + (signedHeight > 0 ? height - 1 - y : y) * stride;
    for (let x = 0; x < width; x++) {
      let p = row + x * bytesPerPixel;
      if (bits === 8) {
        const index = bytes[p];
        if (index >= paletteSize) throw new Error(`BMP palette index ${index} out of range (palette has ${paletteSize})`);
        p = paletteStart + index * 4;
      }
      const o = (y * width + x) * 3;
      out[o] = bytes[p + 2];
      out[o + 1] = bytes[p + 1];
      out[o + 2] = bytes[p];
    }
  }
  return rgbImage(width, height, out);
}

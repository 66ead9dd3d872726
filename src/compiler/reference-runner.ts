// The `reference` backend of compile(): the folded, unfused graph run by the interpreter on the reference
// kernels — slow, and the oracle the native backend is tested against.
import { clampByte } from '../image/image.js';
import type { Io } from './codegen.js';
import { channelsOf, type Graph } from './ir.js';
import { interpret } from './interpret.js';
import type { Frame } from './native-kernels.js';
import type { Rect } from './tiles.js';

export class ReferenceRunner {
  constructor(readonly graph: Graph) {}

  /** The interpreter keeps every value of the window alive (and a padded copy of a conv input). */
  workingBytes(h: number, w: number): number {
    const channels = [...channelsOf(this.graph).values()].reduce((a, c) => a + c, 0);
    return 4 * h * w * (channels + 2 * Math.max(...channelsOf(this.graph).values()));
  }

  runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): void {
    const x = new Float32Array(win.h * win.w * 3);
    for (let y = 0; y < win.h; y++)
      for (let i = 0; i < win.w * 3; i++) {
        const v = src[((win.y + y) * frameWidth + win.x) * 3 + i];
        x[y * win.w * 3 + i] = io === 'u8' ? v / 255 : v;
      }
    const out = interpret(this.graph, x, win.h, win.w);
    const s = this.graph.scale;
    const [ow, fw] = [win.w * s, frameWidth * s];
    for (let y = keep.y * s; y < (keep.y + keep.h) * s; y++)
      for (let i = keep.x * s * 3; i < (keep.x + keep.w) * s * 3; i++) {
        const v = out[(y - win.y * s) * ow * 3 + i - win.x * s * 3];
        dst[y * fw * 3 + i] = io === 'u8' ? clampByte(v * 255) : v;
      }
  }
}

// The reference target: the folded, unfused graph run node by node by the interpreter on the reference
// kernels — slow, available everywhere, and the oracle every other target is tested against.
import type { Graph } from '../../compiler/ir.js';
import { channelsOf } from '../../compiler/ir.js';
import { interpret } from '../../compiler/interpret.js';
import type { Io } from '../../compiler/stage.js';
import type { Rect } from '../../compiler/tiles.js';
import { clampByte } from '../../image/image.js';
import { f32Only, type Frame, type Target, type WindowRunner } from '../target.js';

class ReferenceRunner implements WindowRunner {
  constructor(readonly graph: Graph) {}

  /** The interpreter keeps every value of the window alive (and a padded copy of a conv input). */
  workingBytes(h: number, w: number): number {
    const channels = [...channelsOf(this.graph).values()];
    return 4 * h * w * (channels.reduce((a, c) => a + c, 0) + 2 * Math.max(...channels));
  }

  async runWindow(src: Frame, io: Io, frameWidth: number, win: Rect, keep: Rect, dst: Frame): Promise<void> {
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

  async dispose(): Promise<void> {}
}

export const referenceTarget: Target = {
  name: 'reference',
  unavailable: async (p) => (p === 'f16' ? f32Only('reference') : null),
  describe: async () => 'reference (TypeScript interpreter)',
  defaultThreads: () => 1,
  createRunner: async (graph) => new ReferenceRunner(graph),
};

// Tiling a frame that does not fit the memory budget: tiles whose windows overlap by the receptive-field
// radius, so every kept output pixel sees exactly the inputs it sees in the untiled frame (a window edge that
// is not an image edge only disturbs the halo, which is thrown away).
import { type Graph, INPUT, inputsOf, type ValueId } from './ir.js';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

export interface Tile {
  /** The input window the model runs on. */
  readonly win: Rect;
  /** The part of the window whose output is kept (LR coordinates of the frame). */
  readonly keep: Rect;
}

/** How far (in input pixels) an output pixel sees: the largest sum of conv radii along any path. */
export function receptiveRadius(g: Graph): number {
  const r = new Map<ValueId, number>([[INPUT, 0]]);
  for (const n of g.nodes) {
    const reach = Math.max(...inputsOf(n).map((v) => r.get(v)!));
    switch (n.op) {
      case 'conv':
        r.set(n.y, reach + (n.k - 1) / 2);
        break;
      case 'stage':
        r.set(n.y, Math.max(reach, ...n.terms.map((t) => r.get(t.x)! + (t.k - 1) / 2)));
        break;
      default:
        r.set(n.y, reach);
    }
  }
  return r.get(g.output)!;
}

/**
 * Tiles of an h×w frame whose windows each need at most `budget` bytes (`bytes(h, w)` for a window). Full-width
 * strips are preferred (the kernels work row by row, and a strip has halo above and below only); columns are
 * split only when a strip of a few rows does not fit.
 */
export function planTiles(h: number, w: number, radius: number, budget: number, bytes: (h: number, w: number) => number): Tile[] {
  if (bytes(h, w) <= budget) return [{ win: { x: 0, y: 0, w, h }, keep: { x: 0, y: 0, w, h } }];
  const minRows = Math.min(h, Math.max(8, 2 * radius));
  for (let cols = 1; cols <= w; cols++) {
    const tw = Math.ceil(w / cols);
    const winW = Math.min(w, tw + 2 * radius);
    let th = 0;
    for (let step = h; step >= 1; step >>= 1) while (th + step <= h && bytes(Math.min(h, th + step + 2 * radius), winW) <= budget) th += step;
    if (th < minRows && cols < w) continue;
    if (th === 0) break;
    const rows = Math.ceil(h / th);
    const bh = Math.ceil(h / rows);
    const tiles: Tile[] = [];
    for (let y = 0; y < h; y += bh)
      for (let x = 0; x < w; x += tw) {
        const keep = { x, y, w: Math.min(tw, w - x), h: Math.min(bh, h - y) };
        const x0 = Math.max(0, x - radius);
        const y0 = Math.max(0, y - radius);
        const win = { x: x0, y: y0, w: Math.min(w, keep.x + keep.w + radius) - x0, h: Math.min(h, keep.y + keep.h + radius) - y0 };
        tiles.push({ win, keep });
      }
    return tiles;
  }
  throw new Error(`memory budget of ${budget} bytes is too small for even a 1-pixel tile with a ${radius}-pixel halo (needs ${bytes(1 + 2 * radius, 1 + 2 * radius)})`);
}

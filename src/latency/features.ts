// What the speed model sees of a part: per-term cost features computed from widths given as tensors, so the
// predicted latency is differentiable in the widths. A compiler vectorises one channel dimension in groups of
// `align` lanes, so a conv costs like its output channels rounded up to a multiple of align ("padded"); the
// other terms are the data each conv reads and writes.
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import type { BlockConfig, Part } from './runner.js';

/** A constant tensor shaped like x (no gradient). */
function constantLike(x: Tensor, f: (v: number) => number): Tensor {
  return new Tensor(Float32Array.from(x.data, f), x.shape);
}

/** x rounded up to a multiple of `align` at the nearest integer width, with dpadded/dx = 1: the lanes wasted
 *  by rounding up are a constant of the integer width, so the gradient is the trend and the value is exact at
 *  integer widths (jumps sit at half-integers, where no search evaluates). */
export function padded(x: Tensor, align: number): Tensor {
  if (align === 1) return x;
  return ops.add(x, constantLike(x, (v) => {
    const n = Math.max(0, Math.round(v));
    return Math.ceil(n / align) * align - n;
  }));
}

export interface TermSet {
  /** One name per feature, for the model file and docs. */
  readonly names: readonly string[];
  /** Feature tensors for widths of one shape (a scalar per width, or [B] for B parts at once). */
  features(w: Widths, align: number): Tensor[];
}

export interface Widths {
  readonly c: Tensor;
  /** Block widths; absent for heads and tails. */
  readonly m1?: Tensor;
  readonly m2?: Tensor;
}

/** Width tensors [B] of B parts (heads and tails have c only). */
export function widthColumns(parts: readonly Part[]): Widths {
  const col = (f: (p: Part) => number) => new Tensor(Float32Array.from(parts, f), [parts.length]);
  if (!parts.every((p) => p.kind === 'block')) return { c: col((p) => p.c) };
  return { c: col((p) => p.c), m1: col((p) => (p as BlockConfig).m1), m2: col((p) => (p as BlockConfig).m2) };
}

const one = (x: Tensor) => constantLike(x, () => 1);

function blockWidths(w: Widths): { c: Tensor; m1: Tensor; m2: Tensor } {
  if (!w.m1 || !w.m2) throw new Error('block features need m1 and m2');
  return { c: w.c, m1: w.m1, m2: w.m2 };
}

/**
 * An adaptive block: per conv, input channels × padded output channels (its vectorised MACs per pixel:
 * 1×1 C→M1, 1×1 M1→M2, 3×3 M2→C), the widths themselves (activations read and written, the residual add)
 * and a constant (kernel launches, per-call overhead).
 */
export const BLOCK_TERMS: TermSet = {
  names: ['1', 'C·pad(M1)', 'M1·pad(M2)', 'M2·pad(C)', 'C', 'M1', 'M2'],
  features(w, align) {
    const { c, m1, m2 } = blockWidths(w);
    return [one(c), ops.mul(c, padded(m1, align)), ops.mul(m1, padded(m2, align)), ops.mul(m2, padded(c, align)), c, m1, m2];
  },
};

/** A measured time per C: (C, ms) points, C strictly increasing. */
export type CTable = readonly (readonly [number, number])[];

/**
 * Piecewise-linear through a table's points, so exact at every measured C and differentiable in c (the slope
 * of c's segment; at a point, the segment to its right). Below the first point: its value (no search goes
 * below the table); above the last: the overall trend, the line through the first and last points.
 */
export function interpolate(c: Tensor, table: CTable): Tensor {
  const [c0, y0] = table[0];
  const [cn, yn] = table[table.length - 1];
  const trend = table.length > 1 ? (yn - y0) / (cn - c0) : 0;
  const segment = (v: number): [number, number] => {
    if (v < c0) return [0, y0];
    if (v >= cn) return [trend, yn - trend * cn];
    let i = 0;
    while (table[i + 1][0] <= v) i++;
    const [[a, ya], [b, yb]] = [table[i], table[i + 1]];
    const slope = (yb - ya) / (b - a);
    return [slope, ya - slope * a];
  };
  return ops.add(ops.mul(c, constantLike(c, (v) => segment(v)[0])), constantLike(c, (v) => segment(v)[1]));
}

/** Σ_j coef_j · feature_j; coefficients are [1] tensors (trainable while fitting, constants when predicting). */
export function linearCombination(features: readonly Tensor[], coef: readonly Tensor[]): Tensor {
  if (features.length !== coef.length) throw new Error(`linearCombination: ${features.length} features, ${coef.length} coefficients`);
  return features.map((f, j) => ops.mulChannels(f, coef[j])).reduce((a, b) => ops.add(a, b));
}

/** Multiply-accumulates per pixel of a block: the FLOPs baseline's only feature. */
export const blockMacs = (c: number, m1: number, m2: number) => c * m1 + m1 * m2 + 9 * m2 * c;

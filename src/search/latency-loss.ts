// The search's latency term: the speed model's prediction for the network the gates select now, and the
// seed's penalty γ·max(0, (T − T_target)/(T_supernet − T_target)) plus a weaker pull up from below. The
// widths enter as sums of the straight-through gate masks, so the prediction's gradient reaches every width
// gate — what the seed's release did not do (it detached the widths, so only depth felt the budget); `widthGradient: false` is
// that variant, kept for the ablation.
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import type { SpeedModel } from '../latency/speed-model.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { type BlockGates, GATE_THRESHOLD, MIN_CHANNELS, type Supernet } from './supernet.js';

/** A differentiable speed model: scalar width tensors in, predicted milliseconds (a scalar tensor) out. */
export interface LatencyPredictor {
  /** One adaptive block at residual width c and inner widths m1, m2. */
  block(c: Tensor, m1: Tensor, m2: Tensor): Tensor;
  /** Everything but the blocks (head, tail, skip) at residual width c. */
  fixed(c: Tensor): Tensor;
}

export interface LatencyUse {
  /** Depth gates choose blocks (else every block counts). */
  depth: boolean;
  /** Gradient to the width gates (rtsr) or not (the seed's release). */
  widthGradient: boolean;
}

/** The fitted speed model (rtsr speed-model fit) as the search's predictor. */
export function speedModelPredictor(m: SpeedModel): LatencyPredictor {
  return {
    block: (c, m1, m2) => m.inNetwork(m.blockMs(c, m1, m2)),
    fixed: (c) => m.outsideBlocksMs(c),
  };
}

const scalar = (v: number) => new Tensor(Float32Array.of(v), []);

/** Predicted milliseconds of the network the gates select, differentiable in the gates. */
export function predictedMs(net: Supernet, p: LatencyPredictor, use: LatencyUse): Tensor {
  const g = net.gateTensors();
  const width = (mask: Tensor) => (use.widthGradient ? ops.sum(mask) : scalar(mask.data.reduce((a, b) => a + b, 0)));
  const c = width(g.c);
  let total = p.fixed(c);
  for (const b of g.blocks) {
    const ms = p.block(c, width(b.m1), width(b.m2));
    total = ops.add(total, use.depth ? ops.mul(ops.reshape(b.keep, []), ms) : ms);
  }
  return total;
}

/** Predicted milliseconds of a WDSR-B network (the supernet itself: every channel and block kept). */
export function specMs(spec: WdsrSpec, p: LatencyPredictor): number {
  const c = scalar(spec.channels);
  return spec.blocks.reduce((acc, b) => acc + p.block(c, scalar(b.m1), scalar(b.m2)).data[0], p.fixed(c).data[0]);
}

/** The width layers that count in the selected network: C and each kept block's M1 and M2, as (gates, live). */
function keptLayers(net: Supernet): [Float32Array, boolean[]][] {
  const sel = net.selection();
  const layers: [Float32Array, boolean[]][] = [[net.gates.c.data, sel.c]];
  net.gates.blocks.forEach((b, i) => {
    if (sel.blocks[i].keep) layers.push([b.m1.data, sel.blocks[i].m1], [b.m2.data, sel.blocks[i].m2]);
  });
  return layers;
}

const selectedMs = (net: Supernet, p: LatencyPredictor) => predictedMs(net, p, { depth: true, widthGradient: false }).data[0];

/** Closes the gated stages: while the selected network is predicted over the budget, the live channel whose
 *  gate is closest above the threshold (the one the search was least sure of) is turned off, in C or a kept
 *  block's M1 / M2 with more than MIN_CHANNELS live. Gates near 0.5 flip until the last steps, so the last
 *  step's selection can sit a little over. Returns the number of channels turned off. */
export function trimToBudget(net: Supernet, p: LatencyPredictor, budgetMs: number): number {
  for (let trimmed = 0; ; trimmed++) {
    if (selectedMs(net, p) <= budgetMs) return trimmed;
    let best: Float32Array | null = null;
    let at = -1;
    for (const [gates, live] of keptLayers(net)) {
      if (live.filter(Boolean).length <= MIN_CHANNELS) continue;
      for (let i = 0; i < gates.length; i++) if (live[i] && (!best || gates[i] < best[at])) [best, at] = [gates, i];
    }
    if (!best) return trimmed; // every layer at its narrowest: only depth could go further
    best[at] = GATE_THRESHOLD - 1e-4;
  }
}

/** Turns something on if the selected network still meets the budget after it, else turns it back off. */
function keptIfFits(net: Supernet, p: LatencyPredictor, budgetMs: number, turnOn: () => () => void): boolean {
  const undo = turnOn();
  if (selectedMs(net, p) <= budgetMs) return true;
  undo();
  return false;
}

/** Dead channels of C and the kept blocks turned on, highest gate first (the ones the search came closest to
 *  keeping), each while the network still meets the budget. */
function fillChannels(net: Supernet, p: LatencyPredictor, budgetMs: number): number {
  const layers = keptLayers(net);
  // A layer held at MIN_CHANNELS by its largest gates (some under 0.5) keeps the same channels with them
  // at 0.5, and a dead channel turned on then adds to it instead of displacing one.
  for (const [gates, live] of layers) live.forEach((on, i) => on && gates[i] < GATE_THRESHOLD && (gates[i] = GATE_THRESHOLD));
  const dead = layers.flatMap(([gates, live]) => live.flatMap((on, i) => (on ? [] : [{ gates, i, g: gates[i] }])));
  dead.sort((a, b) => b.g - a.g);
  return dead.filter((d) => keptIfFits(net, p, budgetMs, () => {
    d.gates[d.i] = GATE_THRESHOLD;
    return () => (d.gates[d.i] = d.g);
  })).length;
}

/** Skipped blocks, the one closest to kept (keep − skip highest) first. */
const closestToKept = (blocks: readonly BlockGates[]) => [...blocks].sort((a, b) => b.keep.data[0] - b.skip.data[0] - (a.keep.data[0] - a.skip.data[0]));

/** Keeps a block (skip < keep) with its keep gate as it was where it already passes; returns the undo. */
function turnOnBlock(b: BlockGates): () => void {
  const [skip, keep] = [b.skip.data[0], b.keep.data[0]];
  [b.skip.data[0], b.keep.data[0]] = [Math.max(0, keep - 1e-4), Math.max(keep, 1e-4)];
  return () => ([b.skip.data[0], b.keep.data[0]] = [skip, keep]);
}

/** Skipped blocks turned back on at the widths their gates select, the one closest to kept first, each while the
 *  network still meets the budget. */
function restoreBlocks(net: Supernet, p: LatencyPredictor, budgetMs: number): number {
  const sel = net.selection();
  const skipped = net.gates.blocks.filter((_, i) => !sel.blocks[i].keep);
  return closestToKept(skipped).filter((b) => keptIfFits(net, p, budgetMs, () => turnOnBlock(b))).length;
}

/** The other side: a joint stage that ends under the budget leaves time unspent (depth moves in steps of a
 *  whole block, and the pull up from below is the weaker side). Dead channels are turned on first, as the
 *  search's finer choice; only where every kept layer is full and a whole block still fits do skipped blocks
 *  come back, and then their dead channels too. Returns how many of each were turned on. */
export function fillToBudget(net: Supernet, p: LatencyPredictor, budgetMs: number): { blocks: number; channels: number } {
  let channels = fillChannels(net, p, budgetMs);
  const blocks = restoreBlocks(net, p, budgetMs);
  if (blocks > 0) channels += fillChannels(net, p, budgetMs);
  return { blocks, channels };
}

/** The narrowest network of the space with one block (every width at MIN_CHANNELS): if it is predicted over the
 *  budget, no network with a block meets it. */
export function narrowestOneBlock(spec: WdsrSpec): WdsrSpec {
  return { ...spec, channels: MIN_CHANNELS, blocks: [{ m1: MIN_CHANNELS, m2: MIN_CHANNELS }] };
}

/** Never an empty network while a block fits: when the selection keeps no block, the skipped block closest to kept
 *  comes back and the network is trimmed (trimToBudget) until it meets the budget — trimming stops at the narrowest
 *  one-block network, so this works whenever that one fits. Returns the channels trimmed to make room, or null
 *  (gates untouched) when a block is kept already or none fits. */
export function keepOneBlock(net: Supernet, p: LatencyPredictor, budgetMs: number): number | null {
  if (net.selection().blocks.some((b) => b.keep) || net.gates.blocks.length === 0) return null;
  if (specMs(narrowestOneBlock(net.spec), p) > budgetMs) return null;
  turnOnBlock(closestToKept(net.gates.blocks)[0]);
  return trimToBudget(net, p, budgetMs);
}

/** γ·(max(0, T − target) + below·max(0, target − T))/span, span = T_supernet − the stage's final target; below 0
 *  is the seed's one-sided penalty. Null when the supernet already meets that target (span ≤ 0). */
export function latencyPenalty(t: Tensor, target: number, span: number, gamma: number, below: number): Tensor | null {
  if (span <= 0) return null;
  const over = ops.relu(ops.affine(t, 1 / span, -target / span));
  const under = ops.relu(ops.affine(t, -1 / span, target / span));
  return ops.add(ops.affine(over, gamma, 0), ops.affine(under, gamma * below, 0));
}

/** The target at 0-based `step` of a stage that moves it linearly from `from` to `to` over the first `ramp`
 *  (0..1) of its `steps`, then holds it; ramp 0 is the seed's fixed target. */
export function rampedTarget(from: number, to: number, step: number, steps: number, ramp: number): number {
  const f = ramp > 0 ? Math.min(1, step / (ramp * steps)) : 1;
  return from + (to - from) * f;
}

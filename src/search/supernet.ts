// The search's supernet, as in the seed: WDSR-B at its widest with a gate per channel — one vector on the
// residual width C shared by every block and the tail, and per block one on M1 (after the expansion ReLU) and
// one on M2 (after the linear 1×1) — plus a (skip, keep) pair per block for depth. The forward pass uses hard
// decisions (a channel lives when its gate ≥ 0.5, at least MIN_CHANNELS per layer; a block is skipped when
// skip ≥ keep); the backward pass hands the gradient to the gate values straight through, or by the Taylor
// rule (ops.GateWorth) to the width and keep gates.
import * as ops from '../engine/ops.js';
import type { GateWorth } from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import { MIN_WIDTH } from '../latency/sampling.js';
import type { ConvDef, ParamMap } from '../models/arch.js';
import { convWeight, param } from '../models/layers.js';
import { convs, Model } from '../models/model.js';
import { wdsrForward, type WdsrHooks, type WdsrSpec } from '../models/wdsr.js';
import { Rng } from '../util/random.js';

export const GATE_THRESHOLD = 0.5;
/** The seed keeps a layer's 8 largest gates when fewer pass: the search space's narrowest width. */
export const MIN_CHANNELS = MIN_WIDTH;

export interface BlockGates {
  m1: Tensor;
  m2: Tensor;
  skip: Tensor;
  keep: Tensor;
}

export interface Gates {
  c: Tensor;
  blocks: BlockGates[];
}

/** Which gates the forward pass applies: none (pretraining the plain supernet), widths, or widths and depth. */
export interface GateUse {
  widths: boolean;
  depth: boolean;
}

/** The architecture the gates select now: the residual width, and per block kept or not and its widths. */
export interface Selection {
  c: boolean[];
  blocks: { keep: boolean; m1: boolean[]; m2: boolean[] }[];
}

/** Channels whose gate ≥ 0.5; when fewer than min(MIN_CHANNELS, all) pass, the largest gates are kept instead. */
export function hardMask(g: Float32Array): boolean[] {
  const keep = [...g].map((v) => v >= GATE_THRESHOLD);
  const need = Math.min(MIN_CHANNELS, g.length);
  if (keep.filter(Boolean).length >= need) return keep;
  const order = [...g.keys()].sort((a, b) => g[b] - g[a] || a - b);
  const top = new Set(order.slice(0, need));
  return keep.map((_, i) => top.has(i));
}

const asFloats = (m: boolean[]) => Float32Array.from(m, (b) => (b ? 1 : 0));

export class Supernet {
  constructor(
    readonly model: Model & { spec: WdsrSpec },
    readonly gates: Gates,
  ) {}

  /** Widest network with fresh weights; width gates uniform in [0.5, 1], skip in [0, 0.2], keep in [0.8, 1]. */
  static init(spec: WdsrSpec, seed: number): Supernet {
    const model = Model.init(spec, seed) as Model & { spec: WdsrSpec };
    const rng = new Rng(seed + 0x9a7e);
    const uniform = (n: number, lo: number, hi: number) => new Tensor(rng.fill(new Float32Array(n), () => rng.uniform(lo, hi)), [n], true);
    return new Supernet(model, {
      c: uniform(spec.channels, 0.5, 1),
      blocks: spec.blocks.map((b) => ({ m1: uniform(b.m1, 0.5, 1), m2: uniform(b.m2, 0.5, 1), skip: uniform(1, 0, 0.2), keep: uniform(1, 0.8, 1) })),
    });
  }

  get spec(): WdsrSpec {
    return this.model.spec;
  }

  widthGates(): Tensor[] {
    return [this.gates.c, ...this.gates.blocks.flatMap((b) => [b.m1, b.m2])];
  }

  depthGates(): Tensor[] {
    return this.gates.blocks.flatMap((b) => [b.skip, b.keep]);
  }

  selection(): Selection {
    return {
      c: hardMask(this.gates.c.data),
      blocks: this.gates.blocks.map((b) => ({ keep: b.skip.data[0] < b.keep.data[0], m1: hardMask(b.m1.data), m2: hardMask(b.m2.data) })),
    };
  }

  /** Hard gates as straight-through tensors: forward 0/1, gradient to the gate values. */
  gateTensors(): { c: Tensor; blocks: { m1: Tensor; m2: Tensor; skip: Tensor; keep: Tensor }[] } {
    const sel = this.selection();
    return {
      c: ops.straightThrough(this.gates.c, asFloats(sel.c)),
      blocks: this.gates.blocks.map((b, i) => ({
        m1: ops.straightThrough(b.m1, asFloats(sel.blocks[i].m1)),
        m2: ops.straightThrough(b.m2, asFloats(sel.blocks[i].m2)),
        skip: ops.straightThrough(b.skip, Float32Array.of(sel.blocks[i].keep ? 0 : 1)),
        keep: ops.straightThrough(b.keep, Float32Array.of(sel.blocks[i].keep ? 1 : 0)),
      })),
    };
  }

  /** `worth`: how the width and keep gates learn from the loss (ops.GateWorth). */
  forward(x: Tensor, use: GateUse, worth: GateWorth = 'straight-through'): Tensor {
    if (!use.widths && !use.depth) return this.model.forward(x);
    const sel = this.selection();
    const { c, blocks } = this.gates;
    const hooks: WdsrHooks = {};
    if (use.widths) {
      hooks.inputGate = { gate: c, mask: asFloats(sel.c), worth }; // read before every block and the tail
      hooks.widthGates = (i) => ({
        m1: { gate: blocks[i].m1, mask: asFloats(sel.blocks[i].m1), worth },
        m2: { gate: blocks[i].m2, mask: asFloats(sel.blocks[i].m2), worth },
      });
    }
    if (use.depth && worth === 'taylor') {
      // The block's worth is its body's (x + body, or x when skipped); its skip value is the keep gate's threshold.
      hooks.merge = (i, h, body) => ops.add(h, ops.gateChannels(body, blocks[i].keep, Float32Array.of(sel.blocks[i].keep ? 1 : 0), worth));
    } else if (use.depth) {
      const g = this.gateTensors().blocks;
      // The seed's mix β_skip·x + β_keep·(body + x): the body runs even when skipped, so the keep gate has a gradient.
      hooks.mix = (i, h, out) => ops.depthMix(h, out, g[i].skip, g[i].keep);
    }
    return wdsrForward(this.spec, this.model.params, x, hooks);
  }

  /** The narrower WDSR-B the gates select, with the same function as the gated supernet: dead channels and
   *  skipped blocks removed, weight normalisation folded and re-expressed for the sliced weights. */
  derive(use: GateUse = { widths: true, depth: true }): Model {
    const all = (n: number) => Array<boolean>(n).fill(true);
    const sel = this.selection();
    const c = use.widths ? sel.c : all(this.spec.channels);
    const kept = this.spec.blocks.map((b, i) => ({
      i,
      keep: use.depth ? sel.blocks[i].keep : true,
      m1: use.widths ? sel.blocks[i].m1 : all(b.m1),
      m2: use.widths ? sel.blocks[i].m2 : all(b.m2),
    })).filter((b) => b.keep);
    const count = (m: boolean[]) => m.filter(Boolean).length;
    const spec: WdsrSpec = { arch: 'wdsr-b', scale: this.spec.scale, channels: count(c), blocks: kept.map((b) => ({ m1: count(b.m1), m2: count(b.m2) })) };
    const src = new Map(convs(this.spec).map((d) => [d.name, d]));
    const rgb = all(3);
    const out = all(3 * spec.scale * spec.scale);
    const params: ParamMap = new Map();
    const copy = (from: string, to: string, cin: boolean[], cout: boolean[]) => sliceConv(this.model.params, src.get(from)!, to, cin, cout, params);
    copy('head', 'head', rgb, c);
    kept.forEach((b, j) => {
      copy(`blocks.${b.i}.expand`, `blocks.${j}.expand`, c, b.m1);
      copy(`blocks.${b.i}.reduce`, `blocks.${j}.reduce`, b.m1, b.m2);
      copy(`blocks.${b.i}.conv`, `blocks.${j}.conv`, b.m2, c);
    });
    copy('tail', 'tail', c, out);
    copy('skip', 'skip', rgb, out);
    return new Model(spec, params);
  }
}

/** Copies the kept input/output channels of a conv's effective weight into `<to>.v/.g/.b` of `params`. */
function sliceConv(from: ParamMap, def: ConvDef, to: string, cin: boolean[], cout: boolean[], params: ParamMap): void {
  const w = convWeight(from, def).data;
  const b = param(from, `${def.name}.b`).data;
  const ins = [...cin.keys()].filter((i) => cin[i]);
  const outs = [...cout.keys()].filter((o) => cout[o]);
  const k = def.k;
  const v = new Float32Array(k * k * ins.length * outs.length);
  let n = 0;
  for (let t = 0; t < k * k; t++) for (const i of ins) for (const o of outs) v[n++] = w[(t * def.cin + i) * def.cout + o];
  const norms = new Float32Array(outs.length);
  for (let j = 0; j < v.length; j++) norms[j % outs.length] += v[j] * v[j];
  // A kept output channel whose kept weights are all zero gets direction e₀ and gain 0, so w stays 0.
  norms.forEach((n2, o) => {
    if (n2 === 0) v[o] = 1;
  });
  params.set(`${to}.v`, new Tensor(v, [k, k, ins.length, outs.length], true));
  params.set(`${to}.g`, new Tensor(norms.map((n2) => Math.sqrt(n2)), [outs.length], true));
  params.set(`${to}.b`, new Tensor(Float32Array.from(outs, (o) => b[o]), [outs.length], true));
}

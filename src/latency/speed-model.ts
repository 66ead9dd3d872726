// The speed model: predicted latency of adaptive WDSR-B networks on one device, differentiable in the widths.
// A block is a non-negative linear combination of cost terms (features.ts); head and tail are measured per-C
// tables; a whole network composes them with a factor and a per-block offset fitted on whole networks. Saved
// as JSON beside the profile it was fitted on (docs/speed-model.md).
import { readFileSync } from 'node:fs';
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BLOCK_TERMS, type CTable, interpolate, linearCombination, widthColumns } from './features.js';
import type { DeviceFingerprint, ProfileSetup } from './profile-file.js';
import type { BlockConfig, Part } from './runner.js';

export const MODEL_FORMAT = 'rtsr-speed-model';
export const MODEL_VERSION = 2;

export interface SpeedModelData {
  readonly format: typeof MODEL_FORMAT;
  readonly version: typeof MODEL_VERSION;
  readonly setup: ProfileSetup;
  readonly device: DeviceFingerprint;
  /** The profile it was fitted on, and how its blocks were split into fitted and held out. */
  readonly profile: string;
  readonly split: { readonly holdout: number; readonly seed: number };
  /** Channel alignment of the padded terms, chosen by validation among the candidates. */
  readonly align: number;
  /** Validation MAPE of each candidate alignment (the evidence for `align`). */
  readonly alignValidation: Readonly<Record<string, number>>;
  /** Block coefficients in ms per unit of each term, in the order of the term names. */
  readonly block: readonly number[];
  /** Head and tail as measured for every C profiled, (C, ms): they are few, and the tuner's choices make them
   *  step where no smooth function of C would (a tail 20 % slower than both neighbours). */
  readonly head: CTable;
  readonly tail: CTable;
  /** Whole network ≈ networkFactor · (head + Σ blocks + tail) + blockOffsetMs · blocks, fitted on the
   *  profiled networks (fit.ts fitComposition). */
  readonly networkFactor: number;
  readonly blockOffsetMs: number;
  /** The FLOPs-proportional baseline fitted on the same blocks: ms per multiply-accumulate per pixel. */
  readonly flopsMsPerMac: number;
}

/** One block of a network for `modelMs`: its widths, and optionally a keep gate (depth search's β2). */
export interface BlockWidths {
  readonly m1: Tensor;
  readonly m2: Tensor;
  readonly keep?: Tensor;
}

export class SpeedModel {
  private readonly coef: Tensor[];

  constructor(readonly data: SpeedModelData) {
    if (data.block.length !== BLOCK_TERMS.names.length)
      throw new Error(`speed model: 'block' needs ${BLOCK_TERMS.names.length} coefficients (${BLOCK_TERMS.names.join(', ')}), has ${data.block.length}`);
    this.coef = data.block.map((x) => new Tensor(Float32Array.of(x), [1]));
    for (const [name, t] of [['head', data.head], ['tail', data.tail]] as const) {
      const ok = Array.isArray(t) && t.length > 0 && t.every((p, i) => Array.isArray(p) && p.length === 2 && p.every(Number.isFinite) && (i === 0 || p[0] > t[i - 1][0]));
      if (!ok) throw new Error(`speed model: '${name}' must be (C, ms) pairs of numbers with C increasing, at least one`);
    }
  }

  /** Block latency in ms. c, m1, m2: tensors of one shape (scalars, or [B] for B blocks); the result has it too. */
  blockMs(c: Tensor, m1: Tensor, m2: Tensor): Tensor {
    return linearCombination(BLOCK_TERMS.features({ c, m1, m2 }, this.data.align), this.coef);
  }

  headMs(c: Tensor): Tensor {
    return interpolate(c, this.data.head);
  }

  tailMs(c: Tensor): Tensor {
    return interpolate(c, this.data.tail);
  }

  /** Whole network: factor · (head(C) + tail(C)) + Σ keep_i · inNetwork(block_i(C, M1_i, M2_i)); every width
   *  shaped like c. */
  modelMs(c: Tensor, blocks: readonly BlockWidths[]): Tensor {
    const body = blocks.map((b) => {
      const t = this.inNetwork(this.blockMs(c, b.m1, b.m2));
      return b.keep ? ops.mul(t, b.keep) : t;
    });
    return [this.outsideBlocksMs(c), ...body].reduce((a, b) => ops.add(a, b));
  }

  /** A block's time inside a network: factor · alone + offset, never below zero. */
  inNetwork(blockMs: Tensor): Tensor {
    return ops.relu(ops.affine(blockMs, this.data.networkFactor, this.data.blockOffsetMs));
  }

  /** Head and tail inside a network. */
  outsideBlocksMs(c: Tensor): Tensor {
    return ops.affine(ops.add(this.headMs(c), this.tailMs(c)), this.data.networkFactor, 0);
  }

  /** Predicted ms of a WDSR-B spec (no gradient). */
  specMs(spec: WdsrSpec): number {
    const w = (v: number) => new Tensor(Float32Array.of(v), [1]);
    return this.modelMs(w(spec.channels), spec.blocks.map((b) => ({ m1: w(b.m1), m2: w(b.m2) }))).data[0];
  }

  /** Predicted ms of each block config (no gradient), batched. */
  blocksMs(configs: readonly BlockConfig[]): Float32Array {
    const w = widthColumns(configs.map((b): Part => ({ kind: 'block', ...b })));
    return this.blockMs(w.c, w.m1!, w.m2!).data;
  }

  save(path: string): void {
    writeFileAtomic(path, JSON.stringify(this.data, null, 2) + '\n');
  }

  static load(path: string): SpeedModel {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: cannot read the speed model (${(err as Error).message})`);
    }
    const d = raw as Partial<SpeedModelData> | null;
    if (d?.format !== MODEL_FORMAT || d.version !== MODEL_VERSION)
      throw new Error(`${path}: not an rtsr speed model of version ${MODEL_VERSION} (format ${JSON.stringify(d?.format)}, version ${JSON.stringify(d?.version)})`);
    const nums = (xs: unknown) => Array.isArray(xs) && xs.every((x) => typeof x === 'number' && Number.isFinite(x));
    if (!nums(d.block) || !Array.isArray(d.head) || !Array.isArray(d.tail) || !(typeof d.networkFactor === 'number' && d.networkFactor > 0) || !Number.isFinite(d.blockOffsetMs) || !Number.isInteger(d.align) || !d.setup || !d.device)
      throw new Error(`${path}: speed model is missing or has malformed fields (block, head, tail, networkFactor, blockOffsetMs, align, setup, device)`);
    try {
      return new SpeedModel(d as SpeedModelData);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  }
}

/** Where `rtsr speed-model fit` writes by default, and so where `predict` looks: beside the profile. */
export const modelPathFor = (profilePath: string) => profilePath.replace(/\.json$/, '') + '.model.json';

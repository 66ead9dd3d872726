// The speed model: predicted latency of adaptive WDSR-B networks on one device, differentiable in the widths.
// Block, head and tail are non-negative linear combinations of their cost terms (features.ts); a whole network
// adds a fixed per-model cost. Saved as JSON beside the profile it was fitted on (docs/speed-model.md).
import { readFileSync } from 'node:fs';
import * as ops from '../engine/ops.js';
import { Tensor } from '../engine/tensor.js';
import type { WdsrSpec } from '../models/wdsr.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BLOCK_TERMS, linearCombination, widthColumns, WIDTH_TERMS, type TermSet } from './features.js';
import type { DeviceFingerprint, ProfileSetup } from './profile-file.js';
import type { BlockConfig, Part } from './runner.js';

export const MODEL_FORMAT = 'rtsr-speed-model';
export const MODEL_VERSION = 1;

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
  /** Coefficients in ms per unit of each term, in the order of the term names. */
  readonly block: readonly number[];
  readonly head: readonly number[];
  readonly tail: readonly number[];
  /** Whole model minus its measured head, blocks and tail: median over the profiled models. */
  readonly fixedMs: number;
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
  private readonly coef: { block: Tensor[]; head: Tensor[]; tail: Tensor[] };

  constructor(readonly data: SpeedModelData) {
    const consts = (name: string, terms: TermSet, xs: readonly number[]) => {
      if (xs.length !== terms.names.length) throw new Error(`speed model: '${name}' needs ${terms.names.length} coefficients (${terms.names.join(', ')}), has ${xs.length}`);
      return xs.map((x) => new Tensor(Float32Array.of(x), [1]));
    };
    this.coef = { block: consts('block', BLOCK_TERMS, data.block), head: consts('head', WIDTH_TERMS, data.head), tail: consts('tail', WIDTH_TERMS, data.tail) };
  }

  /** Block latency in ms. c, m1, m2: tensors of one shape (scalars, or [B] for B blocks); the result has it too. */
  blockMs(c: Tensor, m1: Tensor, m2: Tensor): Tensor {
    return linearCombination(BLOCK_TERMS.features({ c, m1, m2 }, this.data.align), this.coef.block);
  }

  headMs(c: Tensor): Tensor {
    return linearCombination(WIDTH_TERMS.features({ c }, this.data.align), this.coef.head);
  }

  tailMs(c: Tensor): Tensor {
    return linearCombination(WIDTH_TERMS.features({ c }, this.data.align), this.coef.tail);
  }

  /** Whole network: head(C) + Σ keep_i · block_i(C, M1_i, M2_i) + tail(C) + fixed; every width shaped like c. */
  modelMs(c: Tensor, blocks: readonly BlockWidths[]): Tensor {
    const body = blocks.map((b) => {
      const t = this.blockMs(c, b.m1, b.m2);
      return b.keep ? ops.mul(t, b.keep) : t;
    });
    const total = [this.headMs(c), ...body, this.tailMs(c)].reduce((a, b) => ops.add(a, b));
    return ops.affine(total, 1, this.data.fixedMs);
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
    if (!nums(d.block) || !nums(d.head) || !nums(d.tail) || typeof d.fixedMs !== 'number' || !Number.isInteger(d.align) || !d.setup || !d.device)
      throw new Error(`${path}: speed model is missing or has malformed fields (block, head, tail, fixedMs, align, setup, device)`);
    try {
      return new SpeedModel(d as SpeedModelData);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  }
}

/** Where `rtsr speed-model fit` writes by default, and so where `predict` looks: beside the profile. */
export const modelPathFor = (profilePath: string) => profilePath.replace(/\.json$/, '') + '.model.json';

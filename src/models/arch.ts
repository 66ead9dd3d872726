// What every architecture provides. An architecture is described by its list of convolutions (which drives
// parameters, initialisation, parameter and MAC counts, and later compilation and export) plus a forward pass.
import type { Tensor } from '../engine/tensor.js';
import type { Reparam } from './reparam.js';

export interface ConvDef {
  name: string;
  k: number;
  cin: number;
  cout: number;
  /** Weight normalisation: the weight is stored as a direction v and a per-output-channel gain g. */
  weightNorm: boolean;
  /** Initial gain g for weight-normalised convs; undefined means g = ‖v‖ (the weight starts as v itself). */
  gInit?: number;
  /** Training-time linear branches beside this conv (models/reparam.ts), which the compiler folds into it. */
  reparam?: Reparam;
  /** Set on a branch's own conv and on a fixed conv: the conv it folds into. Such a conv has no bias and no
   *  weight norm. */
  branchOf?: string;
  /** A constant linear map (a colour conversion), HWIO: no parameters; it composes with `branchOf`. */
  fixed?: Float32Array;
}

/** Parameters by name: `<conv>.w` (or `<conv>.v` and `<conv>.g`) and `<conv>.b`. */
export type ParamMap = Map<string, Tensor>;

export interface Architecture<S> {
  readonly name: string;
  /** One line for `rtsr info` and error messages. */
  readonly summary: string;
  /** Checks a parsed JSON spec and fills in defaults; throws a message naming the bad field. */
  validate(raw: Record<string, unknown>): S;
  convs(spec: S): ConvDef[];
  /** The convs the compiled network has, where its fixed convs change them (wdsr.ts's luminance body);
   *  absent: convs(spec). */
  deployedConvs?(spec: S): ConvDef[];
  /** Its luminance-body form (wdsr.ts): the spec, and parameters for it from a plain network's. */
  luma?: { spec(spec: S): S; params(spec: S, params: ParamMap): ParamMap };
  /** LR batch [n,h,w,3] in [0,1] → SR batch [n,h·s,w·s,3]. */
  forward(spec: S, params: ParamMap, x: Tensor): Tensor;
}

/** Reads a field of a spec that must be an integer in [min, max]. */
export function intField(raw: Record<string, unknown>, arch: string, key: string, min: number, max: number, fallback?: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new Error(`${arch} spec: '${key}' must be an integer in [${min}, ${max}], got ${JSON.stringify(raw[key])}`);
  return v;
}

export function scaleField(raw: Record<string, unknown>, arch: string): number {
  return intField(raw, arch, 'scale', 2, 4);
}

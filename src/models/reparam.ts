// Structural re-parameterisation (RepVGG, ECBSR, SESR): linear branches trained beside each k×k conv (k > 1)
// and summed with its output before its ReLU. Being linear, they fold into that one conv exactly
// (compiler/reparam.ts), so the deployed network, its speed and its MACs are the plain architecture's; only
// training sees them. The spec's `reparam` field names them; model files keep this training form. No node
// imports: a browser validates a model file's spec with this module.
import type { ConvDef } from './arch.js';

/** `1x1`: a parallel 1×1 conv. `identity`: the input itself (only where cin = cout). `1x1-kxk`: a 1×1 conv to
 *  `expand`·cin channels, then a k×k conv (ECBSR's expand-squeeze). `kxk-1x1`: a k×k conv to `expand`·cout
 *  channels, then a 1×1 (SESR's linear expansion). Training folds them into the conv's weight before it runs
 *  (models/layers.ts), so they cost a few small weight products a step, not convs over the batch. */
export const BRANCH_KINDS = ['1x1', 'identity', '1x1-kxk', 'kxk-1x1'] as const;
export type BranchKind = (typeof BRANCH_KINDS)[number];

export interface Reparam {
  readonly branches: readonly BranchKind[];
  /** Inner width of the two-conv branches, in multiples of the conv's inputs (1x1-kxk) or outputs (kxk-1x1). */
  readonly expand: number;
}

/** One branch: bias-free convs applied in order (none: the identity). Biases would add nothing a main bias
 *  cannot, and a bias inside a 1×1→k×k chain would break the fold at the zero-padded border. */
export interface Branch {
  readonly kind: BranchKind;
  readonly chain: readonly ConvDef[];
}

const MAX_EXPAND = 16;

/** The spec's optional `reparam` field, validated; `{}` when absent, so plain specs keep their exact shape. */
export function reparamField(raw: Record<string, unknown>, arch: string): { reparam?: Reparam } {
  const r = raw.reparam;
  if (r === undefined) return {};
  const bad = (what: string): never => {
    throw new Error(`${arch} spec: 'reparam' ${what}, got ${JSON.stringify(r)} (e.g. {"branches":["1x1","1x1-kxk"],"expand":2}; kinds: ${BRANCH_KINDS.join(', ')})`);
  };
  if (typeof r !== 'object' || r === null || Array.isArray(r)) return bad('must be an object');
  const o = r as Record<string, unknown>;
  const unknown = Object.keys(o).filter((k) => k !== 'branches' && k !== 'expand');
  if (unknown.length) bad(`has unknown field ${unknown.map((k) => `'${k}'`).join(', ')}`);
  const b = o.branches;
  if (!Array.isArray(b) || b.length === 0 || !b.every((k) => (BRANCH_KINDS as readonly unknown[]).includes(k))) bad("needs 'branches', a non-empty list of branch kinds");
  if (new Set(b as unknown[]).size !== (b as unknown[]).length) bad('lists a branch kind twice');
  const expand = o.expand ?? 2;
  if (typeof expand !== 'number' || !Number.isInteger(expand) || expand < 1 || expand > MAX_EXPAND) bad(`'expand' must be an integer in [1, ${MAX_EXPAND}]`);
  // Canonical order, so equal sets of branches are equal specs.
  return { reparam: { branches: BRANCH_KINDS.filter((k) => (b as unknown[]).includes(k)), expand: expand as number } };
}

/** An architecture's convs with the spec's branches attached to every k×k conv (k > 1). */
export function withBranches(convs: ConvDef[], reparam: Reparam | undefined): ConvDef[] {
  return reparam ? convs.map((c) => (c.k > 1 ? { ...c, reparam } : c)) : convs;
}

/** The branches of a conv, in the order its forward pass adds them. */
export function branchesOf(c: ConvDef): Branch[] {
  if (!c.reparam) return [];
  const e = c.reparam.expand;
  const piece = (kind: BranchKind, part: string, k: number, cin: number, cout: number): ConvDef => ({ name: `${c.name}.rep.${kind}${part}`, k, cin, cout, weightNorm: false, branchOf: c.name });
  return c.reparam.branches.flatMap((kind): Branch[] => {
    switch (kind) {
      case '1x1':
        return [{ kind, chain: [piece(kind, '', 1, c.cin, c.cout)] }];
      case 'identity':
        return c.cin === c.cout ? [{ kind, chain: [] }] : [];
      case '1x1-kxk':
        return [{ kind, chain: [piece(kind, '.a', 1, c.cin, e * c.cin), piece(kind, '.b', c.k, e * c.cin, c.cout)] }];
      case 'kxk-1x1':
        return [{ kind, chain: [piece(kind, '.a', c.k, c.cin, e * c.cout), piece(kind, '.b', 1, e * c.cout, c.cout)] }];
    }
  });
}

/** Every branch conv of a model's convs: their parameters are `<name>.w`. */
export const branchConvs = (convs: readonly ConvDef[]): ConvDef[] => convs.flatMap((c) => branchesOf(c).flatMap((b) => b.chain));

/** Copies a spec with its branches replaced (none: the plain architecture, the deployed form). */
export function withReparam<S extends { reparam?: Reparam }>(spec: S, reparam: Reparam | undefined): S {
  const { reparam: _, ...plain } = spec;
  return (reparam ? { ...plain, reparam } : plain) as S;
}

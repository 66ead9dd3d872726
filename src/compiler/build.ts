// Model → graph IR. The graph follows the model's own forward pass (recorded by the exporter's tracer), so the
// compiler never holds a second description of an architecture. Parameters come raw from the model: weight
// norm is left for a pass to fold. Supernet gates are given per conv output and become explicit gate nodes.
import { traceForward } from './trace.js';
import { param } from '../models/layers.js';
import type { Model } from '../models/model.js';
import type { WdsrSpec } from '../models/wdsr.js';
import type { Graph, Node } from './ir.js';

/** Channel gates by conv name: the conv's output (after its ReLU) is multiplied by the vector, per channel. A
 *  zero removes the channel; a conv whose gate is all zero contributes nothing (a skipped block). */
export type Gates = ReadonlyMap<string, ArrayLike<number>>;

export function buildGraph(model: Model, gates: Gates = new Map()): Graph {
  const { ops, output } = traceForward(model);
  const nodes: Node[] = [];
  const unused = new Set(gates.keys());
  let next = Math.max(output, ...ops.map((o) => o.y)) + 1;
  for (const op of ops) {
    switch (op.op) {
      case 'conv2d': {
        const c = op.conv;
        const gate = gates.get(c.name);
        unused.delete(c.name);
        // A gate would sit between the conv and its branches' sum, which then no longer folds into one conv.
        if (gate && c.reparam) throw new Error(`gate on conv '${c.name}', which has training branches: fold them first (a supernet has none)`);
        const raw = c.fixed ? c.fixed.slice() : param(model.params, c.weightNorm ? `${c.name}.v` : `${c.name}.w`).data.slice();
        const g = c.weightNorm ? param(model.params, `${c.name}.g`).data.slice() : null;
        const y = gate ? next++ : op.y;
        const branch = c.branchOf === undefined ? {} : { branchOf: c.branchOf, ...(c.fixed ? { fixed: true } : {}) };
        nodes.push({ op: 'conv', name: c.name, x: op.x, y, k: c.k, cin: c.cin, cout: c.cout, w: raw, b: op.bias.slice(), g, pad: 0, relu: op.relu, ...branch });
        if (gate) {
          if (gate.length !== c.cout) throw new Error(`gate for conv '${c.name}' has ${gate.length} values, the conv has ${c.cout} outputs`);
          nodes.push({ op: 'gate', x: y, y: op.y, g: Float32Array.from(gate) });
        }
        break;
      }
      case 'unary':
        if (op.kind !== 'relu') throw new Error(`compiler: the forward pass uses '${op.kind}', which has no IR node`);
        nodes.push({ op: 'relu', x: op.x, y: op.y });
        break;
      case 'binary':
        if (op.kind !== 'add') throw new Error(`compiler: the forward pass uses '${op.kind}' on activations, which has no IR node`);
        nodes.push({ op: 'add', a: op.a, b: op.b, y: op.y });
        break;
      case 'affine':
        nodes.push({ op: 'affine', x: op.x, y: op.y, scale: op.scale, shift: op.shift });
        break;
      case 'depthToSpace':
        nodes.push({ op: 'depthToSpace', x: op.x, y: op.y, s: op.s });
        break;
    }
  }
  if (unused.size) throw new Error(`gates name convs the model does not have: ${[...unused].join(', ')}`);
  return { scale: model.scale, nodes, output };
}

/** WDSR-B supernet gates: `c` on the trunk (every contribution to it: the head and each block's output conv),
 *  per block `m1` after the expansion's ReLU, `m2` after the reduction, and `keep` (0 skips the block) on the
 *  block's residual branch. Anything left out is 1. */
export interface WdsrGates {
  c?: ArrayLike<number>;
  blocks?: readonly { m1?: ArrayLike<number>; m2?: ArrayLike<number>; keep?: number }[];
}

export function wdsrGates(spec: WdsrSpec, gates: WdsrGates): Gates {
  const m = new Map<string, Float32Array>();
  const set = (name: string, n: number, g: ArrayLike<number> | undefined, times = 1) => {
    if (g === undefined && times === 1) return;
    if (g !== undefined && g.length !== n) throw new Error(`wdsr gates: '${name}' needs ${n} values, got ${g.length}`);
    m.set(name, Float32Array.from({ length: n }, (_, i) => (g === undefined ? 1 : g[i]) * times));
  };
  if ((gates.blocks?.length ?? 0) > spec.blocks.length) throw new Error(`wdsr gates: ${gates.blocks!.length} block gates for ${spec.blocks.length} blocks`);
  set('head', spec.channels, gates.c);
  spec.blocks.forEach((b, i) => {
    const bg = gates.blocks?.[i] ?? {};
    set(`blocks.${i}.expand`, b.m1, bg.m1);
    set(`blocks.${i}.reduce`, b.m2, bg.m2);
    set(`blocks.${i}.conv`, spec.channels, gates.c, bg.keep ?? 1);
  });
  return m;
}

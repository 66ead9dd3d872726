// The inference graph IR: a small typed node list over NHWC activations of one image. Values are numbered;
// value 0 is the RGB input, every node defines `y`. Passes (passes.ts, prune.ts, fuse.ts) rewrite a graph
// into an equal one; `Stage` nodes are what fusion produces and what the native code generator compiles.

export type ValueId = number;
export const INPUT: ValueId = 0;

export interface ConvNode {
  readonly op: 'conv';
  /** The architecture's conv name (`blocks.3.expand`), kept for messages and gates. */
  readonly name: string;
  readonly x: ValueId;
  readonly y: ValueId;
  readonly k: number;
  readonly cin: number;
  readonly cout: number;
  /** HWIO [k,k,cin,cout]; the direction v while `g` is set. */
  readonly w: Float32Array;
  readonly b: Float32Array;
  /** Weight-normalisation gains not folded yet (w = g·v/‖v‖ per output channel); null once folded. */
  readonly g: Float32Array | null;
  /** The value the input takes outside the image ("same" padding with this constant; 0 = zero padding). */
  readonly pad: number;
  readonly relu: boolean;
  /** A training-time branch's conv (models/reparam.ts): the conv it belongs to. foldBranches (reparam.ts)
   *  folds every such node away, so no graph that runs has one. */
  readonly branchOf?: string;
  /** A fixed conv (models/layers.ts fixedConv): composed into its neighbour `branchOf` by foldBranches. */
  readonly fixed?: boolean;
}

/** y = a + b; b may have fewer channels, a divisor of a's, and is then repeated: y[c] = a[c] + b[c mod cb]
 *  (a luminance tail's s² sub-pixel values added to R, G and B alike, in depth-to-space's channel order). */
export interface AddNode {
  readonly op: 'add';
  readonly a: ValueId;
  readonly b: ValueId;
  readonly y: ValueId;
}

/** y = scale·x + shift. */
export interface AffineNode {
  readonly op: 'affine';
  readonly x: ValueId;
  readonly y: ValueId;
  readonly scale: number;
  readonly shift: number;
}

/** y[..., c] = x[..., c]·g[c]: a channel gate of a supernet. */
export interface GateNode {
  readonly op: 'gate';
  readonly x: ValueId;
  readonly y: ValueId;
  readonly g: Float32Array;
}

export interface ReluNode {
  readonly op: 'relu';
  readonly x: ValueId;
  readonly y: ValueId;
}

/** Pixel shuffle in PyTorch's order (as ops.depthToSpace). */
export interface DepthToSpaceNode {
  readonly op: 'depthToSpace';
  readonly x: ValueId;
  readonly y: ValueId;
  readonly s: number;
}

/** A 1×1 conv inside a stage's chain: w is [cin][cout]. */
export interface Pointwise {
  readonly cin: number;
  readonly cout: number;
  readonly w: Float32Array;
  readonly b: Float32Array;
  readonly relu: boolean;
}

/** One input of a stage: a chain of 1×1 convs applied per pixel, then a k×k conv (no bias) over the chain's
 *  output, which takes the value `pad` outside the image. */
export interface Term {
  readonly x: ValueId;
  readonly chain: readonly Pointwise[];
  readonly k: number;
  readonly cin: number;
  readonly cout: number;
  /** HWIO [k,k,cin,cout]. */
  readonly w: Float32Array;
  readonly pad: number;
}

/** A fused stage: y = shuffle(relu?(Σ terms + b) + residual). With shuffle = s > 1 the stage ends in a
 *  depth-to-space by s and its output has cout/s² channels. A residual of fewer channels (`residualChannels`, a
 *  divisor of cout) is repeated as an add's b is: channel o reads residual channel o mod residualChannels. */
export interface StageNode {
  readonly op: 'stage';
  /** The convs folded into this stage, for messages and profiles. */
  readonly name: string;
  readonly y: ValueId;
  readonly terms: readonly Term[];
  readonly b: Float32Array;
  readonly relu: boolean;
  readonly residual: ValueId | null;
  /** Set only when the residual has fewer channels than the stage computes. */
  readonly residualChannels?: number;
  readonly shuffle: number;
}

export type Node = ConvNode | AddNode | AffineNode | GateNode | ReluNode | DepthToSpaceNode | StageNode;

export interface Graph {
  readonly scale: number;
  readonly nodes: readonly Node[];
  readonly output: ValueId;
}

/** The values a node reads. */
export function inputsOf(n: Node): ValueId[] {
  switch (n.op) {
    case 'add':
      return [n.a, n.b];
    case 'stage':
      return [...n.terms.map((t) => t.x), ...(n.residual === null ? [] : [n.residual])];
    default:
      return [n.x];
  }
}

/** Nodes that read each value (a node reading a value twice is listed twice). */
export function consumers(g: Graph): Map<ValueId, Node[]> {
  const m = new Map<ValueId, Node[]>();
  for (const n of g.nodes) for (const v of inputsOf(n)) m.set(v, [...(m.get(v) ?? []), n]);
  return m;
}

export function producers(g: Graph): Map<ValueId, Node> {
  return new Map(g.nodes.map((n) => [n.y, n]));
}

/** Channels of every value, checking each node's input widths on the way (a pass that breaks a shape fails
 *  here, naming the node). */
export function channelsOf(g: Graph): Map<ValueId, number> {
  const c = new Map<ValueId, number>([[INPUT, 3]]);
  const of = (v: ValueId, n: Node) => {
    const ch = c.get(v);
    if (ch === undefined) throw new Error(`IR: ${describe(n)} reads value ${v} before it is defined`);
    return ch;
  };
  const expect = (n: Node, got: number, want: number) => {
    if (got !== want) throw new Error(`IR: ${describe(n)} expects ${want} input channels, got ${got}`);
  };
  for (const n of g.nodes) {
    switch (n.op) {
      case 'conv':
        expect(n, of(n.x, n), n.cin);
        c.set(n.y, n.cout);
        break;
      case 'add': {
        const [ca, cb] = [of(n.a, n), of(n.b, n)];
        if (ca % cb !== 0) throw new Error(`IR: ${describe(n)} adds ${cb} channels to ${ca}, which ${cb} does not divide`);
        c.set(n.y, ca);
        break;
      }
      case 'gate':
        expect(n, of(n.x, n), n.g.length);
        c.set(n.y, n.g.length);
        break;
      case 'affine':
      case 'relu':
        c.set(n.y, of(n.x, n));
        break;
      case 'depthToSpace': {
        const ch = of(n.x, n);
        if (ch % (n.s * n.s) !== 0) throw new Error(`IR: ${describe(n)} needs channels divisible by ${n.s * n.s}, got ${ch}`);
        c.set(n.y, ch / (n.s * n.s));
        break;
      }
      case 'stage': {
        const cout = n.terms[0].cout;
        for (const t of n.terms) {
          expect(n, of(t.x, n), t.chain.length ? t.chain[0].cin : t.cin);
          if (t.cout !== cout) throw new Error(`IR: ${describe(n)} has terms of ${cout} and ${t.cout} outputs`);
        }
        if (n.residual !== null) expect(n, of(n.residual, n), n.residualChannels ?? cout);
        if (cout % (n.residualChannels ?? cout) !== 0) throw new Error(`IR: ${describe(n)} repeats a residual of ${n.residualChannels} channels over ${cout}`);
        c.set(n.y, cout / (n.shuffle * n.shuffle));
        break;
      }
    }
  }
  return c;
}

export function describe(n: Node): string {
  switch (n.op) {
    case 'conv':
      return `conv '${n.name}' (k${n.k} ${n.cin}→${n.cout})`;
    case 'stage':
      return `stage '${n.name}'`;
    default:
      return `${n.op} → v${n.y}`;
  }
}

/** The graph with the nodes of `drop` removed and each node of `replace` swapped for its new version. */
export function without(g: Graph, drop: readonly Node[], replace: [Node, Node][] = []): Graph {
  const swap = new Map(replace);
  return { ...g, nodes: g.nodes.filter((n) => !drop.includes(n)).map((n) => swap.get(n) ?? n) };
}

/** Replaces every read of value `from` by `to` (and the output, if it is `from`). */
export function renameUses(g: Graph, from: ValueId, to: ValueId): Graph {
  const r = (v: ValueId) => (v === from ? to : v);
  const nodes = g.nodes.map((n): Node => {
    switch (n.op) {
      case 'add':
        return { ...n, a: r(n.a), b: r(n.b) };
      case 'stage':
        return { ...n, terms: n.terms.map((t) => ({ ...t, x: r(t.x) })), residual: n.residual === null ? null : r(n.residual) };
      default:
        return { ...n, x: r(n.x) };
    }
  });
  return { ...g, nodes, output: r(g.output) };
}

/** Multiply-accumulates per input pixel of one stage: its chains and its k×k convs. */
export function stageMacsPerPixel(s: StageNode): number {
  return s.terms.reduce((a, t) => a + t.k * t.k * t.cin * t.cout + t.chain.reduce((c, p) => c + p.cin * p.cout, 0), 0);
}

/** Multiply-accumulates per pixel (all nodes run at the input resolution). */
export function macsPerPixel(g: Graph): number {
  let m = 0;
  for (const n of g.nodes) {
    if (n.op === 'conv') m += n.k * n.k * n.cin * n.cout;
    if (n.op === 'stage') m += stageMacsPerPixel(n);
  }
  return m;
}

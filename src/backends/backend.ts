// The kernel contract every backend implements (the tfjs-core split: ops in `engine` know the maths and the
// gradients; a backend only knows how to run each kernel fast). All tensors are NHWC float32, row-major, dense.
// Kernels are pure: they never write into their inputs and return freshly allocated outputs, except the ones
// documented as in-place (`accumulate`, `adamStep`).

/** A stride-1 convolution with zero "same" padding (pad = (k - 1) / 2, k odd). */
export interface ConvShape {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly cout: number;
  /** Kernel size: 1, 3 or 5. */
  readonly k: number;
}

/** Element-wise kernels shared by both backends; see `ELEMENTWISE` in reference.ts for their exact definitions. */
export type UnaryKind =
  | 'relu' // max(x, 0)
  | 'sign' // -1, 0 or 1 (the gradient of |x|)
  | 'neg';
export type BinaryKind =
  | 'add'
  | 'sub'
  | 'mul'
  | 'reluGrad'; // a * (b > 0): a = upstream gradient, b = the ReLU's output

/** The 1×1 chain of a WDSR-B block over n·h·w pixels: C → M1 (ReLU) → M2 channels. */
export interface ExpandShape {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly m1: number;
  readonly m2: number;
}

/** Gradients of the expansion chain; w2 and b2 per sample, as the search's gate rules need per-sample sums. */
export interface ExpandGrads {
  readonly dx: Float32Array;
  readonly dw1: Float32Array;
  readonly db1: Float32Array;
  /** [n, m1, m2]: sample i's share of dw2. */
  readonly dw2PerSample: Float32Array;
  /** [n, m2]. */
  readonly db2PerSample: Float32Array;
}

export interface AdamParams {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** Decoupled weight decay (AdamW); 0 for Adam. */
  readonly weightDecay: number;
  /** 1-based step count, for bias correction. */
  readonly step: number;
}

export interface Backend {
  readonly name: 'reference' | 'native';
  /** Set by the export tracer: models run their training branches as convs of their own (models/layers.ts). */
  readonly branchesApart?: boolean;

  /** Takes back an array this backend returned that its caller will never read or write again (autograd's,
   *  Tensor.backward({ release })): a later output of the same length may reuse its memory. Optional; arrays
   *  it did not allocate, or already holds, are ignored. */
  release?(a: Float32Array): void;

  /** y[n,y,x,o] = Σ_{i,dy,dx} x[n,y+dy-p,x+dx-p,i]·w[dy,dx,i,o] + b[o]; ReLU applied after when `relu`,
   *  then `add` (y's shape: a residual, summed in the store instead of a pass of its own) when given.
   *  x: [n,h,w,cin], w: [k,k,cin,cout] (HWIO), b: [cout] or null. Returns [n,h,w,cout]. */
  conv2d(x: Float32Array, w: Float32Array, b: Float32Array | null, s: ConvShape, relu: boolean, add?: Float32Array | null): Float32Array;
  /** Gradient w.r.t. the input: dy [n,h,w,cout] → dx [n,h,w,cin]. */
  conv2dGradInput(dy: Float32Array, w: Float32Array, s: ConvShape): Float32Array;
  /** Gradient w.r.t. the weights: x [n,h,w,cin], dy [n,h,w,cout] → dw [k,k,cin,cout]. */
  conv2dGradWeight(x: Float32Array, dy: Float32Array, s: ConvShape): Float32Array;

  unary(kind: UnaryKind, x: Float32Array): Float32Array;
  /** a and b have equal length. */
  binary(kind: BinaryKind, a: Float32Array, b: Float32Array): Float32Array;
  /** x >= t ? 1 : 0, element-wise (the straight-through threshold's forward). */
  threshold(x: Float32Array, t: number): Float32Array;
  /** y = a·x + b (scalars), element-wise. */
  affine(x: Float32Array, a: number, b: number): Float32Array;
  /** x [..., c] times g [c] per channel. */
  mulChannels(x: Float32Array, g: Float32Array, c: number): Float32Array;
  /** out[c] = Σ over all pixels of a[..., c] (times b[..., c] when b is given): bias and gate gradients. */
  channelSum(a: Float32Array, b: Float32Array | null, c: number): Float32Array;

  /** Pixel shuffle, PyTorch's order: x [n,h,w,c·s²] → [n,h·s,w·s,c], out[n,y·s+i,x·s+j,ch] = x[n,y,x,(ch·s+i)·s+j]. */
  depthToSpace(x: Float32Array, n: number, h: number, w: number, c: number, s: number): Float32Array;
  /** The exact inverse of depthToSpace (its gradient): x [n,h·s,w·s,c] → [n,h,w,c·s²]. */
  spaceToDepth(x: Float32Array, n: number, h: number, w: number, c: number, s: number): Float32Array;

  /** Σ x, accumulated in float64. */
  sum(x: Float32Array): number;
  /** Σ |a − b| (p = 1) or Σ (a − b)² (p = 2), accumulated in float64. */
  distance(a: Float32Array, b: Float32Array, p: 1 | 2): number;

  /** Optional fused kernels: a backend without them gets the same op composed from the kernels above
   *  (engine/wdsr-block.ts). z = relu(x·w1 + b1)·w2 + b2 per pixel, x [n,h,w,c], w1 [c,m1], w2 [m1,m2]
   *  (1×1 conv weights), z [n,h,w,m2]; the m1-wide tensor is never stored. */
  wdsrExpand?(x: Float32Array, w1: Float32Array, b1: Float32Array, w2: Float32Array, b2: Float32Array, s: ExpandShape): Float32Array;
  /** The gradients of wdsrExpand from dz [n,h,w,m2] (the expansion is recomputed, not stored); `dxAdd`
   *  (x's shape) is added to dx, e.g. the gradient a residual hands the same tensor. */
  wdsrExpandGrad?(x: Float32Array, dz: Float32Array, w1: Float32Array, b1: Float32Array, w2: Float32Array, s: ExpandShape, dxAdd?: Float32Array | null): ExpandGrads;

  /** In place: acc += x. */
  accumulate(acc: Float32Array, x: Float32Array): void;
  /** In place Adam/AdamW update of `param` and its moments m, v from `grad`. */
  adamStep(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, p: AdamParams): void;
}

// A small WebAssembly binary encoder: just what the stage renderer needs (one imported memory, functions that
// call each other, exports; structured control; scalar, bulk-memory and SIMD128 instructions). Target-free and
// toolchain-free: a browser builds its kernels with this alone.

export type ValType = 'i32' | 'i64' | 'f32' | 'f64' | 'v128';
const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

export function uleb(n: number): number[] {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`uleb: ${n} is not a u32`);
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

export function sleb(n: number): number[] {
  if (!Number.isInteger(n) || n < -(2 ** 31) || n >= 2 ** 31) throw new Error(`sleb: ${n} is not an i32`);
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) return out.push(b), out;
    out.push(b | 0x80);
  }
}

type Bytes = readonly number[] | Uint8Array;

/** Concatenation by one copy of each part (spreading a module's code into arrays cost more than rendering it). */
function cat(parts: readonly Bytes[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), (at += p.length);
  return out;
}

const name = (s: string) => {
  const b = new TextEncoder().encode(s);
  return cat([uleb(b.length), b]);
};
const vec = (items: readonly Bytes[]) => cat([uleb(items.length), ...items]);
const section = (id: number, body: Uint8Array) => cat([[id], uleb(body.length), body]);

/** Plain instructions: opcode bytes (0xfc and 0xfd prefixes followed by their u32 sub-opcode). */
const SIMD = (n: number) => [0xfd, ...uleb(n)];
const OPS = {
  unreachable: [0x00], nop: [0x01], return: [0x0f], drop: [0x1a], select: [0x1b],
  'i32.eqz': [0x45], 'i32.eq': [0x46], 'i32.ne': [0x47], 'i32.lt_s': [0x48], 'i32.lt_u': [0x49], 'i32.gt_s': [0x4a],
  'i32.le_s': [0x4c], 'i32.le_u': [0x4d], 'i32.ge_s': [0x4e], 'i32.ge_u': [0x4f],
  'f64.gt': [0x64], 'f64.ge': [0x66],
  'i32.add': [0x6a], 'i32.sub': [0x6b], 'i32.mul': [0x6c], 'i32.div_s': [0x6d], 'i32.rem_s': [0x6f], 'i32.rem_u': [0x70],
  'i32.and': [0x71], 'i32.or': [0x72], 'i32.xor': [0x73], 'i32.shl': [0x74], 'i32.shr_s': [0x75], 'i32.shr_u': [0x76],
  'i64.add': [0x7c], 'i64.sub': [0x7d], 'i64.mul': [0x7e],
  'f32.add': [0x92], 'f32.sub': [0x93], 'f32.mul': [0x94], 'f32.div': [0x95],
  'f64.add': [0xa0], 'f64.sub': [0xa1], 'f64.mul': [0xa2], 'f64.div': [0xa3],
  'i32.wrap_i64': [0xa7], 'i64.extend_i32_s': [0xac], 'i32.trunc_sat_f64_s': [0xfc, 2], 'f32.demote_f64': [0xb6],
  'f64.convert_i32_u': [0xb8], 'f64.promote_f32': [0xbb],
  'memory.copy': [0xfc, 10, 0, 0],
  'i32x4.splat': SIMD(0x11), 'f32x4.splat': SIMD(0x13), 'f64x2.splat': SIMD(0x14), 'f32x4.gt': SIMD(0x44), 'v128.and': SIMD(0x4e),
  'f64x2.promote_low_f32x4': SIMD(0x5f), 'i8x16.narrow_i16x8_u': SIMD(0x66), 'i16x8.narrow_i32x4_u': SIMD(0x86),
  'f32x4.add': SIMD(0xe4), 'f32x4.mul': SIMD(0xe6), 'f32x4.div': SIMD(0xe7), 'f32x4.convert_i32x4_u': SIMD(0xfb), 'f64x2.add': SIMD(0xf0), 'f64x2.mul': SIMD(0xf2),
  'i32x4.trunc_sat_f64x2_s_zero': SIMD(0xfc), 'f32x4.relaxed_madd': SIMD(0x105),
} satisfies Record<string, number[]>;
export type Op = keyof typeof OPS;

/** Memory instructions: opcode and natural alignment (log2 bytes). */
const MEM_OPS = {
  'i32.load': [[0x28], 2], 'i64.load': [[0x29], 3], 'f32.load': [[0x2a], 2], 'f64.load': [[0x2b], 3], 'i32.load8_u': [[0x2d], 0],
  'i32.store': [[0x36], 2], 'i64.store': [[0x37], 3], 'f32.store': [[0x38], 2], 'f64.store': [[0x39], 3], 'i32.store8': [[0x3a], 0],
  'i32.atomic.load': [[0xfe, 0x10], 2], 'i32.atomic.store': [[0xfe, 0x17], 2],
  'v128.load': [SIMD(0x00), 4], 'v128.load32_splat': [SIMD(0x09), 2], 'v128.store': [SIMD(0x0b), 4], 'v128.store32_lane': [SIMD(0x5a), 2],
} satisfies Record<string, [number[], number]>;
export type MemOp = keyof typeof MEM_OPS;

export interface Label {
  readonly depth: number;
}

/** One function's body, emitted in order. Locals are numbered after the params; labels are resolved to
 *  branch depths from the control stack, so callers never count nesting by hand. */
export class Func {
  private readonly locals: ValType[] = [];
  private readonly body: number[] = [];
  private open = 0;

  constructor(
    readonly params: readonly ValType[],
    readonly results: readonly ValType[],
  ) {}

  local(t: ValType): number {
    return this.params.length + this.locals.push(t) - 1;
  }

  op(...ops: Op[]): this {
    for (const o of ops) this.body.push(...OPS[o]);
    return this;
  }

  /** A load or store at address (on the stack) + `offset` bytes: constant offsets cost nothing. */
  mem(o: MemOp, offset = 0, lane?: number): this {
    const [code, align] = MEM_OPS[o];
    this.body.push(...code, align, ...uleb(offset));
    if (lane !== undefined) this.body.push(lane);
    return this;
  }

  get(i: number): this {
    return this.body.push(0x20, ...uleb(i)), this;
  }
  set(i: number): this {
    return this.body.push(0x21, ...uleb(i)), this;
  }
  tee(i: number): this {
    return this.body.push(0x22, ...uleb(i)), this;
  }
  i32(n: number): this {
    return this.body.push(0x41, ...sleb(n | 0)), this;
  }
  f32(x: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, x, true);
    return this.body.push(0x43, ...b), this;
  }
  f64(x: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setFloat64(0, x, true);
    return this.body.push(0x44, ...b), this;
  }
  shuffle(lanes: readonly number[]): this {
    if (lanes.length !== 16) throw new Error('i8x16.shuffle takes 16 lanes');
    return this.body.push(0xfd, 0x0d, ...lanes), this;
  }
  call(fn: number): this {
    return this.body.push(0x10, ...uleb(fn)), this;
  }

  block(body: (end: Label) => void): this {
    return this.structured(0x02, body);
  }
  /** Branching to a loop's label continues it. */
  loop(body: (top: Label) => void): this {
    return this.structured(0x03, body);
  }
  /** Pops an i32 condition. */
  if(then: () => void, otherwise?: () => void): this {
    this.body.push(0x04, 0x40);
    this.open++;
    then();
    if (otherwise) this.body.push(0x05), otherwise();
    this.open--;
    return this.body.push(0x0b), this;
  }
  br(l: Label): this {
    return this.body.push(0x0c, ...uleb(this.open - 1 - l.depth)), this;
  }
  brIf(l: Label): this {
    return this.body.push(0x0d, ...uleb(this.open - 1 - l.depth)), this;
  }

  private structured(code: number, body: (l: Label) => void): this {
    this.body.push(code, 0x40);
    body({ depth: this.open++ });
    this.open--;
    return this.body.push(0x0b), this;
  }

  encode(): Uint8Array {
    if (this.open !== 0) throw new Error('unbalanced control structure');
    // Runs of equal types share one local declaration.
    const groups: [number, ValType][] = [];
    for (const t of this.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const locals = vec(groups.map(([n, t]) => [...uleb(n), VALTYPE[t]]));
    return cat([uleb(locals.length + this.body.length + 1), locals, this.body, [0x0b]]);
  }
}

export interface MemoryImport {
  /** 64 KiB pages. */
  readonly min: number;
  readonly max?: number;
  /** Shared (threads): max required. */
  readonly shared: boolean;
}

/** A module importing one memory as env.memory, with functions exported by name where given. */
export class ModuleBuilder {
  private readonly funcs: { f: Func; exportAs?: string }[] = [];

  constructor(private readonly memory: MemoryImport) {}

  /** Adds `f`; returns its index for `call`. */
  add(f: Func, exportAs?: string): number {
    return this.funcs.push({ f, exportAs }) - 1;
  }

  encode(): Uint8Array<ArrayBuffer> {
    const types: string[] = [];
    const typeOf = (f: Func) => {
      const sig = JSON.stringify([f.params, f.results]);
      const i = types.indexOf(sig);
      return i >= 0 ? i : types.push(sig) - 1;
    };
    const funcTypes = this.funcs.map(({ f }) => typeOf(f));
    const { min, max, shared } = this.memory;
    if (shared && max === undefined) throw new Error('a shared memory needs a maximum size');
    const limits = max === undefined ? [0x00, ...uleb(min)] : [shared ? 0x03 : 0x01, ...uleb(min), ...uleb(max)];
    const typeSec = types.map((s) => {
      const [params, results] = JSON.parse(s) as [ValType[], ValType[]];
      return cat([[0x60], vec(params.map((t) => [VALTYPE[t]])), vec(results.map((t) => [VALTYPE[t]]))]);
    });
    const exports = this.funcs.flatMap(({ exportAs }, i) => (exportAs === undefined ? [] : [cat([name(exportAs), [0x00], uleb(i)])]));
    return cat([
      [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
      section(1, vec(typeSec)),
      section(2, vec([cat([name('env'), name('memory'), [0x02], limits])])),
      section(3, vec(funcTypes.map((t) => uleb(t)))),
      section(7, vec(exports)),
      section(10, vec(this.funcs.map(({ f }) => f.encode()))),
    ]);
  }
}

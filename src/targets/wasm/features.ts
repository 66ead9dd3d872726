// What this engine's WebAssembly offers, probed once per host by validating tiny modules built with our own
// encoder (so the probe checks exactly the encodings the kernels use).
import { Func, ModuleBuilder, type Op } from './encode.js';
import type { WasmHost } from './host.js';

export interface WasmFeatures {
  readonly simd: boolean;
  /** f32x4.relaxed_madd: one fused multiply-add instead of a product and a sum. */
  readonly relaxed: boolean;
  /** Shared memories and workers: the pool can run stages on several threads. */
  readonly threads: boolean;
}

function validates(op: Op, shared = false): boolean {
  const mb = new ModuleBuilder({ min: 1, max: 1, shared });
  const f = new Func(['v128', 'v128', 'v128'], ['v128']).get(0).get(1).get(2);
  if (op === 'f32x4.relaxed_madd') f.op(op);
  else f.op(op, 'f32x4.add');
  mb.add(f);
  return WebAssembly.validate(mb.encode());
}

const probed = new WeakMap<WasmHost, WasmFeatures>();

export function features(host: WasmHost): WasmFeatures {
  let f = probed.get(host);
  if (!f) {
    const simd = typeof WebAssembly === 'object' && validates('f32x4.mul');
    // Flags only where the engine lacks it as shipped: a later engine may not know the flag.
    let relaxed = simd && validates('f32x4.relaxed_madd');
    if (simd && !relaxed && host.enableRelaxedSimd) {
      host.enableRelaxedSimd();
      relaxed = validates('f32x4.relaxed_madd');
    }
    let shared = false;
    try {
      shared = typeof SharedArrayBuffer === 'function' && new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer && validates('f32x4.mul', true);
    } catch {
      // No shared memory (a page that is not cross-origin isolated): one thread.
    }
    f = { simd, relaxed, threads: shared && host.spawnWorker !== undefined };
    probed.set(host, f);
  }
  return f;
}

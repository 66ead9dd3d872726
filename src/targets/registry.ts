// The targets a Node process can compile for, found by name. Each is loaded on first use (the native one pulls
// in the C toolchain and N-API). Browsers do not use this file: the web entry imports its targets directly.
import type { Target, TargetName } from './target.js';

const loaders: Record<TargetName, () => Promise<Target>> = {
  native: async () => (await import('./native/index.js')).nativeTarget,
  reference: async () => (await import('./reference/index.js')).referenceTarget,
  wasm: async () => (await import('./wasm/node.js')).wasmTarget,
  webgpu: async () => (await import('./webgpu/node.js')).webgpuTarget,
};

export const TARGET_NAMES = Object.keys(loaders) as TargetName[];

export function isTargetName(name: string): name is TargetName {
  return Object.hasOwn(loaders, name);
}

export async function getTarget(name: string): Promise<Target> {
  if (!isTargetName(name)) throw new Error(`unknown target '${name}' (known: ${TARGET_NAMES.join(', ')})`);
  return loaders[name]();
}

let fallbackSaid = false;

/** The fastest target that runs here: native where a C compiler exists, else wasm (else the reference) — said in
 *  one line on stderr, once per process. */
export async function defaultTarget(): Promise<Target> {
  const native = await getTarget('native');
  const missing = await native.unavailable();
  if (!missing) return native;
  // WebAssembly SIMD needs no toolchain (its code is emitted by rtsr itself) and runs at ~30 % of native here,
  // against the reference interpreter's < 1 %.
  const wasm = await getTarget('wasm');
  const fallback = (await wasm.unavailable()) ? await getTarget('reference') : wasm;
  if (!fallbackSaid) process.stderr.write(`rtsr: ${missing}; running on the ${fallback.name} target\n`);
  fallbackSaid = true;
  return fallback;
}

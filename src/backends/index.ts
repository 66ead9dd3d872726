// Backend choice: explicit when asked for, else `native` wherever a C compiler exists. A missing compiler is
// said in one line (stderr) and the run goes on with `reference`.
import type { Backend } from './backend.js';
import { referenceBackend } from './reference.js';

export const BACKEND_NAMES = ['native', 'reference'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];

/** `tune`: the native backend chooses each conv's and fused block's blocking by timing candidates on this machine
 *  (training runs). */
export async function selectBackend(name?: string, opts: { tune?: boolean } = {}): Promise<Backend> {
  if (name !== undefined && !(BACKEND_NAMES as readonly string[]).includes(name))
    throw new Error(`unknown backend '${name}' (known: ${BACKEND_NAMES.join(', ')})`);
  if (name === 'reference') return referenceBackend;
  const native = await import('./native/index.js');
  const compiler = native.findCompiler();
  if (compiler) return native.createNativeBackend({ tune: opts.tune });
  if (name === 'native') throw new Error('the native backend needs a C compiler: none found (set CC, or install gcc or clang)');
  process.stderr.write('rtsr: no C compiler found (set CC, or install gcc or clang); using the slow reference backend\n');
  return referenceBackend;
}

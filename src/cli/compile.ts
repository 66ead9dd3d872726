// `rtsr compile MODEL --target wasm --out DIR`: a compiled model as a self-contained folder that a page or a
// Node program imports with nothing else installed (src/web/artifact/index.js is its loader). The folder holds
// the runtime bundles, the weights and a manifest; the wasm code itself is emitted on the device when the model
// loads (a millisecond), specialised to the frame width and tuned there — a phone's best blocking is not the
// build machine's.
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { optimizedGraph } from '../compiler/compile.js';
import { macsPerPixel } from '../compiler/ir.js';
import { rtsrVersion } from '../latency/profile-file.js';
import { encodeModel } from '../models/model-file.js';
import { findModel } from '../models/zoo.js';
import { makeFolder } from '../util/atomic.js';
import { PACKAGE_ROOT } from '../util/package-root.js';
import { CliError, parseCli } from './args.js';

const USAGE = `usage: rtsr compile MODEL --target wasm --out DIR [--overwrite]

  MODEL        a zoo name or a model file
  --target     wasm (the portable target: browsers and Node; native code is built where it runs)
  --out DIR    the artifact folder: import DIR/index.js and call load() (types in DIR/index.d.ts)
  --overwrite  replace an existing DIR`;

/** Artifact file → where it comes from in the package (dist/web is built by scripts/build-web.mjs). */
const RUNTIME: Record<string, string> = {
  'index.js': 'src/web/artifact/index.js',
  'index.d.ts': 'src/web/artifact/index.d.ts',
  'rtsr.js': 'dist/web/rtsr.js',
  'worker.js': 'dist/web/worker.js',
  'rtsr.node.js': 'dist/web/node/rtsr.node.js',
  'worker-node.js': 'dist/web/node/worker-node.js',
};

export async function run(argv: string[]): Promise<void> {
  const { values, positionals } = parseCli(argv, { target: { type: 'string' }, out: { type: 'string' }, overwrite: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } }, true);
  if (values.help) return void process.stdout.write(USAGE + '\n');
  if (positionals.length !== 1 || values.out === undefined) throw new CliError(USAGE);
  if (values.target !== 'wasm') throw new CliError(`--target: artifacts are built for wasm, got '${values.target ?? '(none)'}'\n${USAGE}`);
  const out = resolve(values.out);
  if (existsSync(out) && readdirSync(out).length > 0 && !values.overwrite) throw new CliError(`${values.out} exists and is not empty; nothing was written (pass --overwrite to replace it)`);
  let found: ReturnType<typeof findModel>;
  try {
    found = findModel(positionals[0]);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const { model, info } = found;
  const manifest = {
    format: 'rtsr-compiled-model',
    version: 1,
    target: 'wasm',
    scale: model.scale,
    spec: model.spec,
    macsPerPixel: macsPerPixel(optimizedGraph(model)),
    rtsr: rtsrVersion(),
  };
  // Built in a temp folder beside the destination and renamed into place: a killed run leaves no half artifact.
  makeFolder(dirname(out));
  const tmp = mkdtempSync(join(dirname(out), `.${basename(out)}.`));
  chmodSync(tmp, 0o755);
  try {
    for (const [name, from] of Object.entries(RUNTIME)) {
      const src = join(PACKAGE_ROOT, from);
      if (!existsSync(src)) throw new Error(`${src} is missing: run 'npm run build' in ${PACKAGE_ROOT}`);
      copyFileSync(src, join(tmp, name));
    }
    writeFileSync(join(tmp, 'model.rtsr'), Buffer.concat(encodeModel(model, info)));
    writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    rmSync(out, { recursive: true, force: true });
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  process.stdout.write(`${values.out}: ${positionals[0]} ×${model.scale} for wasm (${readdirSync(out).length} files); in a page or in Node: import { load } from '${join(values.out, 'index.js')}'\n`);
}

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
import { CliError } from './args.js';
import { type Args, defineCommand } from './command.js';
import { OPTIONS, type Options } from './options.js';

const options = {
  target: { kind: 'choice', choices: ['wasm'], help: "the portable target, for browsers and Node; native code is built where it runs" },
  out: { ...OPTIONS.out, help: 'the artifact folder: import DIR/index.js and call load() (types in DIR/index.d.ts)' },
  overwrite: { ...OPTIONS.overwrite, help: 'replace an existing DIR' },
} as const satisfies Options;

export const command = defineCommand({
  summary: 'a model as a self-contained folder that a page or a Node program imports and runs',
  usage: ['MODEL --target wasm --out DIR [--overwrite]'],
  args: [['MODEL', 'a zoo model (see rtsr zoo) or a model file']],
  options,
  examples: ['rtsr compile wdsr-b-x2 --target wasm --out site/sr'],
  run,
});

/** Artifact file → where it comes from in the package (dist/web is built by scripts/build-web.mjs). */
const RUNTIME: Record<string, string> = {
  'index.js': 'src/web/artifact/index.js',
  'index.d.ts': 'src/web/artifact/index.d.ts',
  'rtsr.js': 'dist/web/rtsr.js',
  'worker.js': 'dist/web/worker.js',
  'rtsr.node.js': 'dist/web/node/rtsr.node.js',
  'worker-node.js': 'dist/web/node/worker-node.js',
};

async function run({ values, positionals, usage }: Args<typeof options>): Promise<void> {
  if (positionals.length !== 1 || values.out === undefined) throw new CliError(usage);
  if (values.target === undefined) throw new CliError(`--target: artifacts are built for wasm, give --target wasm\n${usage}`);
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

// Bundles rtsr's browser entry (src/web/index.ts, compiled to dist/src/web) and its Web Worker into dist/web/
// with esbuild for the browser platform: `rtsr.js` imports nothing but `worker.js` beside it. The Node flavour
// (src/web/node.ts, worker_threads) goes to dist/web/node/. Run by `npm run build`; `rtsr compile --target wasm`
// copies both into an artifact. The pages' scripts (src/web/pages) go to dist/web/pages/ and import the library
// as 'rtsr/web', which web/*.html maps to /rtsr/rtsr.js: one copy of the library, whose worker.js sits beside it.
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const common = { bundle: true, format: 'esm', platform: 'browser', target: 'es2022', logLevel: 'warning', legalComments: 'none' };
await build({ ...common, entryPoints: { rtsr: join(root, 'dist/src/web/index.js'), worker: join(root, 'dist/src/web/worker.js') }, outdir: join(root, 'dist/web') });
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
await build({
  ...common,
  entryPoints: { demo: join(root, 'dist/src/web/pages/demo.js'), profile: join(root, 'dist/src/web/pages/profile.js') },
  outdir: join(root, 'dist/web/pages'),
  external: ['rtsr/web'],
  define: { RTSR_VERSION: JSON.stringify(version) },
});
await build({
  ...common,
  platform: 'node',
  entryPoints: { 'rtsr.node': join(root, 'dist/src/web/node.js'), 'worker-node': join(root, 'dist/src/targets/wasm/worker-node.js') },
  outdir: join(root, 'dist/web/node'),
});

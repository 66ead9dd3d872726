// Backend and target choice: explicit names, native by default where a C compiler exists, and a one-line notice
// (not a failure) when none does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { selectBackend } from '../src/backends/index.js';
import { referenceBackend } from '../src/backends/reference.js';

const INDEX = fileURLToPath(new URL('../src/backends/index.js', import.meta.url));
const REGISTRY = fileURLToPath(new URL('../src/targets/registry.js', import.meta.url));

/** Runs `code` (an ES module body) in a node whose PATH holds no compiler and whose CC is unset. */
function withoutCompiler(code: string) {
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: '/nonexistent' };
  delete env.CC;
  return spawnSync(process.execPath, ['--input-type=module', '-e', code], { env, encoding: 'utf8' });
}

test('explicit choices, and unknown names listed', async () => {
  assert.equal(await selectBackend('reference'), referenceBackend);
  assert.equal((await selectBackend('native')).name, 'native');
  assert.equal((await selectBackend()).name, 'native', 'native is the default where cc works');
  await assert.rejects(selectBackend('cuda'), /unknown backend 'cuda' \(known: native, reference\)/);
});

test('without a C compiler: training falls back to reference, inference to wasm, each with one line; asking for native fails clearly', () => {
  const r = withoutCompiler(`
    const { selectBackend } = await import(${JSON.stringify(INDEX)});
    const { defaultTarget, getTarget } = await import(${JSON.stringify(REGISTRY)});
    console.log((await selectBackend()).name, (await defaultTarget()).name);
    console.log(await (await getTarget('native')).unavailable());
    await selectBackend('native').catch((e) => console.log(e.message));`);
  assert.equal(r.status, 0, r.stderr);
  const [names, why, refused] = r.stdout.trim().split('\n');
  assert.equal(names, 'reference wasm');
  assert.match(why, /no C compiler with OpenMP found/);
  assert.match(refused, /the native backend needs a C compiler: none found/);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0], /no C compiler found .*using the slow reference backend/);
  assert.match(lines[1], /no C compiler with OpenMP found .*running on the wasm target/);
});

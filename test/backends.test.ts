// Backend choice: explicit names, native by default where a C compiler exists, and a one-line notice (not a
// failure) when none does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectBackend } from '../src/backends/index.js';
import { referenceBackend } from '../src/backends/reference.js';

async function withCC<T>(cc: string, f: () => Promise<T>): Promise<{ result: T; stderr: string }> {
  const saved = process.env.CC;
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.env.CC = cc;
  process.stderr.write = ((chunk: string) => {
    stderr += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await f(), stderr };
  } finally {
    process.stderr.write = write;
    if (saved === undefined) delete process.env.CC;
    else process.env.CC = saved;
  }
}

test('explicit choices, and unknown names listed', async () => {
  assert.equal(await selectBackend('reference'), referenceBackend);
  assert.equal((await selectBackend('native')).name, 'native');
  assert.equal((await selectBackend()).name, 'native', 'native is the default where cc works');
  await assert.rejects(selectBackend('cuda'), /unknown backend 'cuda' \(known: native, reference\)/);
});

test('without a C compiler: the default falls back to reference with one line; asking for native fails clearly', async () => {
  const { result, stderr } = await withCC('/nonexistent/cc', () => selectBackend());
  assert.equal(result, referenceBackend);
  assert.equal(stderr.trim().split('\n').length, 1);
  assert.match(stderr, /no C compiler found .*using the slow reference backend/);
  await assert.rejects(withCC('/nonexistent/cc', () => selectBackend('native')), /the native backend needs a C compiler: none found/);
});

// The WebGPU target when its device fails (here on Dawn's OpenGL ES backend over llvmpipe, the device destroyed
// from outside as a driver reset would lose it): an error that queued work raised fails the next run with the
// adapter's message; a lost device is reopened once, and the run on the new device computes what the old one did;
// lost again, while a frame runs, the run ends in an error naming the adapter and the reason, never a hang, and so
// does every later run. Skipped, with the reason, where no adapter can be had.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '../src/compiler/compile.js';
import { rgbImage, type RgbImage } from '../src/image/image.js';
import type { GpuDevice } from '../src/targets/webgpu/gpu.js';
import { createWebGpuTarget } from '../src/targets/webgpu/index.js';
import { nodeHost } from '../src/targets/webgpu/node.js';
import { Rng } from '../src/util/random.js';
import { randomModel, WDSR_ODD } from './compiler-support.js';

const skip = (await createWebGpuTarget(nodeHost).unavailable()) ?? false;

/** `p`, or a failure if it has not settled within `ms` (a hang). */
function settles<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what} did not settle in ${ms / 1e3} s`)), ms)));
  return Promise.race([p, hang]).finally(() => clearTimeout(timer));
}

test('webgpu: device errors and a lost device fail runs clearly, the device is reopened once, and nothing hangs', { skip, timeout: 300_000 }, async (t) => {
  // The Node host, with the devices it opens kept for the test to break.
  const devices: GpuDevice[] = [];
  const target = createWebGpuTarget({
    ...nodeHost,
    async adapter() {
      const a = await nodeHost.adapter();
      if (typeof a === 'string') return a;
      return { features: a.features, limits: a.limits, info: a.info, requestDevice: async (d) => devices[devices.push(await a.requestDevice(d)) - 1] };
    },
  });
  const adapter = /adapter (.+?)(, |$)/.exec(await target.describe())![1];
  const c = await compile(randomModel(WDSR_ODD, 2, 51), { target, tune: false });
  const rng = new Rng(52);
  const img: RgbImage = rgbImage(45, 31, Uint8Array.from({ length: 45 * 31 * 3 }, () => rng.nextU32() & 255));
  const want = await c.runImage(img);
  assert.equal(devices.length, 1);

  // Work that nothing waits on fails validation: the next run says so, in the adapter's words.
  devices[0].createBuffer({ size: 4, usage: 0 });
  await assert.rejects(settles(c.runImage(img), 60_000, 'the run after a device error'), (err: Error) => {
    t.diagnostic(err.message);
    return err.message.startsWith(`webgpu: adapter ${adapter} reported an error: `) && /usage/i.test(err.message);
  });
  assert.deepEqual(await c.runImage(img), want, 'the error is reported once; the device still works');

  // Lost between frames: the next frame runs on a new device, with the same result.
  devices[0].destroy();
  assert.deepEqual(await settles(c.runImage(img), 60_000, 'the run after a loss'), want);
  assert.equal(devices.length, 2, 'a new device from a new adapter');

  // Lost while a frame runs (right after its work is submitted, while the run waits for the output): that frame
  // fails, naming the adapter and the reason; every later one too.
  const { queue } = devices[1];
  const submit = queue.submit.bind(queue);
  queue.submit = (commands) => (submit(commands), devices[1].destroy());
  const lostRun = settles(c.runImage(img), 60_000, 'the run during a loss');
  const lost = new RegExp(`^webgpu: the device on adapter ${adapter.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was lost \\(destroyed`);
  await assert.rejects(lostRun, (err: Error) => (t.diagnostic(err.message), lost.test(err.message) && !/reopened/.test(err.message)));
  await assert.rejects(settles(c.runImage(img), 60_000, 'a run after a second loss'), (err: Error) => lost.test(err.message) && /not reopened again/.test(err.message));
  assert.equal(devices.length, 2, 'reopened once only');
  await c.dispose();
});

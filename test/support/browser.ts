// Tests that drive a real browser: Debian's chromium through playwright-core, headless, with the flags that give
// it a software WebGPU adapter (SwiftShader) on machines without a GPU. Without a chromium, `browserSkip` says
// why, and the tests report skipped instead of passing.
import { existsSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';

export const CHROMIUM = process.env.RTSR_CHROMIUM ?? '/usr/bin/chromium';

export const browserSkip: string | false = existsSync(CHROMIUM) ? false : `no chromium at ${CHROMIUM} (Debian: apt-get install chromium; or set RTSR_CHROMIUM)`;

/** Flags that granted a WebGPU adapter (SwiftShader's Vulkan) in headless Debian chromium. */
const WEBGPU_FLAGS = ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-angle=vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader', '--disable-vulkan-surface'];

export async function launchBrowser(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  // A fake camera (a test pattern), granted without a prompt: the demo page's camera path runs headless.
  const camera = ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream'];
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', ...WEBGPU_FLAGS, ...camera] });
}

const MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

/** `rtsr serve --port 0 …` from `main` (this checkout's by default); resolves with its URL once it listens. */
export async function startServe(args: string[], main = MAIN): Promise<{ url: string; proc: ChildProcess; stop(): void }> {
  const proc = spawn(process.execPath, [main, 'serve', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  const url = await new Promise<string>((done, fail) => {
    const timer = setTimeout(() => fail(new Error(`rtsr serve did not start in 20 s: ${err}`)), 20_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /open (http:\/\/\S+\/) /.exec(out);
      if (m) {
        clearTimeout(timer);
        done(m[1]);
      }
    });
    proc.once('exit', (code) => fail(new Error(`rtsr serve exited (${code}): ${err}`)));
  });
  return { url, proc, stop: () => void proc.kill() };
}

// The WebGPU target's Node host: Dawn through the optional `webgpu` package (or the copy RTSR_WEBGPU_MODULE
// names: its index.js). The platform's own GPU backend comes first (Vulkan, Metal, D3D12) in core WebGPU; else
// Dawn's OpenGL ES backend in compatibility mode, which runs on Mesa's llvmpipe on machines without a GPU
// (Dawn rejects Mesa's lavapipe Vulkan there): EGL without a display needs EGL_PLATFORM=surfaceless. Tuned
// schedules go to the rtsr cache directory's webgpu-tuning folder.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tuningFiles } from '../tuning-files.js';
import type { GpuAdapter } from './gpu.js';
import type { WebGpuHost } from './host.js';
import { createWebGpuTarget } from './index.js';

interface Dawn {
  create(flags: string[]): { requestAdapter(opts?: object): Promise<GpuAdapter | null> };
}

const ATTEMPTS: { backend: string; flags: string[]; opts: object }[] = [
  { backend: 'default backend', flags: [], opts: { powerPreference: 'high-performance' } },
  { backend: 'opengles backend, compatibility mode', flags: ['backend=opengles'], opts: { featureLevel: 'compatibility' } },
];

let runtime = 'webgpu (Dawn) not loaded';
/** Dawn's GPU objects: the adapter lives only as long as the object that created it. */
const held: object[] = [];

async function adapter(): Promise<GpuAdapter | string> {
  const file = process.env.RTSR_WEBGPU_MODULE;
  let dawn: Dawn;
  let version: string;
  try {
    const url = file ? pathToFileURL(file).href : import.meta.resolve('webgpu');
    dawn = (await import(url)) as Dawn;
    ({ version } = JSON.parse(readFileSync(new URL('./package.json', url), 'utf8')) as { version: string });
  } catch (err) {
    return `the optional package 'webgpu' (Dawn's Node bindings) does not load (${(err as Error).message.split('\n')[0]}); install it with npm install webgpu`;
  }
  process.env.EGL_PLATFORM ??= 'surfaceless';
  for (const a of ATTEMPTS) {
    const gpu = dawn.create(a.flags);
    const found = await gpu.requestAdapter(a.opts);
    if (found) {
      held.push(gpu);
      runtime = `webgpu ${version} (Dawn), ${a.backend}`;
      return found;
    }
  }
  return `Dawn ${version} found no adapter: no Vulkan, Metal or D3D12 GPU, and no OpenGL ES through EGL (Debian: apt-get install libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri)`;
}

export const nodeHost: WebGpuHost = { adapter, runtime: () => runtime, tuningStore: (cacheDir) => tuningFiles('webgpu-tuning', cacheDir) };

export const webgpuTarget = createWebGpuTarget(nodeHost);

// What the pages say about WebGPU on this device: the adapter's name where one is granted, else why not. The
// request is bounded: without the right flags some browsers never settle it.
export interface GpuInfo {
  /** 'vendor architecture (description)', or null without an adapter. */
  readonly adapter: string | null;
  /** One line for the page. */
  readonly text: string;
}

interface GpuAdapterLike {
  readonly info?: { vendor?: string; architecture?: string; description?: string; device?: string };
}

export async function probeGpu(timeoutMs = 3000): Promise<GpuInfo> {
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<GpuAdapterLike | null> } }).gpu;
  if (!gpu) return { adapter: null, text: 'WebGPU: not in this browser (no navigator.gpu; it also needs a secure context: https or localhost)' };
  const timeout = new Promise<'timeout'>((done) => setTimeout(() => done('timeout'), timeoutMs));
  let adapter: GpuAdapterLike | null | 'timeout';
  try {
    adapter = await Promise.race([gpu.requestAdapter(), timeout]);
  } catch (err) {
    return { adapter: null, text: `WebGPU: the adapter request failed (${(err as Error).message})` };
  }
  if (adapter === 'timeout') return { adapter: null, text: `WebGPU: no adapter answered within ${timeoutMs / 1000} s` };
  if (!adapter) return { adapter: null, text: 'WebGPU: this browser grants no adapter (blocklisted or no GPU)' };
  const i = adapter.info ?? {};
  const name = [i.vendor, i.architecture].filter(Boolean).join(' ') + (i.description ? ` (${i.description})` : '') || 'unnamed adapter';
  return { adapter: name, text: `WebGPU adapter: ${name}` };
}

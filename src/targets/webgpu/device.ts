// One device per target: opened on first use with the adapter's own limits (not WebGPU's defaults, which are
// far below what desktop GPUs have) and its 'timestamp-query' and 'shader-f16' where it has them; compute
// pipelines cached by their WGSL source, so equal stages of every model on the device share one. A device can be
// lost (driver reset, GPU removed, destroy()) and can report errors nobody waits for: both are kept here, and
// every wait on the device goes through until(), so that it ends in an error naming the adapter, not a hang.
import { type GpuAdapter, type GpuComputePipeline, type GpuDevice, type GpuLimits, LIMIT_NAMES } from './gpu.js';
import type { WebGpuHost } from './host.js';

export interface GpuContext {
  readonly device: GpuDevice;
  /** The device's limits, lowered by the host's caps: what buffers, workgroups and tiles must fit. */
  readonly limits: GpuLimits;
  /** Whether compute passes can write GPU timestamps ('timestamp-query'). */
  readonly timestamps: boolean;
  /** Whether shaders may use f16 ('shader-f16'). */
  readonly f16: boolean;
  /** The adapter (vendor, architecture, device, description), for messages, describe() and tuning keys. */
  readonly adapterName: string;
  /** Why the device was lost, or null while it works. */
  lost(): string | null;
  /** `p`, unless the device is lost first (or p fails): then an error saying so, naming the adapter. */
  until<T>(p: Promise<T>): Promise<T>;
  /** Throws the first error the device reported since the last call that no one waited for (a validation or
   *  out-of-memory error in queued work). */
  check(): void;
  pipeline(source: string): Promise<GpuComputePipeline>;
}

export function adapterName(a: GpuAdapter): string {
  const { vendor, architecture, device, description } = a.info;
  return [vendor, architecture, device, description].filter((s) => s).join(' / ') || 'unnamed adapter';
}

export async function openContext(host: WebGpuHost, adapter: GpuAdapter): Promise<GpuContext> {
  const timestamps = adapter.features.has('timestamp-query');
  const f16 = adapter.features.has('shader-f16');
  const requiredFeatures = [...(timestamps ? ['timestamp-query'] : []), ...(f16 ? ['shader-f16'] : [])];
  const requiredLimits = Object.fromEntries(LIMIT_NAMES.map((k) => [k, adapter.limits[k]]));
  const device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  const limits = Object.fromEntries(LIMIT_NAMES.map((k) => [k, Math.min(device.limits[k], host.caps?.[k] ?? Infinity)])) as unknown as GpuLimits;
  const name = adapterName(adapter);
  let lostWhy: string | null = null;
  // The waits in progress, failed at once when the device is lost (a listener each while it waits, none kept
  // afterwards: a race against the loss promise itself would leave one reaction per frame until the loss).
  const waiting = new Set<(err: Error) => void>();
  void device.lost.then((info) => {
    lostWhy = `webgpu: the device on adapter ${name} was lost (${info.reason}${info.message ? `: ${info.message}` : ''})`;
    for (const fail of waiting) fail(new Error(lostWhy));
  });
  const errors: string[] = [];
  device.onuncapturederror = (e) => void errors.push(e.error.message.trim());
  const reported = () => errors.length && `webgpu: adapter ${name} reported an error: ${errors.splice(0).join('; ')}`;
  const pipelines = new Map<string, Promise<GpuComputePipeline>>();
  return {
    device,
    limits,
    timestamps,
    f16,
    adapterName: name,
    lost: () => lostWhy,
    async until(p) {
      let fail = (_: Error) => {};
      const failed = new Promise<never>((_, reject) => (fail = reject));
      waiting.add(fail);
      try {
        if (lostWhy) throw new Error(lostWhy);
        return await Promise.race([p, failed]);
      } catch (err) {
        // A wait that fails on a lost or faulty device says why rather than its own terse reason (AbortError).
        throw lostWhy ? new Error(lostWhy) : errors.length ? new Error(reported() as string) : err;
      } finally {
        waiting.delete(fail);
      }
    },
    check() {
      const why = reported();
      if (why) throw new Error(why);
    },
    pipeline(code) {
      let p = pipelines.get(code);
      if (!p) {
        p = device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
        // A failed compilation is not cached: the error reaches this caller, and the next one tries again.
        p.catch(() => pipelines.delete(code));
        pipelines.set(code, p);
      }
      return p;
    },
  };
}

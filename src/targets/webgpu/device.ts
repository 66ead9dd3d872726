// One device per target: opened on first use with the adapter's own limits (not WebGPU's defaults, which are
// far below what desktop GPUs have), and compute pipelines cached by their WGSL source, so equal stages of
// every model on the device share one.
import { type GpuAdapter, type GpuComputePipeline, type GpuDevice, type GpuLimits, LIMIT_NAMES } from './gpu.js';
import type { WebGpuHost } from './host.js';

export interface GpuContext {
  readonly device: GpuDevice;
  /** The device's limits, lowered by the host's caps: what buffers, workgroups and tiles must fit. */
  readonly limits: GpuLimits;
  /** Whether compute passes can write GPU timestamps ('timestamp-query'). */
  readonly timestamps: boolean;
  /** The adapter, for describe() and tuning keys. */
  readonly adapterName: string;
  pipeline(source: string): Promise<GpuComputePipeline>;
}

export function adapterName(a: GpuAdapter): string {
  const { vendor, architecture, device, description } = a.info;
  return [vendor, architecture, device, description].filter((s) => s).join(' / ') || 'unnamed adapter';
}

export async function openContext(host: WebGpuHost, adapter: GpuAdapter): Promise<GpuContext> {
  const timestamps = adapter.features.has('timestamp-query');
  const requiredLimits = Object.fromEntries(LIMIT_NAMES.map((k) => [k, adapter.limits[k]]));
  const device = await adapter.requestDevice({ requiredFeatures: timestamps ? ['timestamp-query'] : [], requiredLimits });
  const limits = Object.fromEntries(LIMIT_NAMES.map((k) => [k, Math.min(device.limits[k], host.caps?.[k] ?? Infinity)])) as unknown as GpuLimits;
  const pipelines = new Map<string, Promise<GpuComputePipeline>>();
  return {
    device,
    limits,
    timestamps,
    adapterName: adapterName(adapter),
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

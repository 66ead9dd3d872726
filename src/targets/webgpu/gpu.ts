// The slice of the WebGPU API this target uses, typed structurally: `navigator.gpu` in a page and the `webgpu`
// package (Dawn) in Node both satisfy it, and the build needs neither @webgpu/types nor a DOM library.

export interface GpuLimits {
  readonly maxStorageBufferBindingSize: number;
  readonly maxBufferSize: number;
  readonly maxComputeWorkgroupStorageSize: number;
  readonly maxComputeInvocationsPerWorkgroup: number;
  readonly maxComputeWorkgroupSizeX: number;
  readonly maxComputeWorkgroupsPerDimension: number;
  readonly maxStorageBuffersPerShaderStage: number;
}

export const LIMIT_NAMES: readonly (keyof GpuLimits)[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
];

export interface GpuAdapter {
  readonly features: { has(name: string): boolean };
  readonly limits: GpuLimits;
  readonly info: { readonly vendor: string; readonly architecture: string; readonly device: string; readonly description: string };
  requestDevice(desc?: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<GpuDevice>;
}

export interface GpuBuffer {
  readonly size: number;
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>;
  getMappedRange(offset?: number, size?: number): ArrayBuffer;
  unmap(): void;
  destroy(): void;
}

export type GpuBindGroup = object;
export type GpuQuerySet = object & { destroy(): void };

export interface GpuComputePipeline {
  getBindGroupLayout(index: number): object;
}

export interface GpuComputePass {
  setPipeline(p: GpuComputePipeline): void;
  setBindGroup(index: number, bg: GpuBindGroup): void;
  dispatchWorkgroups(x: number, y?: number, z?: number): void;
  end(): void;
}

export interface GpuCommandEncoder {
  beginComputePass(desc?: { timestampWrites?: { querySet: GpuQuerySet; beginningOfPassWriteIndex?: number; endOfPassWriteIndex?: number } }): GpuComputePass;
  copyBufferToBuffer(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, size: number): void;
  resolveQuerySet(q: GpuQuerySet, first: number, count: number, dst: GpuBuffer, dstOffset: number): void;
  finish(): object;
}

export interface GpuDevice {
  readonly limits: GpuLimits;
  readonly features: { has(name: string): boolean };
  readonly queue: {
    writeBuffer(buffer: GpuBuffer, offset: number, data: ArrayBufferView, dataOffset?: number, size?: number): void;
    submit(commands: object[]): void;
    onSubmittedWorkDone(): Promise<void>;
  };
  createBuffer(desc: { size: number; usage: number; mappedAtCreation?: boolean }): GpuBuffer;
  createShaderModule(desc: { code: string }): object;
  createComputePipelineAsync(desc: { layout: 'auto'; compute: { module: object; entryPoint: string } }): Promise<GpuComputePipeline>;
  createBindGroup(desc: { layout: object; entries: { binding: number; resource: { buffer: GpuBuffer } }[] }): GpuBindGroup;
  createCommandEncoder(): GpuCommandEncoder;
  createQuerySet(desc: { type: 'timestamp'; count: number }): GpuQuerySet;
  /** Resolves once, when the device is lost (destroy() included). */
  readonly lost: Promise<{ readonly reason: string; readonly message: string }>;
  /** Errors of work that nothing waits on (validation, out of memory). */
  onuncapturederror: ((e: { readonly error: { readonly message: string } }) => void) | null;
  destroy(): void;
}

/** GPUBufferUsage and GPUMapMode flags (fixed by the spec; globals that Node does not define). */
export const USAGE = { MAP_READ: 1, COPY_SRC: 4, COPY_DST: 8, UNIFORM: 64, STORAGE: 128, QUERY_RESOLVE: 512 } as const;
export const MAP_READ = 1;

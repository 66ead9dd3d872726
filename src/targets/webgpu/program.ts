// A stage compiled for the device: its pipeline, its weights on the device, and the one place that knows how
// its buffers bind and how it dispatches (the runner and the stage bench both go through it).
import type { StageNode } from '../../compiler/ir.js';
import { type Io, packStage, stageShape, type StageShape } from '../../compiler/stage.js';
import { toHalves } from '../../util/half.js';
import type { Precision } from '../target.js';
import type { GpuContext } from './device.js';
import { type GpuBindGroup, type GpuBuffer, type GpuComputePass, type GpuComputePipeline, USAGE } from './gpu.js';
import { bindings, blobPadding, stageWgsl } from './render.js';
import type { GpuTuning } from './schedule.js';

/** The part of the window a stage computes: all of it, or the kept part for the frame stage. */
export interface Region {
  readonly h: number;
  readonly w: number;
  readonly x0: number;
  readonly y0: number;
  readonly rw: number;
  readonly rh: number;
}

export interface StageBuffers {
  readonly inputs: readonly GpuBuffer[];
  readonly residual: GpuBuffer | null;
  readonly out: GpuBuffer;
}

/** A device buffer of at least `bytes` (WebGPU wants sizes in whole words, and none empty). */
export function gpuBuffer(ctx: GpuContext, bytes: number, usage: number): GpuBuffer {
  return ctx.device.createBuffer({ size: Math.max(4, Math.ceil(bytes / 4) * 4), usage });
}

/** Elements (u32 words of bytes, or floats) per output row of a frame stage computing `rw` columns. */
export function frameStride(io: Io, rw: number, shuffle: number): number {
  return io === 'u8' ? Math.ceil((rw * shuffle * 3) / 4) : rw * shuffle * 3;
}

export class StageProgram {
  private readonly params: GpuBuffer;
  private readonly weights: GpuBuffer;

  private constructor(
    private readonly ctx: GpuContext,
    readonly shape: StageShape,
    readonly tuning: GpuTuning,
    precision: Precision,
    private readonly pipeline: GpuComputePipeline,
    blob: Float32Array,
  ) {
    this.params = gpuBuffer(ctx, 32, USAGE.UNIFORM | USAGE.COPY_DST);
    const padded = new Float32Array(blob.length + blobPadding(shape, tuning));
    padded.set(blob);
    const stored = precision === 'f16' ? toHalves(padded) : padded;
    this.weights = gpuBuffer(ctx, stored.byteLength, USAGE.STORAGE | USAGE.COPY_DST);
    ctx.device.queue.writeBuffer(this.weights, 0, stored);
  }

  static async load(ctx: GpuContext, stage: StageNode, io: Io, tuning: GpuTuning, precision: Precision): Promise<StageProgram> {
    const shape = stageShape(stage, io);
    return new StageProgram(ctx, shape, tuning, precision, await ctx.pipeline(stageWgsl(shape, tuning, precision)), packStage(stage));
  }

  bind(b: StageBuffers): GpuBindGroup {
    const at = bindings(this.shape);
    const entries = [
      { binding: at.params, resource: { buffer: this.params } },
      { binding: at.weights, resource: { buffer: this.weights } },
      ...b.inputs.map((buffer, i) => ({ binding: at.inputs[i], resource: { buffer } })),
      ...(at.residual === null ? [] : [{ binding: at.residual, resource: { buffer: b.residual! } }]),
      { binding: at.out, resource: { buffer: b.out } },
    ];
    return this.ctx.device.createBindGroup({ layout: this.pipeline.getBindGroupLayout(0), entries });
  }

  /** Workgroups that cover a region rw×rh. */
  workgroups(rw: number, rh: number): [number, number] {
    return [Math.ceil(rw / this.tuning.tw), Math.ceil(rh / this.tuning.th)];
  }

  /** Queues the region's uniforms (they reach the device before any later submit). */
  setRegion(r: Region): void {
    const stride = frameStride(this.shape.io, r.rw, this.shape.shuffle);
    this.ctx.device.queue.writeBuffer(this.params, 0, Uint32Array.of(r.h, r.w, r.x0, r.y0, r.rw, r.rh, stride, 0));
  }

  dispatch(pass: GpuComputePass, bg: GpuBindGroup, r: Region): void {
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(...this.workgroups(r.rw, r.rh));
  }

  dispose(): void {
    this.params.destroy();
    this.weights.destroy();
  }
}

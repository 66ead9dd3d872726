/** An RGB image: width × height pixels, 3 bytes each, row by row. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface Manifest {
  readonly format: 'rtsr-compiled-model';
  readonly version: 1;
  readonly target: 'wasm';
  readonly scale: number;
  /** The architecture (e.g. { arch: 'wdsr-b', channels, blocks }). */
  readonly spec: Record<string, unknown>;
  /** Multiply-accumulates per input pixel as compiled. */
  readonly macsPerPixel: number;
  readonly rtsr: string;
}

export interface Upscaler {
  readonly scale: number;
  readonly manifest: Manifest;
  /** uint8 in, uint8 out ((width·scale)×(height·scale)), MATLAB rounding. */
  upscale(img: RgbImage): Promise<RgbImage>;
  /** h×w×3 floats in [0, 1] → (h·scale)×(w·scale)×3 floats, unclamped. */
  run(rgb: Float32Array, h: number, w: number): Promise<Float32Array>;
  /** Stops the worker threads; the upscaler must not be used afterwards. */
  dispose(): Promise<void>;
}

/** Compiles the model for this device: `threads` default to every core where threads work; `tune` (default true)
 *  times the blocking choices on this device at the first frame of each width class. */
export function load(options?: { threads?: number; tune?: boolean }): Promise<Upscaler>;

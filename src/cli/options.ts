// The command-line options, each defined once: the form of its value, its default and its help line. A command
// (src/cli/command.ts) lists the shared ones it takes, overriding a default, range or help line where its use
// differs, beside its own; parsing, the errors for a bad value (args.ts) and `--help` (help.ts) all read these
// definitions, so what a command accepts and what it documents cannot drift apart.
import { BACKEND_NAMES } from '../backends/index.js';
import { TARGET_NAMES } from '../targets/registry.js';

interface Described {
  readonly help: string;
  /** Given more than once, it collects its values (`--model A --model B`). */
  readonly multiple?: boolean;
}

/** The value's form (checked when parsed) and, for `--help`, its placeholder; `default` as it would be typed. */
export type Option = Described &
  (
    | { readonly kind: 'flag' }
    | { readonly kind: 'text'; readonly value: string; readonly default?: string }
    | { readonly kind: 'int'; readonly value: string; readonly min: number; readonly max?: number; readonly default?: string }
    /** A finite number > 0, in `unit` when given. */
    | { readonly kind: 'number'; readonly value: string; readonly unit?: string; readonly default?: string }
    /** A number in (0, 1). */
    | { readonly kind: 'share'; readonly value: string; readonly default?: string }
    /** WIDTHxHEIGHT, at most MAX_SIDE a side. */
    | { readonly kind: 'size'; readonly value: string; readonly default?: string }
    | { readonly kind: 'choice'; readonly choices: readonly string[]; readonly default?: string }
  );

export type Options = Readonly<Record<string, Option>>;

export interface Size {
  readonly w: number;
  readonly h: number;
}

type One<O> = O extends { kind: 'flag' }
  ? boolean
  : O extends { kind: 'int' | 'number' | 'share' }
    ? number
    : O extends { kind: 'size' }
      ? Size
      : O extends { kind: 'choice'; choices: readonly (infer C)[] }
        ? C
        : string;

/** The parsed values: absent ones are undefined unless they have a default (flags are false). */
export type Values<S extends Options> = {
  [K in keyof S]: S[K] extends { multiple: true } ? One<S[K]>[] : S[K] extends { kind: 'flag' } | { default: string } ? One<S[K]> : One<S[K]> | undefined;
};

/** The largest input side: 8K video fits; beyond it the arrays of even a small network outgrow memory. */
export const MAX_SIDE = 8192;

/** `--input`'s default: the LR size whose output is 1280×720 ("720p" in SR papers means the output). */
export const defaultInput = (scale: number): Size => ({ w: Math.round(1280 / scale), h: Math.round(720 / scale) });

/** The options several commands share. */
export const OPTIONS = {
  model: { kind: 'text', value: 'NAME|FILE', help: 'a zoo model (see rtsr zoo) or a model file' },
  arch: { kind: 'text', value: 'SPEC', help: 'an architecture: a preset (wdsr-b-NxC: N blocks of width C; espcn; fsrcnn-d2s), its JSON, or a JSON file' },
  scale: { kind: 'int', value: 'S', min: 1, default: '2', help: 'the upscaling factor' },
  input: { kind: 'size', value: 'WxH', help: 'the input (low-resolution) frame size; default: the one whose output is 1280x720' },
  target: { kind: 'choice', choices: TARGET_NAMES, help: 'where the compiled model runs; default: native where a C compiler exists, else wasm' },
  threads: { kind: 'int', value: 'N', min: 1, help: "threads the model runs on; default: the target's (every core)" },
  precision: { kind: 'choice', choices: ['f32', 'f16'], default: 'f32', help: 'what weights and activations are stored as; f16 needs --target webgpu on an adapter with shader-f16' },
  backend: { kind: 'choice', choices: BACKEND_NAMES, help: 'the training kernels; default: native where a C compiler exists, else reference' },
  data: { kind: 'text', value: 'DIR', help: 'the data folder, holding <Set>/HR/*; default: $RTSR_DATA, else the bundled data/' },
  out: { kind: 'text', value: 'DIR', help: 'where the results go' },
  overwrite: { kind: 'flag', help: 'replace existing outputs (without it, an existing output is an error and nothing is written)' },
  seed: { kind: 'int', value: 'N', min: 0, default: '0', help: 'the random seed' },
  'budget-ms': { kind: 'number', value: 'MS', unit: 'milliseconds', help: 'the latency budget for one frame' },
  warmup: { kind: 'int', value: 'N', min: 0, help: 'untimed runs first' },
  repeats: { kind: 'int', value: 'N', min: 1, help: 'timed rounds; the median is reported' },
  json: { kind: 'flag', help: 'print one JSON object instead of text' },
} as const satisfies Options;

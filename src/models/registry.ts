// The architecture registry (BasicSR's idea): every trainable architecture by name, presets, and parsing of
// specs — a preset name or a JSON spec (a JSON file is read on the CLI side, src/cli/arch-arg.ts). No node
// imports: a browser validates the spec of a model file with this module.
import type { Architecture } from './arch.js';
import { espcn, type EspcnSpec } from './espcn.js';
import { fsrcnnD2s, type FsrcnnSpec } from './fsrcnn.js';
import { uniformWdsr, wdsrB, type WdsrSpec } from './wdsr.js';

export type ArchSpec = WdsrSpec | EspcnSpec | FsrcnnSpec;

export const ARCHITECTURES: Record<ArchSpec['arch'], Architecture<never>> = {
  'wdsr-b': wdsrB as Architecture<never>,
  espcn: espcn as Architecture<never>,
  'fsrcnn-d2s': fsrcnnD2s as Architecture<never>,
};

export function architecture<S extends ArchSpec>(spec: S): Architecture<S> {
  return ARCHITECTURES[spec.arch] as unknown as Architecture<S>;
}

/** Validates a parsed spec object against its architecture. */
export function validateSpec(raw: unknown, source = 'spec'): ArchSpec {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${source}: an architecture spec must be a JSON object`);
  const r = raw as Record<string, unknown>;
  // Own keys only: 'constructor' or '__proto__' would otherwise find Object's.
  const arch = typeof r.arch === 'string' && Object.hasOwn(ARCHITECTURES, r.arch) ? ARCHITECTURES[r.arch as ArchSpec['arch']] : undefined;
  if (!arch) throw new Error(`${source}: unknown architecture ${JSON.stringify(r.arch)} (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  try {
    return arch.validate(r) as ArchSpec;
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}

const PRESET_HELP = 'presets: wdsr-b-NxC (N blocks of width C, M1 = 6C, M2 = ⌊0.84C⌋; the seed supernet is wdsr-b-16x24), espcn, fsrcnn-d2s';
const WDSR_PRESET = /^wdsr-b-(\d+)x(\d+)$/;
const isJsonSpec = (text: string) => text.trimStart().startsWith('{');

/** Whether parseArch reads `text` itself (a preset or JSON), with no file to look for. */
export const isPresetOrJson = (text: string) => WDSR_PRESET.test(text) || text === 'espcn' || text === 'fsrcnn-d2s' || isJsonSpec(text);

/** Parses a preset (scale from `scale`) or a JSON object; anything else is an error naming the presets. */
export function parseArch(text: string, scale: number): ArchSpec {
  const wdsr = WDSR_PRESET.exec(text);
  if (wdsr) return validateSpec(uniformWdsr(scale, Number(wdsr[1]), Number(wdsr[2])), text);
  if (text === 'espcn' || text === 'fsrcnn-d2s') return validateSpec({ arch: text, scale }, text);
  if (isJsonSpec(text)) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`--arch: not valid JSON (${(err as Error).message})`);
    }
    return specWithScale(raw, scale, '--arch');
  }
  throw new Error(`--arch '${text}': not a preset, JSON spec or file (${PRESET_HELP})`);
}

/** Validates a parsed JSON spec, taking `scale` when it names none. */
export function specWithScale(raw: unknown, scale: number, source: string): ArchSpec {
  return validateSpec(typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? { scale, ...raw } : raw, source);
}

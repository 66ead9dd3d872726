// The architecture registry (BasicSR's idea): every trainable architecture by name, presets, and parsing of
// `--arch` values — a preset name, a JSON spec, or a path to a JSON file.
import { existsSync, readFileSync } from 'node:fs';
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
  const arch = ARCHITECTURES[r.arch as ArchSpec['arch']];
  if (!arch) throw new Error(`${source}: unknown architecture ${JSON.stringify(r.arch)} (known: ${Object.keys(ARCHITECTURES).join(', ')})`);
  try {
    return arch.validate(r) as ArchSpec;
  } catch (err) {
    throw new Error(`${source}: ${(err as Error).message}`);
  }
}

const PRESET_HELP = 'presets: wdsr-b-NxC (N blocks of width C, M1 = 6C, M2 = ⌊0.84C⌋; the seed supernet is wdsr-b-16x24), espcn, fsrcnn-d2s';

/** Parses `--arch`: a preset (scale from `scale`), a JSON object, or a JSON file. */
export function parseArch(text: string, scale: number): ArchSpec {
  const wdsr = /^wdsr-b-(\d+)x(\d+)$/.exec(text);
  if (wdsr) return validateSpec(uniformWdsr(scale, Number(wdsr[1]), Number(wdsr[2])), text);
  if (text === 'espcn' || text === 'fsrcnn-d2s') return validateSpec({ arch: text, scale }, text);
  if (text.trimStart().startsWith('{')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (err) {
      throw new Error(`--arch: not valid JSON (${(err as Error).message})`);
    }
    return validateSpec({ scale, ...(raw as object) }, '--arch');
  }
  if (existsSync(text)) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(text, 'utf8'));
    } catch (err) {
      throw new Error(`${text}: not a JSON architecture spec (${(err as Error).message})`);
    }
    return validateSpec({ scale, ...(raw as object) }, text);
  }
  throw new Error(`--arch '${text}': not a preset, JSON spec or file (${PRESET_HELP})`);
}

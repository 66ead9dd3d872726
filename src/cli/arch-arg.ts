// `--arch` on the command line: a preset or JSON spec (parseArch), or a path to a JSON spec file.
import { existsSync, readFileSync } from 'node:fs';
import { type ArchSpec, isPresetOrJson, parseArch, specWithScale } from '../models/registry.js';

export function parseArchArg(text: string, scale: number): ArchSpec {
  if (isPresetOrJson(text) || !existsSync(text)) return parseArch(text, scale);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(text, 'utf8'));
  } catch (err) {
    throw new Error(`${text}: not a JSON architecture spec (${(err as Error).message})`);
  }
  return specWithScale(raw, scale, text);
}

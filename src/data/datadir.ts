// Where benchmark and training images live: `--data DIR`, else $RTSR_DATA, else the small `data/` folder bundled
// with the package (Set5 and T91 HR), found from this module's own location so it works from any cwd.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../util/package-root.js';

export const BUNDLED_DATA_DIR = join(PACKAGE_ROOT, 'data');

/** Resolves the data folder; it must exist, and the error says which source named it. */
export function resolveDataDir(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  const [dir, source] =
    flag !== undefined ? [resolve(flag), '--data'] : env.RTSR_DATA ? [resolve(env.RTSR_DATA), 'RTSR_DATA'] : [BUNDLED_DATA_DIR, 'the bundled data'];
  if (!existsSync(dir)) throw new Error(`data folder ${dir} (from ${source}) does not exist`);
  return dir;
}

// POST /api/profile: a profile measured by the profiling page. The body is size-limited and must be JSON that
// validateProfile accepts; it is written atomically under the profiles folder with a name the server makes up
// (nothing in the request names a path), and the reply says where it went.
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { formatProfile, validateProfile } from '../latency/profile-format.js';
import { writeFileAtomic } from '../util/atomic.js';
import { HttpError } from './paths.js';

/** A full profile (1 000 parts × 15 samples) is ~300 KB; anything near this limit is not one. */
export const MAX_PROFILE_BYTES = 4 * 2 ** 20;

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (declared > limit) throw new HttpError(413, `a profile is at most ${limit} bytes; this one says ${declared}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw new HttpError(413, `a profile is at most ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

const slug = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'device';

/** Validates the posted profile and writes it; returns the file's path. */
export async function receiveProfile(req: IncomingMessage, dir: string, now = new Date()): Promise<string> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new HttpError(415, 'a profile is posted as application/json');
  const body = await readBody(req, MAX_PROFILE_BYTES);
  let raw: unknown;
  try {
    raw = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`);
  }
  let profile;
  try {
    profile = validateProfile(raw, 'the posted profile');
  } catch (err) {
    throw new HttpError(422, (err as Error).message);
  }
  const { device, scale, input } = profile;
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  const path = join(dir, `${slug(device.os)}-${device.target}-x${scale}-${input.w}x${input.h}-${stamp}.json`);
  writeFileAtomic(path, formatProfile(profile), { replace: false });
  return path;
}

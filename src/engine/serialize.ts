// Named float32 tensors in one file: "RTSRTNS1", a uint32 header length, a JSON header (names, shapes,
// metadata, sha256 of the data), then the raw little-endian data. Loading parses JSON and copies floats;
// nothing in a file is ever executed. A truncated or altered file fails its checksum with a clear error.
import { readFileSync } from 'node:fs';
import { endianness } from 'node:os';
import { sha256, writeFileAtomic } from '../util/atomic.js';

const MAGIC = 'RTSRTNS1';

export interface TensorFile {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  meta: Record<string, unknown>;
}

interface Header {
  tensors: { name: string; shape: number[] }[];
  meta: Record<string, unknown>;
  sha256: string;
}

if (endianness() !== 'LE') throw new Error('rtsr tensor files are little-endian; this machine is big-endian');

export function encodeTensors(tensors: Map<string, { shape: readonly number[]; data: Float32Array }>, meta: Record<string, unknown> = {}): Uint8Array[] {
  const entries = [...tensors];
  for (const [name, t] of entries) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`encodeTensors: '${name}' has shape [${t.shape}] but ${t.data.length} values`);
  }
  const body = entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  const header: Header = { tensors: entries.map(([name, t]) => ({ name, shape: [...t.shape] })), meta, sha256: sha256(body) };
  const json = Buffer.from(JSON.stringify(header));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(json.length);
  return [Buffer.from(MAGIC), len, json, ...body];
}

export function saveTensors(path: string, tensors: Map<string, { shape: readonly number[]; data: Float32Array }>, meta: Record<string, unknown> = {}): void {
  writeFileAtomic(path, encodeTensors(tensors, meta));
}

export function decodeTensors(buf: Uint8Array, source: string): TensorFile {
  const bad = (why: string): never => {
    throw new Error(`${source}: not a valid rtsr tensor file (${why})`);
  };
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 12 || b.toString('latin1', 0, 8) !== MAGIC) bad('wrong magic bytes');
  const hlen = b.readUInt32LE(8);
  if (12 + hlen > b.length) bad('truncated header');
  let header: Header;
  try {
    header = JSON.parse(b.toString('utf8', 12, 12 + hlen)) as Header;
  } catch {
    return bad('header is not JSON');
  }
  if (!Array.isArray(header.tensors) || typeof header.sha256 !== 'string') bad('header lacks tensors or checksum');
  let offset = 12 + hlen;
  const bytes = header.tensors.reduce((acc, t) => acc + 4 * t.shape.reduce((a, d) => a * d, 1), 0);
  if (offset + bytes !== b.length) bad(`expected ${offset + bytes} bytes, file has ${b.length}: truncated or padded`);
  const data = b.subarray(offset);
  if (sha256([data]) !== header.sha256) bad('checksum mismatch: the data was altered or corrupted');
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const t of header.tensors) {
    const n = t.shape.reduce((a, d) => a * d, 1);
    // Copy into a fresh, aligned array: the file buffer's offset need not be a multiple of 4.
    const arr = new Float32Array(n);
    new Uint8Array(arr.buffer).set(b.subarray(offset, offset + 4 * n));
    tensors.set(t.name, { shape: t.shape, data: arr });
    offset += 4 * n;
  }
  return { tensors, meta: header.meta ?? {} };
}

export function loadTensors(path: string): TensorFile {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    throw new Error(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return decodeTensors(buf, path);
}

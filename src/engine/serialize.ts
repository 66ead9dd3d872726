// Named float32 tensors in one file (container v2): "RTSRTNS2", the hex sha256 of everything after it, a uint32
// header length, a JSON header (names, shapes, metadata), then the raw little-endian data. The checksum covers
// the header too, so an edited step, spec or metric fails it like altered weights do. Decoding parses JSON and
// copies floats; nothing in a file is ever executed, and a tensor holding NaN or ±Infinity is refused. No node
// imports: a browser decodes these bytes too (reading and writing files is in tensor-file.ts).
import { Sha256, sha256Hex } from '../util/sha256.js';

const MAGIC = 'RTSRTNS2';
/** Container v1 checksummed only the data; its files are read only when asked (scripts/upgrade-tensor-files.mjs). */
const MAGIC_V1 = 'RTSRTNS1';
const DIGEST_AT = MAGIC.length;
const BODY_AT = DIGEST_AT + 64;

export interface TensorFile {
  tensors: Map<string, { shape: number[]; data: Float32Array }>;
  meta: Record<string, unknown>;
}

export type TensorMap = Map<string, { shape: readonly number[]; data: Float32Array }>;

interface Header {
  tensors: { name: string; shape: number[] }[];
  meta: Record<string, unknown>;
}

if (new Uint8Array(Uint16Array.of(1).buffer)[0] !== 1) throw new Error('rtsr tensor files are little-endian; this machine is big-endian');

const ascii = (s: string) => Uint8Array.from(s, (c) => c.charCodeAt(0));
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function encodeTensors(tensors: TensorMap, meta: Record<string, unknown> = {}): Uint8Array[] {
  const entries = [...tensors];
  for (const [name, t] of entries) {
    if (size(t.shape) !== t.data.length) throw new Error(`encodeTensors: '${name}' has shape [${t.shape}] but ${t.data.length} values`);
  }
  const header: Header = { tensors: entries.map(([name, t]) => ({ name, shape: [...t.shape] })), meta };
  const json = new TextEncoder().encode(JSON.stringify(header));
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, json.length, true);
  const body = [len, json, ...entries.map(([, t]) => new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength))];
  return [ascii(MAGIC), ascii(sha256Hex(body)), ...body];
}

export interface DecodeOptions {
  /** Also read container v1 files (data checksummed, header not): for converting them, nothing else. */
  acceptV1?: boolean;
}

export function decodeTensors(buf: Uint8Array, source: string, opts: DecodeOptions = {}): TensorFile {
  const bad = (why: string): never => {
    throw new Error(`${source}: not a valid rtsr tensor file (${why})`);
  };
  const magic = String.fromCharCode(...buf.subarray(0, 8));
  if (magic === MAGIC_V1 && !opts.acceptV1)
    bad('container v1, written by an older rtsr, checksums its data but not its header; convert it with `node scripts/upgrade-tensor-files.mjs FILE`');
  if (magic !== MAGIC && magic !== MAGIC_V1) bad('wrong magic bytes');
  const v1 = magic === MAGIC_V1;
  const lenAt = v1 ? 8 : BODY_AT;
  if (buf.length < lenAt + 4) bad('truncated header');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const hlen = view.getUint32(lenAt, true);
  const dataAt = lenAt + 4 + hlen;
  if (dataAt > buf.length) bad('truncated header');
  let header: Header & { sha256?: string };
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(lenAt + 4, dataAt)));
  } catch {
    return bad('header is not JSON');
  }
  const shapes = checkHeader(header, v1, bad);
  const bytes = shapes.reduce((acc, s) => acc + 4 * size(s), 0);
  if (dataAt + bytes !== buf.length) bad(`expected ${dataAt + bytes} bytes, file has ${buf.length}: truncated or padded`);
  const checked = v1 ? new Sha256().update(buf.subarray(dataAt)).hex() : new Sha256().update(buf.subarray(BODY_AT)).hex();
  const stored = v1 ? header.sha256 : String.fromCharCode(...buf.subarray(DIGEST_AT, BODY_AT));
  if (checked !== stored) bad(`checksum mismatch: the ${v1 ? 'data' : 'file'} was altered or corrupted`);
  const tensors = new Map<string, { shape: number[]; data: Float32Array }>();
  let offset = dataAt;
  header.tensors.forEach((t, i) => {
    // Copy into a fresh, aligned array: the file buffer's offset need not be a multiple of 4.
    const arr = new Float32Array(size(shapes[i]));
    new Uint8Array(arr.buffer).set(buf.subarray(offset, offset + arr.byteLength));
    offset += arr.byteLength;
    const at = arr.findIndex((v) => !Number.isFinite(v));
    // A valid checksum only says the file is as written: a non-finite weight still makes every output NaN or black.
    if (at >= 0) bad(`tensor '${t.name}' holds ${arr[at]} at index ${at}`);
    tensors.set(t.name, { shape: shapes[i], data: arr });
  });
  return { tensors, meta: header.meta ?? {} };
}

/** The header's tensor shapes, after checking every field a decoder relies on. */
function checkHeader(header: Header & { sha256?: string }, v1: boolean, bad: (why: string) => never): number[][] {
  if (typeof header !== 'object' || header === null || !Array.isArray(header.tensors)) bad('header lacks its tensor list');
  if (v1 && typeof header.sha256 !== 'string') bad('header lacks its checksum');
  if (header.meta !== undefined && (typeof header.meta !== 'object' || header.meta === null || Array.isArray(header.meta))) bad('header meta is not an object');
  const names = new Set<string>();
  return header.tensors.map((t, i) => {
    const name = typeof t?.name === 'string' ? t.name : bad(`tensor ${i} has no name`);
    if (names.has(name)) bad(`tensor '${name}' appears twice`);
    names.add(name);
    const ok = Array.isArray(t.shape) && t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) && Number.isSafeInteger(size(t.shape));
    return ok ? t.shape : bad(`tensor '${name}' has shape ${JSON.stringify(t.shape)}, not a list of non-negative integers`);
  });
}

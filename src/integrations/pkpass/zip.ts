import * as zlib from 'node:zlib';

import { crc32 as javascriptCrc32 } from '../../common/png';

/**
 * A one-shot in-memory ZIP writer (PKWARE APPNOTE 6.3, no ZIP64) for pass bundles. It exists
 * because yazl checksums with a JavaScript CRC-32 (~3 ms per MB) and pumps entries through
 * streams; pass bundles are small, known up front, and built hundreds of times a second.
 */

export interface ZipEntry {
  /** Forward-slash relative path, UTF-8. */
  name: string;
  data: Buffer;
  /** Deflate (method 8) rather than store (method 0). */
  deflate: boolean;
}

// zlib.crc32 arrived in Node 20.15; package.json allows 20.11.
const crc32: (data: Buffer) => number =
  typeof zlib.crc32 === 'function' ? (data) => zlib.crc32(data) : (data) => javascriptCrc32(data);

const LOCAL_HEADER = 0x04034b50;
const CENTRAL_HEADER = 0x02014b50;
const END_OF_CENTRAL_DIRECTORY = 0x06054b50;
const VERSION_NEEDED = 20; // 2.0: deflate
const VERSION_MADE_BY = (3 << 8) | 20; // Unix, 2.0 — so the external attributes below mean rw-r--r--
const FLAG_UTF8_NAMES = 0x0800;
const UNIX_FILE_MODE = (0o100644 << 16) >>> 0;
const MAX_32 = 0xffffffff;

/** MS-DOS date/time of 2020-01-01 00:00: a fixed stamp keeps archives reproducible. */
const DOS_TIME = 0;
const DOS_DATE = ((2020 - 1980) << 9) | (1 << 5) | 1;

export function zipEntries(entries: readonly ZipEntry[]): Buffer {
  const parts: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;

  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const payload = entry.deflate ? zlib.deflateRawSync(entry.data) : entry.data;
    const method = entry.deflate ? 8 : 0;
    const crc = crc32(entry.data);
    if (entry.data.length > MAX_32 || offset > MAX_32 || name.length > 0xffff) {
      throw new RangeError(`zip entry "${entry.name}" needs ZIP64, which this writer does not support`);
    }

    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL_HEADER, 0);
    local.writeUInt16LE(VERSION_NEEDED, 4);
    local.writeUInt16LE(FLAG_UTF8_NAMES, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(payload.length, 18);
    local.writeUInt32LE(entry.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28); // extra field length

    const header = Buffer.alloc(46);
    header.writeUInt32LE(CENTRAL_HEADER, 0);
    header.writeUInt16LE(VERSION_MADE_BY, 4);
    header.writeUInt16LE(VERSION_NEEDED, 6);
    header.writeUInt16LE(FLAG_UTF8_NAMES, 8);
    header.writeUInt16LE(method, 10);
    header.writeUInt16LE(DOS_TIME, 12);
    header.writeUInt16LE(DOS_DATE, 14);
    header.writeUInt32LE(crc, 16);
    header.writeUInt32LE(payload.length, 20);
    header.writeUInt32LE(entry.data.length, 24);
    header.writeUInt16LE(name.length, 28);
    // 30: extra length, 32: comment length, 34: disk number, 36: internal attributes — all zero
    header.writeUInt32LE(UNIX_FILE_MODE, 38);
    header.writeUInt32LE(offset, 42);

    parts.push(local, name, payload);
    central.push(header, name);
    offset += local.length + name.length + payload.length;
  }

  let centralSize = 0;
  for (const part of central) centralSize += part.length;
  if (entries.length > 0xffff || offset > MAX_32 || offset + centralSize > MAX_32) {
    throw new RangeError('zip archive needs ZIP64, which this writer does not support');
  }
  const end = Buffer.alloc(22);
  end.writeUInt32LE(END_OF_CENTRAL_DIRECTORY, 0);
  // 4: this disk, 6: disk with the central directory — zero
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(offset, 16);
  // 20: comment length — zero
  return Buffer.concat([...parts, ...central, end]);
}

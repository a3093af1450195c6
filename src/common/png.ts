import { deflateSync, inflateSync } from 'node:zlib';

/** PNG checks (structure and decoded image data) and a minimal RGBA writer (PNG spec, ISO/IEC 15948). */

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Largest width or height accepted from uploads; Wallet artwork is a few hundred pixels. */
export const MAX_PNG_DIMENSION = 8192;
/**
 * Most pixels accepted from uploads (2048 × 2048). Together with decoding against the declared
 * size, this bounds what an upload can make the service inflate (at most ~33 MB for 16-bit RGBA),
 * whatever its compressed size: a decompression bomb is refused once its output passes the size.
 */
export const MAX_PNG_PIXELS = 2048 * 2048;

export class InvalidPngError extends Error {
  override readonly name = 'InvalidPngError';
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (ISO-HDLC, the one PNG and ZIP use); pass the previous result to continue a running CRC. */
export function crc32(data: Uint8Array, previous = 0): number {
  let c = (previous ^ 0xffffffff) >>> 0;
  for (let i = 0; i < data.length; i++)
    c = (CRC_TABLE[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// colour type → allowed bit depths
const BIT_DEPTHS: Record<number, readonly number[]> = {
  0: [1, 2, 4, 8, 16],
  2: [8, 16],
  3: [1, 2, 4, 8],
  4: [8, 16],
  6: [8, 16],
};

interface PngHeader {
  width: number;
  height: number;
  bitDepth: number;
  colourType: number;
  interlaced: boolean;
}

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Adam7 passes: x start, y start, x step, y step. */
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
] as const;

/** Scanlines of the image (each pass of an interlaced one): their byte length without the filter byte, and count. */
function scanlines(h: PngHeader): { rowBytes: number; rows: number }[] {
  const bitsPerPixel = (CHANNELS[h.colourType] ?? 0) * h.bitDepth;
  const rowBytes = (pixels: number) => Math.ceil((pixels * bitsPerPixel) / 8);
  if (!h.interlaced) return [{ rowBytes: rowBytes(h.width), rows: h.height }];
  const passes: { rowBytes: number; rows: number }[] = [];
  for (const [x0, y0, dx, dy] of ADAM7) {
    const w = h.width > x0 ? Math.ceil((h.width - x0) / dx) : 0;
    const rows = h.height > y0 ? Math.ceil((h.height - y0) / dy) : 0;
    if (w > 0 && rows > 0) passes.push({ rowBytes: rowBytes(w), rows });
  }
  return passes;
}

/**
 * Decodes the image data: the zlib stream must inflate to exactly the size the header declares
 * (never more: inflating stops one byte past it, so a decompression bomb costs at most that), and
 * every scanline must start with a valid filter type (0-4).
 */
function checkImageData(h: PngHeader, idat: Buffer[]): void {
  const lines = scanlines(h);
  const expected = lines.reduce((sum, l) => sum + l.rows * (l.rowBytes + 1), 0);
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: expected + 1 });
  } catch (err) {
    const tooLarge = (err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE';
    throw new InvalidPngError(
      tooLarge
        ? `PNG image data inflates to more than the ${expected} bytes its ${h.width}×${h.height} header declares`
        : 'PNG image data is not a valid zlib stream',
    );
  }
  if (raw.length !== expected) {
    throw new InvalidPngError(
      `PNG image data inflates to ${raw.length} bytes; its ${h.width}×${h.height} header declares ${expected}`,
    );
  }
  let at = 0;
  for (const { rowBytes, rows } of lines) {
    for (let y = 0; y < rows; y++, at += rowBytes + 1) {
      if (raw[at]! > 4) throw new InvalidPngError(`invalid PNG filter type ${raw[at]} at scanline ${y}`);
    }
  }
}

/**
 * Throws InvalidPngError unless `buf` is a valid PNG of at most MAX_PNG_PIXELS pixels whose image
 * data decodes to its declared size; returns its dimensions.
 */
export function inspectPng(buf: Buffer): { width: number; height: number } {
  if (buf.length < PNG_SIGNATURE.length || !buf.subarray(0, PNG_SIGNATURE.length).equals(PNG_SIGNATURE)) {
    throw new InvalidPngError('not a PNG file (missing PNG signature)');
  }
  let offset = PNG_SIGNATURE.length;
  let width = 0;
  let height = 0;
  let header: PngHeader = { width: 0, height: 0, bitDepth: 0, colourType: 0, interlaced: false };
  const idat: Buffer[] = [];
  let sawPalette = false;
  let previousType = '';
  for (let index = 0; ; index++) {
    if (offset === buf.length) throw new InvalidPngError('PNG ends without an IEND chunk (file truncated?)');
    if (offset + 12 > buf.length) throw new InvalidPngError(`PNG truncated inside chunk #${index + 1}`);
    const length = buf.readUInt32BE(offset);
    const typeBytes = buf.subarray(offset + 4, offset + 8);
    const type = typeBytes.toString('latin1');
    if (!/^[A-Za-z]{4}$/.test(type))
      throw new InvalidPngError(`invalid PNG chunk type at byte ${offset + 4}`);
    if (length > 0x7fffffff || offset + 12 + length > buf.length) {
      throw new InvalidPngError(`PNG truncated inside ${type} chunk`);
    }
    const data = buf.subarray(offset + 8, offset + 8 + length);
    const expected = buf.readUInt32BE(offset + 8 + length);
    if (crc32(data, crc32(typeBytes)) !== expected) throw new InvalidPngError(`bad CRC in PNG ${type} chunk`);

    if (index === 0) {
      if (type !== 'IHDR') throw new InvalidPngError(`first PNG chunk is ${type}, expected IHDR`);
      if (length !== 13) throw new InvalidPngError(`IHDR has length ${length}, expected 13`);
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [bitDepth, colourType, compression, filter, interlace] = data.subarray(8);
      if (width < 1 || height < 1 || width > MAX_PNG_DIMENSION || height > MAX_PNG_DIMENSION) {
        throw new InvalidPngError(`PNG dimensions ${width}×${height} outside 1–${MAX_PNG_DIMENSION}`);
      }
      if (width * height > MAX_PNG_PIXELS) {
        throw new InvalidPngError(
          `PNG has ${width * height} pixels (${width}×${height}); at most ${MAX_PNG_PIXELS} are accepted`,
        );
      }
      if (!BIT_DEPTHS[colourType ?? -1]?.includes(bitDepth ?? -1)) {
        throw new InvalidPngError(`invalid PNG colour type ${colourType} / bit depth ${bitDepth}`);
      }
      if (compression !== 0 || filter !== 0 || (interlace !== 0 && interlace !== 1)) {
        throw new InvalidPngError('invalid PNG compression, filter or interlace method');
      }
      header = { width, height, bitDepth: bitDepth!, colourType: colourType!, interlaced: interlace === 1 };
    } else if (type === 'IHDR') {
      throw new InvalidPngError('PNG has more than one IHDR chunk');
    } else if (type === 'IDAT') {
      if (idat.length > 0 && previousType !== 'IDAT')
        throw new InvalidPngError('PNG IDAT chunks are not consecutive');
      if (header.colourType === 3 && !sawPalette)
        throw new InvalidPngError('PNG with a palette has no PLTE before IDAT');
      idat.push(data);
    } else if (type === 'PLTE') {
      sawPalette = true;
    } else if (type === 'IEND') {
      if (idat.length === 0) throw new InvalidPngError('PNG has no IDAT chunk');
      if (offset + 12 + length !== buf.length)
        throw new InvalidPngError('unexpected data after PNG IEND chunk');
      checkImageData(header, idat);
      return { width, height };
    }
    previousType = type;
    offset += 12 + length;
  }
}

/** One PNG chunk: length, type, data, CRC-32 of type and data. */
export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** An 8-bit RGBA PNG from `rgba` (width × height × 4 bytes, rows top to bottom), no filtering. */
export function encodePng(width: number, height: number, rgba: Uint8Array): Buffer {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new RangeError(`invalid PNG size ${width}×${height}`);
  }
  const stride = width * 4;
  if (rgba.length !== stride * height)
    throw new RangeError(`expected ${stride * height} RGBA bytes, got ${rgba.length}`);
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 6; // colour type RGBA
  return Buffer.concat([
    PNG_SIGNATURE,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

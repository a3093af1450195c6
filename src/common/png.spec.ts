import { defaultIconFiles } from '../integrations/pkpass/default-icon';
import { deflateSync } from 'node:zlib';
import {
  crc32,
  encodePng,
  inspectPng,
  InvalidPngError,
  MAX_PNG_PIXELS,
  PNG_SIGNATURE,
  pngChunk as chunk,
} from './png';

function ihdr(width: number, height: number, bitDepth = 8, colourType = 6): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = bitDepth;
  data[9] = colourType;
  return chunk('IHDR', data);
}

/** The chunk list of a valid 2×2 PNG, to rearrange. */
function validChunks(): { ihdr: Buffer; idat: Buffer; iend: Buffer } {
  const png = encodePng(2, 2, new Uint8Array(16).fill(200));
  const ihdrEnd = 8 + 12 + 13;
  const iendStart = png.length - 12;
  return {
    ihdr: png.subarray(8, ihdrEnd),
    idat: png.subarray(ihdrEnd, iendStart),
    iend: png.subarray(iendStart),
  };
}

function expectInvalid(buf: Buffer, message: RegExp): void {
  expect(() => inspectPng(buf)).toThrow(InvalidPngError);
  expect(() => inspectPng(buf)).toThrow(message);
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
  });

  it('continues a running checksum', () => {
    const whole = crc32(Buffer.from('hello world'));
    expect(crc32(Buffer.from(' world'), crc32(Buffer.from('hello')))).toBe(whole);
  });
});

describe('inspectPng', () => {
  it('accepts the default icons with their sizes', () => {
    const icons = defaultIconFiles();
    expect(inspectPng(icons['icon.png'])).toEqual({ width: 29, height: 29 });
    expect(inspectPng(icons['icon@2x.png'])).toEqual({ width: 58, height: 58 });
  });

  it('returns the dimensions of an encoded image', () => {
    expect(inspectPng(encodePng(7, 3, new Uint8Array(7 * 3 * 4)))).toEqual({ width: 7, height: 3 });
  });

  it('rejects text and JPEG bytes for lacking the signature', () => {
    expectInvalid(Buffer.from('hello, this is not an image'), /signature/);
    expectInvalid(Buffer.from('ffd8ffe000104a46494600010100000100010000ffdb', 'hex'), /signature/);
    expectInvalid(Buffer.alloc(0), /signature/);
  });

  it('rejects a truncated file', () => {
    const png = defaultIconFiles()['icon.png'];
    expectInvalid(png.subarray(0, png.length - 12), /without an IEND/);
    expectInvalid(png.subarray(0, png.length - 5), /truncated/);
    expectInvalid(png.subarray(0, 40), /truncated/);
  });

  it('rejects a chunk whose CRC does not match', () => {
    const png = Buffer.from(defaultIconFiles()['icon.png']);
    png[8 + 12 + 13 + 8 + 3]! ^= 0xff; // a byte of IDAT data
    expectInvalid(png, /bad CRC in PNG IDAT chunk/);
  });

  it('requires IHDR first, sane dimensions and a valid colour type / bit depth', () => {
    const { ihdr: header, idat, iend } = validChunks();
    expectInvalid(Buffer.concat([PNG_SIGNATURE, idat, header, iend]), /first PNG chunk is IDAT/);
    expectInvalid(Buffer.concat([PNG_SIGNATURE, ihdr(0, 2), idat, iend]), /dimensions 0×2/);
    expectInvalid(Buffer.concat([PNG_SIGNATURE, ihdr(2, 100_000), idat, iend]), /dimensions 2×100000/);
    expectInvalid(
      Buffer.concat([PNG_SIGNATURE, ihdr(2, 2, 3, 6), idat, iend]),
      /colour type 6 \/ bit depth 3/,
    );
    expect(inspectPng(Buffer.concat([PNG_SIGNATURE, header, idat, iend]))).toEqual({ width: 2, height: 2 });
  });

  it('requires an IDAT before IEND and nothing after IEND', () => {
    const { ihdr: header, idat, iend } = validChunks();
    expectInvalid(Buffer.concat([PNG_SIGNATURE, header, iend]), /no IDAT/);
    expectInvalid(Buffer.concat([PNG_SIGNATURE, header, idat, iend, Buffer.from('junk')]), /after PNG IEND/);
    expectInvalid(Buffer.concat([PNG_SIGNATURE, header, header, idat, iend]), /more than one IHDR/);
  });
});

describe('inspectPng decodes the image data', () => {
  const iend = chunk('IEND', Buffer.alloc(0));
  function png(
    width: number,
    height: number,
    raw: Buffer,
    opts: { colourType?: number; interlace?: number } = {},
  ) {
    const header = ihdr(width, height, 8, opts.colourType ?? 6);
    if (opts.interlace) {
      const data = Buffer.from(header.subarray(8, 21));
      data[12] = opts.interlace;
      return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', data), chunk('IDAT', deflateSync(raw)), iend]);
    }
    return Buffer.concat([PNG_SIGNATURE, header, chunk('IDAT', deflateSync(raw)), iend]);
  }

  it('accepts image data of exactly the declared size, interlaced too', () => {
    expect(inspectPng(png(2, 2, Buffer.alloc(2 * (1 + 8))))).toEqual({ width: 2, height: 2 });
    // Adam7, 1×1: only the first pass has a pixel.
    expect(inspectPng(png(1, 1, Buffer.alloc(1 + 4), { interlace: 1 }))).toEqual({ width: 1, height: 1 });
    // 3×3 interlaced RGBA: passes 1 (1×1), 4 (1×1), 5 (2×1), 6 (1×2), 7 (3×1).
    const adam7 = 1 + 4 + (1 + 4) + (1 + 8) + 2 * (1 + 4) + (1 + 12);
    expect(inspectPng(png(3, 3, Buffer.alloc(adam7), { interlace: 1 }))).toEqual({ width: 3, height: 3 });
    expect(() => inspectPng(png(3, 3, Buffer.alloc(adam7 - 1), { interlace: 1 }))).toThrow(/declares/);
  });

  it('refuses a decompression bomb without inflating it', () => {
    const bomb = png(16, 16, Buffer.alloc(16 * 1024 * 1024));
    expect(bomb.length).toBeLessThan(100_000);
    const started = Date.now();
    expect(() => inspectPng(bomb)).toThrow(/inflates to more than the 1040 bytes/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses short image data, bad filter types and broken zlib streams', () => {
    expect(() => inspectPng(png(2, 2, Buffer.alloc(17)))).toThrow(
      /inflates to 17 bytes; its 2×2 header declares 18/,
    );
    const badFilter = Buffer.alloc(18);
    badFilter[9] = 7;
    expect(() => inspectPng(png(2, 2, badFilter))).toThrow(/filter type 7 at scanline 1/);
    const broken = Buffer.concat([PNG_SIGNATURE, ihdr(2, 2), chunk('IDAT', Buffer.from('not zlib')), iend]);
    expect(() => inspectPng(broken)).toThrow(/not a valid zlib stream/);
  });

  it('caps the pixel count and requires a palette for palette images and consecutive IDATs', () => {
    expect(() => inspectPng(Buffer.concat([PNG_SIGNATURE, ihdr(4096, 4096), iend]))).toThrow(
      new RegExp(`at most ${MAX_PNG_PIXELS}`),
    );
    expect(() => inspectPng(png(2, 2, Buffer.alloc(2 * 3), { colourType: 3 }))).toThrow(/no PLTE/);
    const raw = deflateSync(Buffer.alloc(18));
    const split = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(2, 2),
      chunk('IDAT', raw.subarray(0, 4)),
      chunk('tEXt', Buffer.from('a\0b')),
      chunk('IDAT', raw.subarray(4)),
      iend,
    ]);
    expect(() => inspectPng(split)).toThrow(/not consecutive/);
    const joined = Buffer.concat([
      PNG_SIGNATURE,
      ihdr(2, 2),
      chunk('IDAT', raw.subarray(0, 4)),
      chunk('IDAT', raw.subarray(4)),
      iend,
    ]);
    expect(inspectPng(joined)).toEqual({ width: 2, height: 2 });
  });
});

describe('encodePng', () => {
  it('rejects pixel data of the wrong size', () => {
    expect(() => encodePng(2, 2, new Uint8Array(15))).toThrow(RangeError);
  });
});

import { createHash } from 'node:crypto';
import { DomainError } from '../../common/errors';
import { InvalidPngError, inspectPng } from '../../common/png';
import { IMAGE_NAMES, ImageName } from '../../domain/pass-design/campaign-template';
import { NewImage } from './campaigns.repository';

export const MAX_IMAGE_BYTES = 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function isImageName(s: string): s is ImageName {
  return (IMAGE_NAMES as readonly string[]).includes(s);
}

/** Decodes and checks one uploaded image: base64 of a structurally valid PNG of at most 1 MB. */
export function assertImageName(name: string): ImageName {
  if (!isImageName(name)) {
    const field = `images.${name}`;
    throw new DomainError('INVALID_IMAGE', `${field}: unknown image; use one of ${IMAGE_NAMES.join(', ')}`, [
      { field, message: 'unknown image name' },
    ]);
  }
  return name;
}

export function decodeImage(name: string, value: unknown): NewImage {
  const field = `images.${name}`;
  assertImageName(name);
  if (typeof value !== 'string' || value.length === 0) {
    throw new DomainError('INVALID_IMAGE', `${field}: must be a base64-encoded PNG`, [
      { field, message: 'must be a base64 string' },
    ]);
  }
  const b64 = value.replace(/^data:image\/png;base64,/, '').replace(/\s+/g, '');
  if (!BASE64.test(b64)) {
    throw new DomainError('INVALID_IMAGE', `${field}: is not valid base64`, [
      { field, message: 'is not valid base64' },
    ]);
  }
  if ((b64.length * 3) / 4 > MAX_IMAGE_BYTES + 3) {
    throw new DomainError('INVALID_IMAGE', `${field}: is larger than 1 MB`, [
      { field, message: 'is larger than 1 MB' },
    ]);
  }
  const png = Buffer.from(b64, 'base64');
  if (png.length > MAX_IMAGE_BYTES) {
    throw new DomainError('INVALID_IMAGE', `${field}: is larger than 1 MB`, [
      { field, message: 'is larger than 1 MB' },
    ]);
  }
  try {
    const { width, height } = inspectPng(png);
    return {
      name: name as ImageName,
      png,
      width,
      height,
      sha1: createHash('sha1').update(png).digest('hex'),
    };
  } catch (err) {
    if (err instanceof InvalidPngError) {
      throw new DomainError('INVALID_IMAGE', `${field}: not a valid PNG (${err.message})`, [
        { field, message: err.message },
      ]);
    }
    throw err;
  }
}

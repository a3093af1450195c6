import { Injectable, PipeTransform, ArgumentMetadata } from '@nestjs/common';
import { DomainError } from '../errors';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

/** Path ids must be UUIDs; anything else is a 400 naming the parameter, never a database error. */
@Injectable()
export class UuidPipe implements PipeTransform<string, string> {
  transform(value: string, meta: ArgumentMetadata): string {
    if (!isUuid(value)) throw DomainError.validation(meta.data ?? 'id', 'must be a UUID');
    return value.toLowerCase();
  }
}

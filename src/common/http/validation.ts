import { ValidationError, ValidationPipe } from '@nestjs/common';
import { DomainError, FieldError } from '../errors';

function flatten(errors: ValidationError[], prefix = ''): FieldError[] {
  const out: FieldError[] = [];
  for (const e of errors) {
    // A body that is not an object at all (an array, a string) fails with an empty property name.
    const field = prefix ? `${prefix}.${e.property}` : e.property || 'body';
    for (const message of Object.values(e.constraints ?? {})) {
      out.push({ field, message: message.replace(/^\S+ /, (w) => (w.includes('.') ? '' : w)) });
    }
    if (e.children?.length) out.push(...flatten(e.children, field));
  }
  return out;
}

/** DTO validation: unknown fields are rejected, every problem names its field. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    transform: true,
    stopAtFirstError: false,
    exceptionFactory: (errors) => {
      const fields = flatten(errors);
      const message = fields.map((f) => `${f.field}: ${f.message}`).join('; ') || 'Invalid request';
      return new DomainError('VALIDATION_FAILED', message, fields);
    },
  });
}

import { ERROR_STATUS, ErrorCode } from './error-codes';

export interface FieldError {
  field: string;
  message: string;
}

/** An expected failure with a code the global filter maps to an HTTP status. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'DomainError';
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }

  static validation(field: string, message: string): DomainError {
    return new DomainError('VALIDATION_FAILED', `${field}: ${message}`, [{ field, message }]);
  }

  static notFound(code: ErrorCode, what: string): DomainError {
    return new DomainError(code, `${what} not found`);
  }
}

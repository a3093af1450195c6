import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional, ApiResponse } from '@nestjs/swagger';

export class FieldErrorDto {
  @ApiProperty({ example: 'template.primaryFields[0].value' }) field!: string;
  @ApiProperty({ example: 'must be a string' }) message!: string;
}

export class ErrorDetailDto {
  @ApiProperty({ example: 'VALIDATION_FAILED', description: 'Stable machine-readable code.' }) code!: string;
  @ApiProperty({ example: 'name: must be a string' }) message!: string;
  @ApiPropertyOptional({ type: [FieldErrorDto], description: 'Present on validation errors.' })
  fields?: FieldErrorDto[];
  @ApiProperty({ description: 'The request id; quote it when reporting a problem.' }) correlationId!: string;
}

/** The body of every error response. */
export class ErrorResponseDto {
  @ApiProperty({ type: ErrorDetailDto }) error!: ErrorDetailDto;
}

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid input; `fields` names what is wrong',
  401: 'Missing or invalid credentials',
  403: 'Authenticated, but not allowed (FORBIDDEN_ROLE: the role is too weak; CSRF_REJECTED: cookie request without a valid X-CSRF-Token or from another origin)',
  404: 'Not found (also for ids of another tenant)',
  409: 'Conflicts with the current state',
  410: 'Gone (ended campaign or voided pass)',
  413: 'Body too large',
  422: 'Not possible with this configuration',
  429: 'Too many requests; see Retry-After',
  503: 'A dependency is unavailable; retry later',
};

/** Documents error responses with the common error schema. */
export function ApiErrors(...statuses: number[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...statuses.map((status) =>
      ApiResponse({ status, description: DESCRIPTIONS[status] ?? 'Error', type: ErrorResponseDto }),
    ),
  );
}

import { DomainError } from '../../common/errors';
import { constantTimeEquals } from '../tenants/api-key.format';
import { applePassToken, MAX_IDENTIFIER_LENGTH } from './apple-protocol';

/** One answer for every authentication failure, so a caller learns nothing about which part was wrong. */
export function appleAuthFailure(): DomainError {
  return new DomainError('UNAUTHORIZED', 'Authentication failed', undefined, {
    'WWW-Authenticate': 'ApplePass',
  });
}

/** The token of the request's ApplePass header, when the path could name a pass at all; else 401. */
export function requestToken(
  authorization: string | undefined,
  passTypeIdentifier: string,
  serialNumber: string,
): string {
  const token = applePassToken(authorization);
  if (
    token === null ||
    serialNumber.length > MAX_IDENTIFIER_LENGTH ||
    passTypeIdentifier.length > MAX_IDENTIFIER_LENGTH
  ) {
    throw appleAuthFailure();
  }
  return token;
}

/**
 * Narrows `pass` to an authenticated one: it exists, is of the requested pass type and carries
 * the token (compared in constant time). Anything else is the same 401.
 */
export function assertAuthenticated<
  P extends { passTypeIdentifier: string | null; authenticationToken: string },
>(pass: P | null, passTypeIdentifier: string, token: string): asserts pass is P {
  const tokenMatches = constantTimeEquals(token, pass?.authenticationToken ?? '');
  if (!pass || pass.passTypeIdentifier !== passTypeIdentifier || !tokenMatches) throw appleAuthFailure();
}

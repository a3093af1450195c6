import { ApnsError, type ApnsErrorKind, type ApnsResponse } from './apns-connection';
import { backoffDelay, classifyApnsResponse, type ApnsOutcome } from './apns-result';

describe('classifyApnsResponse', () => {
  const responses: [number, string | undefined, ApnsOutcome][] = [
    [200, undefined, 'delivered'],
    [410, 'Unregistered', 'unregistered'],
    [410, 'ExpiredToken', 'unregistered'],
    [400, 'BadDeviceToken', 'unregistered'],
    [429, 'TooManyRequests', 'retry'],
    [500, 'InternalServerError', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [503, 'Shutdown', 'retry'],
    [502, undefined, 'retry'],
    [400, 'IdleTimeout', 'retry'],
    [403, 'BadCertificate', 'certificate'],
    [403, 'BadCertificateEnvironment', 'certificate'],
    [403, 'Forbidden', 'certificate'],
    [403, undefined, 'certificate'],
    [400, 'DeviceTokenNotForTopic', 'configuration'],
    [400, 'BadTopic', 'configuration'],
    [400, 'TopicDisallowed', 'configuration'],
    [400, 'MissingTopic', 'configuration'],
    [400, 'PayloadEmpty', 'bug'],
    [400, 'BadPriority', 'bug'],
    [400, 'InvalidPushType', 'bug'],
    [400, undefined, 'bug'],
    [404, 'BadPath', 'bug'],
    [405, 'MethodNotAllowed', 'bug'],
    [413, 'PayloadTooLarge', 'bug'],
    [418, undefined, 'bug'],
  ];

  it.each(responses)('%i %s → %s', (status, reason, outcome) => {
    const res: ApnsResponse = reason === undefined ? { status } : { status, reason };
    expect(classifyApnsResponse(res)).toBe(outcome);
  });

  const errors: [ApnsErrorKind, ApnsOutcome, boolean][] = [
    ['timeout', 'retry', true],
    ['connection', 'retry', true],
    ['closed', 'retry', true],
    ['tls-rejected', 'certificate', false],
    ['credentials', 'certificate', false],
    ['tls-untrusted', 'configuration', false],
  ];

  it.each(errors)('ApnsError %s → %s (retryable %p)', (kind, outcome, retryable) => {
    const err = new ApnsError(kind, 'x');
    expect(err.retryable).toBe(retryable);
    expect(classifyApnsResponse(err)).toBe(outcome);
  });

  it('treats an error that is not an ApnsError as a bug', () => {
    expect(classifyApnsResponse(new TypeError('undefined is not a function'))).toBe('bug');
  });
});

describe('backoffDelay', () => {
  afterEach(() => jest.restoreAllMocks());

  it('grows the ceiling exponentially from the base and caps it', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0.999999);
    expect(backoffDelay(1)).toBe(499);
    expect(backoffDelay(2)).toBe(999);
    expect(backoffDelay(3)).toBe(1999);
    expect(backoffDelay(7)).toBe(31999);
    expect(backoffDelay(8)).toBe(59999);
    expect(backoffDelay(50)).toBe(59999);
    expect(backoffDelay(5000)).toBe(59999);
    expect(backoffDelay(3, 100, 250)).toBe(249);
  });

  it('uses full jitter: anywhere from zero to the ceiling', () => {
    jest.spyOn(Math, 'random').mockReturnValue(0);
    expect(backoffDelay(6)).toBe(0);
    jest.spyOn(Math, 'random').mockReturnValue(0.5);
    expect(backoffDelay(3)).toBe(1000);
  });

  it('stays within bounds for real random numbers and odd attempts', () => {
    for (let attempt = -2; attempt < 40; attempt++) {
      const ceiling = Math.min(60_000, 500 * 2 ** Math.max(0, attempt - 1));
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(attempt);
        expect(Number.isInteger(d)).toBe(true);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(ceiling);
      }
    }
    expect(backoffDelay(Number.NaN)).toBeLessThan(60_000);
    expect(backoffDelay(Number.POSITIVE_INFINITY)).toBeLessThan(60_000);
  });

  it('spreads retries instead of synchronising them', () => {
    const samples = new Set(Array.from({ length: 100 }, () => backoffDelay(10)));
    expect(samples.size).toBeGreaterThan(50);
  });
});

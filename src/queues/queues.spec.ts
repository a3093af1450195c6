import { WEBHOOK_ATTEMPTS, WEBHOOK_MAX_DELAY_MS, webhookBackoff } from './queues';

describe('webhook backoff', () => {
  it('doubles from the base up to an hour, with at most 10 % jitter', () => {
    expect(webhookBackoff(1, 30_000, 0.5)).toBe(30_000);
    expect(webhookBackoff(2, 30_000, 0.5)).toBe(60_000);
    expect(webhookBackoff(5, 30_000, 0.5)).toBe(480_000);
    expect(webhookBackoff(30, 30_000, 0.5)).toBe(WEBHOOK_MAX_DELAY_MS);
    expect(webhookBackoff(1, 30_000, 0)).toBe(27_000);
    expect(webhookBackoff(1, 30_000, 1)).toBe(33_000);
  });

  it('keeps retrying for more than 24 hours with the default base, even with the least jitter', () => {
    let total = 0;
    for (let attempt = 1; attempt < WEBHOOK_ATTEMPTS; attempt++) total += webhookBackoff(attempt, 30_000, 0);
    expect(total).toBeGreaterThan(24 * 3600_000);
  });
});

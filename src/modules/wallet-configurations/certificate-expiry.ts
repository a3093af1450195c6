const DAY_MS = 86_400_000;

/** Whole days from `now` until `expiresAt` (negative once expired; 0 when unknown). */
export function daysLeft(expiresAt: Date | null, now: number = Date.now()): number {
  if (!expiresAt) return 0;
  return Math.floor((expiresAt.getTime() - now) / DAY_MS);
}

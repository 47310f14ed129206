import type { RateLimitStatus } from "./ports";

/**
 * DocuSign's rate-limit window (monitor-api.md: requests per hour per account, reset on the hour), as
 * the core reads it: when the reserve is reached, and until when no request may be sent. Pure: the
 * time is an argument.
 */

/** One window: DocuSign's limits are per hour. The longest a stream is ever held. */
export const RATE_LIMIT_WINDOW_MS = 3_600_000;

/**
 * Whether the account's remaining requests are down to the share kept for its other integrations:
 * with a limit of 3,000 and a reserve of 0.2, the run stops once 600 are left, and they stay left.
 */
export function reserveReached(rateLimit: RateLimitStatus | undefined, reserve: number): boolean {
  return rateLimit !== undefined && rateLimit.limit > 0 && rateLimit.remaining <= rateLimit.limit * reserve;
}

/**
 * The reset to record: `resetAtMs` capped at one window from `now` (an `X-RateLimit-Reset` or
 * `Retry-After` far in the future, from a hostile or broken server, holds the stream for an hour at
 * most); undefined when it is unknown or already past (nothing to wait for).
 */
export function resetToRecord(resetAtMs: number | undefined, now: number): number | undefined {
  if (resetAtMs === undefined || !Number.isFinite(resetAtMs) || resetAtMs <= now) return undefined;
  return Math.min(resetAtMs, now + RATE_LIMIT_WINDOW_MS);
}

/**
 * The reset a run must wait for, from the recorded one: undefined when it has passed, and also when it
 * lies more than one window ahead of `now`. Every record is at most one window ahead of the clock
 * that wrote it, so a record further ahead means this clock stepped back (or another host's is
 * ahead): it is not trusted, and a stream is never held for more than one window from now.
 */
export function activeReset(recorded: number | undefined, now: number): number | undefined {
  if (recorded === undefined || !Number.isFinite(recorded) || recorded <= now) return undefined;
  return recorded - now > RATE_LIMIT_WINDOW_MS ? undefined : recorded;
}

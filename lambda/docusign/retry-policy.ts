import type { RateLimitStatus } from "../core/ports";

/**
 * When a DocuSign request is tried again and after how long. Pure: no fetch, no timers, no clock of
 * its own (the time and the random source are arguments), so each rule is tested alone.
 */

/** The headers of an answer, as far as the policy reads them (a `Headers` fits). */
export interface HeaderReader {
  get(name: string): string | null;
}

/** Why an answer that arrived is worth another try; undefined: it is final (success or refusal). */
export const RetryableAnswer = {
  RateLimited: "rate-limited",
  ServerError: "server-error",
  UnreadablePage: "unreadable-page",
} as const;
export type RetryableAnswer = (typeof RetryableAnswer)[keyof typeof RetryableAnswer];

/**
 * 429 and 5xx are retried. So is a 200 page whose body is not JSON at all (cut off in transit);
 * complete JSON of the wrong shape is final, with its own message. `bodyIsJson` is asked only then.
 */
export function retryableAnswer(
  status: number,
  isPageRequest: boolean,
  bodyIsJson: () => boolean,
): RetryableAnswer | undefined {
  if (status === 429) return RetryableAnswer.RateLimited;
  if (status >= 500) return RetryableAnswer.ServerError;
  if (status === 200 && isPageRequest && !bodyIsJson()) return RetryableAnswer.UnreadablePage;
  return undefined;
}

export interface BackoffSettings {
  /** First backoff step; doubles per attempt. */
  readonly baseDelayMs: number;
  /** Longest backoff step, and the longest wait for a rate-limit reset. */
  readonly maxDelayMs: number;
}

/**
 * The wait before attempt `attempt + 1`: the server's `retryAfterMs` when it gave one, else
 * exponential backoff with full jitter, `[0, min(maxDelayMs, baseDelayMs * 2^(attempt-1)))`.
 */
export function backoffDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  settings: BackoffSettings,
  random: () => number,
): number {
  if (retryAfterMs !== undefined) return retryAfterMs;
  const cap = Math.min(settings.maxDelayMs, settings.baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(random() * cap);
}

/**
 * Retry-After (seconds or an HTTP date), else the rate-limit reset when a 429 says no requests remain.
 * RFC 9110: delay-seconds (digits only) or an HTTP-date. A negative, past or unreadable value says
 * nothing usable: undefined, and the exponential backoff applies instead of an immediate retry.
 */
export function retryAfterMs(headers: HeaderReader, status: number, now: number): number | undefined {
  const header = headers.get("retry-after")?.trim();
  if (header) {
    const seconds = /^\d{1,9}$/.test(header) ? Number(header) : Number.NaN;
    if (Number.isFinite(seconds)) return seconds * 1000;
    const date = /^[A-Za-z]{3}, /.test(header) ? Date.parse(header) : Number.NaN;
    if (!Number.isNaN(date) && date > now) return date - now;
  }
  const remaining = headers.get("x-ratelimit-remaining");
  const reset = Number(headers.get("x-ratelimit-reset") ?? Number.NaN);
  if (status === 429 && remaining === "0" && Number.isFinite(reset)) {
    return Math.max(0, reset * 1000 - now);
  }
  return undefined;
}

/** The `X-RateLimit-*` headers DocuSign sends with every answer; nothing unless limit and remaining read. */
export function rateLimitStatus(headers: HeaderReader): RateLimitStatus | undefined {
  const limit = Number(headers.get("x-ratelimit-limit") ?? Number.NaN);
  const remaining = Number(headers.get("x-ratelimit-remaining") ?? Number.NaN);
  if (!Number.isFinite(limit) || !Number.isFinite(remaining)) return undefined;
  const reset = Number(headers.get("x-ratelimit-reset") ?? Number.NaN);
  return { limit, remaining, ...(Number.isFinite(reset) ? { resetAtMs: reset * 1000 } : {}) };
}

export interface RetryInput {
  /** The attempt that just failed, the first is 1. */
  readonly attempt: number;
  readonly maxAttempts: number;
  /** Whether the failure is worth another try at all (429, 5xx, transport errors, a cut-off page). */
  readonly retryable: boolean;
  /** The failure is DocuSign's rate limit: at the deadline it stays itself, not a deadline stop. */
  readonly rateLimited: boolean;
  /** The wait the server asked for, from `retryAfterMs`. */
  readonly retryAfterMs: number | undefined;
  readonly now: number;
  /** Epoch ms by which the run must have stopped; undefined: no deadline. */
  readonly deadline: number | undefined;
}

/** What to do after a failed attempt. */
export type RetryDecision =
  | { readonly kind: "retry"; readonly delayMs: number }
  /** Final: the failure itself is the answer (not retryable, attempts spent, a wait past maxDelayMs). */
  | { readonly kind: "give-up" }
  /** Out of time, not out of attempts: a clean stop for the run; the next one resumes. */
  | { readonly kind: "deadline" };

export function decideRetry(
  input: RetryInput,
  settings: BackoffSettings,
  random: () => number,
): RetryDecision {
  if (!input.retryable) return { kind: "give-up" };
  const delayMs = backoffDelay(input.attempt, input.retryAfterMs, settings, random);
  if (input.attempt >= input.maxAttempts) return { kind: "give-up" };
  if (input.retryAfterMs !== undefined && input.retryAfterMs > settings.maxDelayMs)
    return { kind: "give-up" };
  if (input.deadline !== undefined && input.now + delayMs >= input.deadline) {
    return input.rateLimited ? { kind: "give-up" } : { kind: "deadline" };
  }
  return { kind: "retry", delayMs };
}

import { describe, expect, it } from "vitest";
import {
  backoffDelay,
  decideRetry,
  RetryableAnswer,
  rateLimitStatus,
  retryAfterMs,
  retryableAnswer,
} from "../../lambda/docusign/retry-policy";

const settings = { baseDelayMs: 1000, maxDelayMs: 60_000 };
const NOW = Date.parse("2026-01-01T00:00:00Z");

function headers(values: Record<string, string>): Headers {
  return new Headers(values);
}

describe("retry policy: which answers are retried", () => {
  it("retries 429 and every 5xx, and nothing else that arrived complete", () => {
    expect(retryableAnswer(429, true, () => true)).toBe(RetryableAnswer.RateLimited);
    for (const status of [500, 502, 503, 504, 599]) {
      expect(retryableAnswer(status, true, () => true)).toBe(RetryableAnswer.ServerError);
    }
    for (const status of [200, 201, 204, 400, 401, 403, 404, 407, 409, 422]) {
      expect(retryableAnswer(status, true, () => true)).toBeUndefined();
    }
  });

  it("retries a 200 page whose body is not JSON, but not a token answer or JSON of the wrong shape", () => {
    expect(retryableAnswer(200, true, () => false)).toBe(RetryableAnswer.UnreadablePage);
    expect(retryableAnswer(200, false, () => false)).toBeUndefined();
    expect(retryableAnswer(200, true, () => true)).toBeUndefined();
  });

  it("gives up at once on a failure that is not retryable", () => {
    const decision = decideRetry(
      {
        attempt: 1,
        maxAttempts: 6,
        retryable: false,
        rateLimited: false,
        retryAfterMs: undefined,
        now: NOW,
        deadline: undefined,
      },
      settings,
      () => 0.5,
    );
    expect(decision).toEqual({ kind: "give-up" });
  });
});

describe("retry policy: how long to wait", () => {
  it("keeps attempt n's delay within full-jitter bounds [0, min(max, base * 2^(n-1)))", () => {
    for (let attempt = 1; attempt <= 10; attempt++) {
      const cap = Math.min(60_000, 1000 * 2 ** (attempt - 1));
      expect(backoffDelay(attempt, undefined, settings, () => 0)).toBe(0);
      expect(backoffDelay(attempt, undefined, settings, () => 0.999_999)).toBe(Math.floor(0.999_999 * cap));
      expect(backoffDelay(attempt, undefined, settings, () => 0.999_999)).toBeLessThan(cap);
    }
    expect(backoffDelay(3, undefined, settings, () => 0.5)).toBe(2000);
  });

  it("waits what the server asked for instead of the backoff", () => {
    expect(backoffDelay(1, 7000, settings, () => 0.5)).toBe(7000);
  });

  it("reads Retry-After in seconds", () => {
    expect(retryAfterMs(headers({ "retry-after": "7" }), 503, NOW)).toBe(7000);
    expect(retryAfterMs(headers({ "retry-after": " 0 " }), 429, NOW)).toBe(0);
  });

  it("reads Retry-After as an HTTP date, ignoring a past one", () => {
    const future = new Date(NOW + 30_000).toUTCString();
    expect(retryAfterMs(headers({ "retry-after": future }), 429, NOW)).toBe(30_000);
    const past = new Date(NOW - 30_000).toUTCString();
    expect(retryAfterMs(headers({ "retry-after": past }), 503, NOW)).toBeUndefined();
  });

  it("ignores a negative, fractional or unreadable Retry-After (the backoff applies)", () => {
    for (const value of ["-5", "1.5", "soon", "Tomorrow"]) {
      expect(retryAfterMs(headers({ "retry-after": value }), 503, NOW)).toBeUndefined();
    }
  });

  it("gives up rather than waiting a huge Retry-After past maxDelayMs", () => {
    const huge = retryAfterMs(headers({ "retry-after": "86400" }), 429, NOW);
    expect(huge).toBe(86_400_000);
    const decision = decideRetry(
      {
        attempt: 1,
        maxAttempts: 6,
        retryable: true,
        rateLimited: true,
        retryAfterMs: huge,
        now: NOW,
        deadline: undefined,
      },
      settings,
      () => 0.5,
    );
    expect(decision).toEqual({ kind: "give-up" });
  });

  it("waits for X-RateLimit-Reset on a 429 that says no requests remain", () => {
    const reset = String((NOW + 20_000) / 1000);
    const spent = headers({ "x-ratelimit-remaining": "0", "x-ratelimit-reset": reset });
    expect(retryAfterMs(spent, 429, NOW)).toBe(20_000);
    expect(retryAfterMs(spent, 503, NOW)).toBeUndefined();
    const left = headers({ "x-ratelimit-remaining": "3", "x-ratelimit-reset": reset });
    expect(retryAfterMs(left, 429, NOW)).toBeUndefined();
  });
});

describe("retry policy: when to stop", () => {
  const base = {
    attempt: 1,
    maxAttempts: 6,
    retryable: true,
    rateLimited: false,
    retryAfterMs: undefined,
    now: NOW,
  };

  it("retries until the attempts are spent", () => {
    expect(decideRetry({ ...base, attempt: 5, deadline: undefined }, settings, () => 0.5)).toEqual({
      kind: "retry",
      delayMs: 8000,
    });
    expect(decideRetry({ ...base, attempt: 6, deadline: undefined }, settings, () => 0.5)).toEqual({
      kind: "give-up",
    });
  });

  it("stops for the deadline when the wait would not end before it, a spent rate limit staying itself", () => {
    const deadline = NOW + 1000;
    expect(decideRetry({ ...base, retryAfterMs: 1000, deadline }, settings, () => 0.5)).toEqual({
      kind: "deadline",
    });
    expect(decideRetry({ ...base, retryAfterMs: 999, deadline }, settings, () => 0.5)).toEqual({
      kind: "retry",
      delayMs: 999,
    });
    expect(
      decideRetry({ ...base, rateLimited: true, retryAfterMs: 5000, deadline }, settings, () => 0.5),
    ).toEqual({ kind: "give-up" });
  });
});

describe("retry policy: rate-limit headers", () => {
  it("reports limit, remaining and the reset time in epoch ms", () => {
    expect(
      rateLimitStatus(
        headers({
          "x-ratelimit-limit": "1000",
          "x-ratelimit-remaining": "998",
          "x-ratelimit-reset": "1767225600",
        }),
      ),
    ).toEqual({ limit: 1000, remaining: 998, resetAtMs: 1_767_225_600_000 });
    expect(rateLimitStatus(headers({ "x-ratelimit-limit": "1000", "x-ratelimit-remaining": "998" }))).toEqual(
      {
        limit: 1000,
        remaining: 998,
      },
    );
  });

  it("reports nothing when limit or remaining is missing or not a number", () => {
    expect(rateLimitStatus(headers({}))).toBeUndefined();
    expect(rateLimitStatus(headers({ "x-ratelimit-limit": "1000" }))).toBeUndefined();
    expect(
      rateLimitStatus(headers({ "x-ratelimit-limit": "many", "x-ratelimit-remaining": "3" })),
    ).toBeUndefined();
  });
});

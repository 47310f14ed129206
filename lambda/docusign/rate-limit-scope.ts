import { createHash } from "node:crypto";

/**
 * Whose rate limit a stream spends. DocuSign counts requests per account (monitor-api.md, "Rate
 * limits"), and each integration key's requests on it: the streams of one integration key whose user
 * is the same (so the same account) on the same account server share one window, whatever their
 * organization or stream API. Streams that share it share the recorded reset (core RateLimitStore).
 */
export interface RateLimitIdentity {
  /** The OAuth base URL: its host tells demo accounts from production ones (and a simulator from both). */
  readonly oauthUrl: string;
  readonly integrationKey: string;
  readonly userId: string;
}

/** The scope's id: 32 hex digits of a SHA-256, safe as a file name and a DynamoDB key. */
export function rateLimitScope(identity: RateLimitIdentity): string {
  const text = [hostOf(identity.oauthUrl), identity.integrationKey, identity.userId]
    .map((part) => part.toLowerCase())
    .join("\n");
  return createHash("sha256").update(text).digest("hex").slice(0, 32);
}

/**
 * The scope's item in the state table: `rate-limit#<scope>`, which no stream id can be (ids are letters,
 * digits, ".", "_" and "-"), so it never meets a stream's state. The function's role is granted it.
 */
export function rateLimitItemKey(scope: string): string {
  return `rate-limit#${scope}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

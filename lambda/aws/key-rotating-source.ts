import type { KeyObject } from "node:crypto";
import type { EventPage, EventSource, FetchPageRequest } from "../core/ports";
import { DocuSignError, ErrorCode } from "../errors";
import type { KeySource } from "./secret-key-source";

export interface KeyRotatingSourceOptions {
  readonly keys: KeySource;
  /** The key the run started with (read through the warm cache). */
  readonly key: KeyObject;
  /** The DocuSign source signing with a given key (a warm client is reused for the same key). */
  readonly sourceFor: (key: KeyObject) => EventSource;
  /** Bounds the secret read. */
  readonly signal?: AbortSignal;
  /** Told when a new key from the secret replaced the cached one. */
  readonly onRotated?: () => void;
}

/**
 * An `EventSource` that survives a key rotation: when DocuSign's token endpoint refuses the JWT
 * assertion (`invalid_grant` is an HTTP 400 from `POST /oauth/token`), the secret is read again once,
 * bypassing the warm cache, and if it now holds another key the request is retried with it. Without
 * this a warm container signs with the old key until the cache expires, failing every run meanwhile.
 * An unchanged key means the refusal is not a rotation: the original error stands.
 */
export function keyRotatingSource(options: KeyRotatingSourceOptions): EventSource {
  let key = options.key;
  let reread = false;
  return {
    async fetchPage(request: FetchPageRequest): Promise<EventPage> {
      try {
        return await options.sourceFor(key).fetchPage(request);
      } catch (error) {
        if (reread || !isRefusedAssertion(error)) throw error;
        reread = true;
        const fresh = await options.keys.privateKey(options.signal, { fresh: true });
        if (fresh === key) throw error;
        key = fresh;
        options.onRotated?.();
        return options.sourceFor(key).fetchPage(request);
      }
    },
  };
}

/** DocuSign refused the assertion itself (400 from the token endpoint), as it does for a replaced key. */
export function isRefusedAssertion(error: unknown): boolean {
  return (
    error instanceof DocuSignError &&
    error.code === ErrorCode.AuthFailed &&
    error.status === 400 &&
    error.request.startsWith("POST ") &&
    error.request.endsWith("/oauth/token")
  );
}

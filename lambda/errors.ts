/**
 * Every error monitor-lake raises on purpose. Each says what failed, why, and what to do about it;
 * callers branch on `code` (a literal union) or `instanceof`, never on the message.
 */

export const ErrorCode = {
  ConfigInvalid: "CONFIG_INVALID",
  ConsentRequired: "CONSENT_REQUIRED",
  AuthFailed: "AUTH_FAILED",
  Forbidden: "FORBIDDEN",
  NotFound: "NOT_FOUND",
  BadRequest: "BAD_REQUEST",
  RateLimited: "RATE_LIMITED",
  ServerError: "SERVER_ERROR",
  NetworkError: "NETWORK_ERROR",
  Timeout: "TIMEOUT",
  BadResponse: "BAD_RESPONSE",
  DeadlineReached: "DEADLINE_REACHED",
  LeaseHeld: "LEASE_HELD",
  LeaseLost: "LEASE_LOST",
  StorageFailed: "STORAGE_FAILED",
  StateInvalid: "STATE_INVALID",
  RecoveryRefused: "RECOVERY_REFUSED",
  CursorInvalid: "CURSOR_INVALID",
  KeyInvalid: "KEY_INVALID",
  KeyUnavailable: "KEY_UNAVAILABLE",
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Base class: a stable `code` plus a message written for the person who has to fix it. */
export class MonitorLakeError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.name = this.constructor.name;
  }
}

/** One or more settings are missing or invalid. `problems` lists each one with its fix. */
export class ConfigError extends MonitorLakeError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super(
      ErrorCode.ConfigInvalid,
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n${problems
        .map((p) => `  - ${p}`)
        .join("\n")}`,
    );
    this.problems = problems;
  }
}

/** Details DocuSign errors carry so that callers can decide whether to retry and support can trace them. */
export interface DocuSignErrorDetails {
  /** What was requested, e.g. `GET https://lens-d.docusign.net/api/v2.0/datasets/monitor/stream`. */
  readonly request: string;
  /** HTTP status, absent for network errors and timeouts. */
  readonly status?: number;
  /** Whether repeating the same request later may succeed. */
  readonly retryable: boolean;
  /** How long DocuSign asked us to wait (Retry-After or X-RateLimit-Reset), if it said. */
  readonly retryAfterMs?: number;
  /** DocuSign's `X-DocuSign-TraceToken`: quote it to DocuSign support. */
  readonly traceToken?: string;
}

/** A request to DocuSign (OAuth or Monitor) failed. */
export class DocuSignError extends MonitorLakeError {
  readonly request: string;
  readonly status: number | undefined;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly traceToken: string | undefined;

  constructor(code: ErrorCode, message: string, details: DocuSignErrorDetails, options?: ErrorOptions) {
    super(code, message, options);
    this.request = details.request;
    this.status = details.status;
    this.retryable = details.retryable;
    this.retryAfterMs = details.retryAfterMs;
    this.traceToken = details.traceToken;
  }
}

/** The impersonated user has not granted consent to the integration key; `consentUrl` fixes it. */
export class ConsentRequiredError extends DocuSignError {
  readonly consentUrl: string;

  constructor(message: string, details: DocuSignErrorDetails & { readonly consentUrl: string }) {
    super(ErrorCode.ConsentRequired, message, details);
    this.consentUrl = details.consentUrl;
  }
}

/** The run's deadline arrived before an operation could finish; progress up to here is kept. */
export class DeadlineError extends MonitorLakeError {
  constructor(what: string, options?: ErrorOptions) {
    super(
      ErrorCode.DeadlineReached,
      `${what} stopped: the run's deadline was reached. Progress so far is kept; the next run resumes.`,
      options,
    );
  }
}

/** Another live run holds the stream's lease. Not a failure: the other run is doing the work. */
export class LeaseHeldError extends MonitorLakeError {
  readonly stream: string;
  readonly holder: string | undefined;
  readonly expiresAt: number | undefined;

  constructor(stream: string, holder: string | undefined, expiresAt: number | undefined) {
    const until = expiresAt === undefined || !Number.isFinite(expiresAt) ? undefined : new Date(expiresAt);
    super(
      ErrorCode.LeaseHeld,
      `Stream "${stream}" is being ingested by another run (${holder ?? "unknown owner"}` +
        `${until === undefined ? "" : `, lease until ${until.toISOString()}`}); this run did nothing. ` +
        "If that run is still working, let it finish. If it stopped without releasing the lease (killed, crashed), " +
        `${until === undefined ? "the lease expires" : `the lease expires at ${until.toISOString()}`} and the next run ` +
        "after that takes over from the last committed cursor; nothing is lost.",
    );
    this.stream = stream;
    this.holder = holder;
    this.expiresAt = expiresAt;
  }
}

/** This run no longer holds the lease or the state changed under it: it stopped without writing further. */
export class LeaseLostError extends MonitorLakeError {
  readonly stream: string;

  constructor(stream: string, why: string, options?: ErrorOptions) {
    super(
      ErrorCode.LeaseLost,
      `Stream "${stream}": cursor not committed because ${why}. Another run took over; the objects this run wrote ` +
        "for its uncommitted chunk are recorded in the state, and the next runs delete them and store those events " +
        "again: nothing is lost or stored twice.",
      options,
    );
    this.stream = stream;
  }
}

/** Writing objects or state failed. The cursor did not move past anything not stored. */
export class StorageError extends MonitorLakeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StorageFailed, message, options);
  }
}

/** The stored state of a stream (state file or DynamoDB item) is corrupt; nothing was ingested. */
export class StateInvalidError extends MonitorLakeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.StateInvalid, message, options);
  }
}

/** `recover` would replace a valid state, or found nothing it can resume from: nothing was changed. */
export class RecoveryRefusedError extends MonitorLakeError {
  constructor(message: string, options?: ErrorOptions) {
    super(ErrorCode.RecoveryRefused, message, options);
  }
}

/**
 * DocuSign returned a cursor the run cannot follow: empty, too large to store, or one already sent in
 * this run (a cycle). What came before it is committed; the cursor never moves to it.
 */
export class CursorError extends MonitorLakeError {
  readonly stream: string;

  constructor(stream: string, message: string) {
    super(ErrorCode.CursorInvalid, message);
    this.stream = stream;
  }
}

/** The private key could not be read or used. */
export class PrivateKeyError extends MonitorLakeError {
  constructor(
    code: typeof ErrorCode.KeyInvalid | typeof ErrorCode.KeyUnavailable,
    message: string,
    options?: ErrorOptions,
  ) {
    super(code, message, options);
  }
}

/** The message of any thrown value, for places that must report an unknown error. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

import type { Clock, FetchPageRequest } from "../core/ports";
import { DeadlineError, DocuSignError, ErrorCode, MonitorLakeError } from "../errors";
import { BodyTooLargeError, readCappedText } from "./capped-body";
import type { DocuSignClientEvent } from "./client-events";
import {
  bodyTooLargeError,
  finalFailure,
  networkError,
  proxyAuthenticationError,
  quoteServer,
  RequestKind,
  rateLimitedError,
  serverError,
  timeoutError,
  undecodableBodyError,
  unreadablePageError,
} from "./error-messages";
import { refuseRedirect } from "./http-guards";
import { decideRetry, GiveUpReason, RetryableAnswer, retryAfterMs, retryableAnswer } from "./retry-policy";
import { parseStreamPage, type StreamPage } from "./stream-page";

/**
 * One HTTP request to DocuSign, tried until the retry policy says stop: each attempt has its own
 * timeout (never past the run's deadline), never follows a redirect, reads at most a capped body
 * (capped-body.ts),
 * and turns transport failures into DocuSignErrors whose quoted text is sanitized and redacted.
 */

/** An answer that arrived, its body read in full (under the cap). */
export interface Exchange {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: string;
  /** The body parsed as JSON on first use, undefined when it is not JSON. A page is not read through this. */
  readonly json: unknown;
  /** The body read as a stream page on first use (one pass, each event parsed once), undefined if it is not one. */
  readonly page: StreamPage | undefined;
}

export interface ExchangeSettings {
  readonly fetch: typeof fetch;
  readonly clock: Clock;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random: () => number;
  readonly maxAttempts: number;
  readonly requestTimeoutMs: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly maxResponseBytes: number;
  /** The access token in use, so that no message quotes it. */
  readonly currentToken: () => string | undefined;
  readonly emit: (event: DocuSignClientEvent) => void;
}

/** Sends one attempt of the request with the signal it must honour. */
export type Send = (signal: AbortSignal) => Promise<Response>;

/** What is asked: `label` names it in messages ("GET https://host/path"), `kind` picks the hints. */
export interface ExchangeRequest {
  readonly label: string;
  readonly kind: RequestKind;
}

/**
 * Sends a request until it gets an answer that is not worth retrying (retry-policy.ts). Attempts
 * running out is a failure whose message says so; the deadline running out is a DeadlineError (the
 * run stops cleanly and the next resumes).
 */
export async function exchange(
  what: ExchangeRequest,
  request: FetchPageRequest,
  send: Send,
  settings: ExchangeSettings,
): Promise<Exchange> {
  const { label } = what;
  for (let attempt = 1; ; attempt++) {
    let failure: DocuSignError | undefined;
    try {
      const answer = await attemptOnce(what, request, send, settings);
      failure = retryableFailure(what, answer, settings);
      if (failure === undefined) return answer;
    } catch (error) {
      if (error instanceof DocuSignError) failure = error;
      else throw error;
    }
    if (failure.retryable && failure.status === 429) settings.emit({ type: "throttled", request: label });
    const decision = decideRetry(
      {
        attempt,
        maxAttempts: settings.maxAttempts,
        retryable: failure.retryable,
        rateLimited: failure.code === ErrorCode.RateLimited,
        retryAfterMs: failure.retryAfterMs,
        now: settings.clock.now(),
        deadline: request.deadline,
      },
      settings,
      settings.random,
    );
    if (decision.kind === "give-up") throw givenUp(failure, decision.reason, attempt, settings);
    if (decision.kind === "deadline") {
      throw new DeadlineError(`${label} (retry of ${failure.status ?? failure.code})`, { cause: failure });
    }
    const reason = `${failure.status === undefined ? failure.code : `HTTP ${failure.status}`}${
      failure.traceToken === undefined ? "" : ` (X-DocuSign-TraceToken: ${failure.traceToken})`
    }`;
    settings.emit({ type: "retry", request: label, reason, delayMs: decision.delayMs });
    await settings.sleep(decision.delayMs, request.signal);
    if (request.signal?.aborted) throw new DeadlineError(label, { cause: failure });
  }
}

/** The failure as thrown when the policy stops: a retryable one says why it was not retried again. */
function givenUp(
  failure: DocuSignError,
  reason: GiveUpReason,
  attempts: number,
  settings: ExchangeSettings,
): DocuSignError {
  switch (reason) {
    case GiveUpReason.AttemptsSpent:
      return finalFailure(failure, `Gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}.`);
    case GiveUpReason.WaitTooLong:
      return finalFailure(
        failure,
        `DocuSign asked to wait ${Math.round((failure.retryAfterMs ?? 0) / 1000)} s, longer than the ` +
          `${Math.round(settings.maxDelayMs / 1000)} s a run waits: not retried.`,
      );
    default:
      return failure;
  }
}

/** For answers worth retrying, the error to throw if retries run out; undefined otherwise. */
function retryableFailure(
  what: ExchangeRequest,
  answer: Exchange,
  settings: ExchangeSettings,
): DocuSignError | undefined {
  const why = retryableAnswer(
    answer.status,
    what.kind === RequestKind.Page,
    () => answer.page !== undefined || answer.json !== undefined,
  );
  if (why === undefined) return undefined;
  const token = settings.currentToken();
  if (why === RetryableAnswer.UnreadablePage) return unreadablePageError(what.label, answer, token);
  const wait = retryAfterMs(answer.headers, answer.status, settings.clock.now());
  return why === RetryableAnswer.RateLimited
    ? rateLimitedError(what.label, answer, wait, token)
    : serverError(what.label, answer, wait, token);
}

/** One attempt with its timeout; transport failures become DocuSignErrors. */
async function attemptOnce(
  what: ExchangeRequest,
  request: FetchPageRequest,
  send: Send,
  settings: ExchangeSettings,
): Promise<Exchange> {
  const { label } = what;
  const now = settings.clock.now();
  const timeoutMs = settings.requestTimeoutMs;
  const untilDeadline = request.deadline === undefined ? Number.POSITIVE_INFINITY : request.deadline - now;
  if (untilDeadline <= 0 || request.signal?.aborted) throw new DeadlineError(label);
  const limitedByDeadline = untilDeadline < timeoutMs;
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(Math.min(timeoutMs, untilDeadline))));
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  try {
    const response = await send(signal);
    refuseRedirect(label, response, settings.currentToken());
    const body = await readBody(what, response, settings);
    return lazyExchange(response, body);
  } catch (error) {
    // Our own verdicts (a redirect, a body over the cap, a key that cannot sign) are final.
    if (error instanceof MonitorLakeError) throw error;
    if (request.signal?.aborted || (timeout.aborted && limitedByDeadline)) {
      throw new DeadlineError(label, { cause: error });
    }
    if (timeout.aborted) throw timeoutError(label, timeoutMs, error);
    if (isProxyAuthenticationFailure(error)) throw proxyAuthenticationError(label, error);
    throw networkError(label, transportReason(error, settings), error);
  }
}

/** Transport messages can quote header values or the URL: controls stripped, any token redacted. */
function transportReason(error: unknown, settings: ExchangeSettings): string {
  const text =
    error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "";
  return quoteServer(text, 200, settings.currentToken());
}

/**
 * fetch's answer to HTTP 407: `TypeError: fetch failed` whose cause is an Error without a message
 * (undici's `makeNetworkError()` for a 407 with no proxy window, Node 20 and 24). With redirects not
 * followed, that is the only reasonless network error fetch raises.
 */
function isProxyAuthenticationFailure(error: unknown): boolean {
  return (
    error instanceof TypeError &&
    error.cause instanceof Error &&
    error.cause.message === "" &&
    !("code" in error.cause)
  );
}

/** The body, decoded, up to the cap. */
async function readBody(
  what: ExchangeRequest,
  response: Response,
  settings: ExchangeSettings,
): Promise<string> {
  const maxBytes = settings.maxResponseBytes;
  try {
    return await readCappedText(response, maxBytes);
  } catch (error) {
    const token = settings.currentToken();
    if (error instanceof BodyTooLargeError) {
      const sizes = { maxBytes, bytesRead: error.bytesRead };
      throw bodyTooLargeError(what.label, what.kind, response, sizes, token, error);
    }
    const zlib = error instanceof Error && error.cause instanceof Error && "code" in error.cause;
    if (zlib && String((error.cause as { code: unknown }).code).startsWith("Z_")) {
      const why = quoteServer((error.cause as Error).message, 100, token);
      throw undecodableBodyError(what.label, response, why, token, error);
    }
    throw error;
  }
}

/**
 * The exchange with `json` and `page` computed on first use, once: a stream page is read by
 * `parseStreamPage` alone, without a `JSON.parse` of the whole body beside it.
 */
function lazyExchange(response: Response, body: string): Exchange {
  let json: { value: unknown } | undefined;
  let page: { value: StreamPage | undefined } | undefined;
  return {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
    body,
    get json() {
      json ??= { value: parseJson(body) };
      return json.value;
    },
    get page() {
      page ??= { value: parseStreamPage(body) };
      return page.value;
    },
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

import type { Clock, FetchPageRequest } from "../core/ports";
import { DeadlineError, DocuSignError, ErrorCode, MonitorLakeError } from "../errors";
import type { DocuSignClientEvent } from "./client-events";
import {
  bodyTooLargeError,
  networkError,
  rateLimitedError,
  serverError,
  timeoutError,
  unreadablePageError,
} from "./error-messages";
import { redactCredentials, refuseRedirect } from "./http-guards";
import { decideRetry, RetryableAnswer, retryAfterMs, retryableAnswer } from "./retry-policy";
import { parseStreamPage, type StreamPage } from "./stream-page";
import { quoteUntrusted } from "./untrusted-text";

/**
 * One HTTP request to DocuSign, tried until the retry policy says stop: each attempt has its own
 * timeout (never past the run's deadline), never follows a redirect, reads at most a capped body,
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

/**
 * Sends a request until it gets an answer that is not worth retrying (retry-policy.ts). Attempts
 * running out is a failure; the deadline running out is a DeadlineError (the run stops cleanly and
 * the next resumes).
 */
export async function exchange(
  label: string,
  request: FetchPageRequest,
  send: Send,
  settings: ExchangeSettings,
): Promise<Exchange> {
  for (let attempt = 1; ; attempt++) {
    let failure: DocuSignError | undefined;
    try {
      const answer = await attemptOnce(label, request, send, settings);
      failure = retryableFailure(label, answer, settings);
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
    if (decision.kind === "give-up") throw failure;
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

/** For answers worth retrying, the error to throw if retries run out; undefined otherwise. */
function retryableFailure(
  label: string,
  answer: Exchange,
  settings: ExchangeSettings,
): DocuSignError | undefined {
  const why = retryableAnswer(
    answer.status,
    label.startsWith("GET"),
    () => answer.page !== undefined || answer.json !== undefined,
  );
  if (why === undefined) return undefined;
  if (why === RetryableAnswer.UnreadablePage) return unreadablePageError(label, answer);
  const wait = retryAfterMs(answer.headers, answer.status, settings.clock.now());
  return why === RetryableAnswer.RateLimited
    ? rateLimitedError(label, answer, wait)
    : serverError(label, answer, wait, settings.currentToken());
}

/** One attempt with its timeout; transport failures become retryable DocuSignErrors. */
async function attemptOnce(
  label: string,
  request: FetchPageRequest,
  send: Send,
  settings: ExchangeSettings,
): Promise<Exchange> {
  const now = settings.clock.now();
  const timeoutMs = settings.requestTimeoutMs;
  const untilDeadline = request.deadline === undefined ? Number.POSITIVE_INFINITY : request.deadline - now;
  if (untilDeadline <= 0 || request.signal?.aborted) throw new DeadlineError(label);
  const limitedByDeadline = untilDeadline < timeoutMs;
  const timeout = AbortSignal.timeout(Math.max(1, Math.floor(Math.min(timeoutMs, untilDeadline))));
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  try {
    const response = await send(signal);
    refuseRedirect(label, response);
    const body = await readBody(label, response, settings.maxResponseBytes);
    return lazyExchange(response, body);
  } catch (error) {
    // Our own verdicts (a redirect, a body over the cap, a key that cannot sign) are final.
    if (error instanceof MonitorLakeError) throw error;
    if (request.signal?.aborted || (timeout.aborted && limitedByDeadline)) {
      throw new DeadlineError(label, { cause: error });
    }
    if (timeout.aborted) throw timeoutError(label, timeoutMs, error);
    // Transport messages can quote header values or the URL: strip controls and any token.
    const why = quoteUntrusted(
      redactCredentials(
        error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "",
        settings.currentToken(),
      ),
    );
    throw networkError(label, why, error);
  }
}

/** The body, decoded, up to the cap. */
async function readBody(label: string, response: Response, maxBytes: number): Promise<string> {
  try {
    return await readCappedText(response, maxBytes);
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    throw bodyTooLargeError(label, response, maxBytes, error.bytesRead, error);
  }
}

/** The body was longer than the cap; `bytesRead` is how much was read before stopping. */
class BodyTooLargeError extends Error {
  readonly bytesRead: number;

  constructor(bytesRead: number, cap: number) {
    super(`response body over ${cap} bytes`);
    this.name = this.constructor.name;
    this.bytesRead = bytesRead;
  }
}

/**
 * The decoded body as UTF-8 text, or a BodyTooLargeError once more than `maxBytes` arrive. `fetch`
 * inflates gzip and deflate on the fly, so a 300 KB gzip answer can become 300 MB of text; reading
 * stops at the cap and the rest is never inflated.
 */
async function readCappedText(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get("content-length") ?? Number.NaN);
  const encoded = response.headers.get("content-encoding");
  // Without content coding the declared length is the decoded length: refuse before reading.
  if ((encoded === null || encoded === "identity") && declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new BodyTooLargeError(0, maxBytes);
  }
  if (response.body === null) return "";
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new BodyTooLargeError(total, maxBytes);
    }
    parts.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(parts, total));
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

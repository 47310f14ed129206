import type { KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import type { Clock, EventPage, EventSource, FetchPageRequest, RateLimitStatus } from "../core/ports";
import {
  ConfigError,
  ConsentRequiredError,
  DeadlineError,
  DocuSignError,
  type DocuSignErrorDetails,
  ErrorCode,
  MonitorLakeError,
  PrivateKeyError,
} from "../errors";
import { BodyTooLargeError, readCappedText } from "./capped-body";
import { consentUrl, DEFAULT_MAX_RESPONSE_BYTES, streamPath, trimSlash } from "./docusign-endpoints";
import { hasCredentials, isBearerToken, redactCredentials, refuseRedirect } from "./http-guards";
import { parseStreamPage, type StreamPage } from "./stream-page";
import { quoteUntrusted } from "./untrusted-text";

/** Things worth counting: the Lambda turns them into metrics, the CLI into a line of output. */
export type DocuSignClientEvent =
  | { readonly type: "retry"; readonly request: string; readonly reason: string; readonly delayMs: number }
  | { readonly type: "throttled"; readonly request: string }
  | { readonly type: "auth-failure"; readonly request: string; readonly reason: string }
  | { readonly type: "token"; readonly expiresInSeconds: number };

export interface DocuSignClientOptions {
  /** OAuth base URL, e.g. `https://account-d.docusign.com`. The assertion's `aud` is its host (and port). */
  readonly oauthUrl: string;
  /** Monitor base URL, e.g. `https://lens-d.docusign.net` or `https://api-d.docusign.com`. */
  readonly monitorUrl: string;
  /** Selects the organization stream (`/v1/organizations/{id}/stream`); absent: the legacy lens stream. */
  readonly organizationId?: string;
  readonly integrationKey: string;
  /** GUID of the impersonated user (an Organization Administrator or Security Reports Administrator). */
  readonly userId: string;
  readonly privateKey: KeyObject;
  /** Page size asked for; DocuSign may return more or fewer. @default 2000 */
  readonly limit?: number;
  /** Shown in the consent URL of `consent_required` errors. */
  readonly redirectUri: string;
  readonly clock: Clock;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default a timer that stops early when the signal aborts */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** Attempts per request, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** One request's time limit. @default 60 000 */
  readonly requestTimeoutMs?: number;
  /** First backoff step; doubles per attempt, with full jitter. @default 1 000 */
  readonly baseDelayMs?: number;
  /** Longest backoff step, and the longest wait for a rate-limit reset. @default 60 000 */
  readonly maxDelayMs?: number;
  /**
   * Largest response body read, after gzip/deflate decoding; a longer one fails with a clear error
   * instead of exhausting memory. @default DEFAULT_MAX_RESPONSE_BYTES (32 MiB)
   */
  readonly maxResponseBytes?: number;
  readonly onEvent?: (event: DocuSignClientEvent) => void;
}

interface CachedToken {
  readonly value: string;
  /** Reuse until this epoch ms, shortly before DocuSign's expiry. */
  readonly refreshAt: number;
}

interface Exchange {
  readonly status: number;
  readonly statusText: string;
  readonly headers: Headers;
  readonly body: string;
  /** The body parsed as JSON on first use, undefined when it is not JSON. A page is not read through this. */
  readonly json: unknown;
  /** The body read as a stream page on first use (one pass, each event parsed once), undefined if it is not one. */
  readonly page: StreamPage | undefined;
}

const JWT_LIFETIME_SECONDS = 3600;
const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
const SCOPE = "signature impersonation";

/** The DocuSign Monitor stream as an `EventSource`: JWT grant, token reuse, retries, both API generations. */
export class DocuSignClient implements EventSource {
  private readonly options: DocuSignClientOptions;
  private readonly fetchFn: typeof fetch;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private token: CachedToken | undefined;

  constructor(options: DocuSignClientOptions) {
    // fetch refuses such URLs with an error that quotes them; refuse first, without echoing them.
    const withCredentials = [options.oauthUrl, options.monitorUrl].filter(hasCredentials);
    if (withCredentials.length > 0) {
      throw new ConfigError([
        "a DocuSign URL contains a user name or password (user:password@host): remove it. DocuSign " +
          "authenticates with the JWT grant; credentials in a URL would be sent to the host and printed.",
      ]);
    }
    this.options = options;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? abortableSleep;
    this.random = options.random ?? Math.random;
  }

  async fetchPage(request: FetchPageRequest): Promise<EventPage> {
    const url = new URL(trimSlash(this.options.monitorUrl) + streamPath(this.options.organizationId));
    url.searchParams.set("cursor", request.cursor);
    url.searchParams.set("limit", String(this.options.limit ?? 2000));
    const label = `GET ${url.origin}${url.pathname}`;
    let reauthenticated = false;
    for (;;) {
      const token = await this.accessToken(request);
      const exchange = await this.withRetries(label, request, (signal) =>
        this.fetchFn(url, {
          headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
          // Never follow: the request carries the access token and the answer is stored as events.
          redirect: "manual",
          signal,
        }),
      );
      if (exchange.status === 401 && !reauthenticated) {
        // The token expired early or was revoked: get a new one once, then retry the page.
        this.token = undefined;
        reauthenticated = true;
        this.emit({ type: "auth-failure", request: label, reason: "401 from the stream; re-authenticating" });
        continue;
      }
      if (exchange.status !== 200) throw this.streamError(label, exchange);
      return {
        ...parsePage(label, exchange, this.options.organizationId !== undefined),
        ...rateLimitOf(exchange),
      };
    }
  }

  /** A valid access token, from cache while it has more than a few minutes left. */
  private async accessToken(request: FetchPageRequest): Promise<string> {
    const now = this.options.clock.now();
    if (this.token && now < this.token.refreshAt) return this.token.value;
    const oauth = new URL(trimSlash(this.options.oauthUrl));
    const label = `POST ${oauth.origin}/oauth/token`;
    const exchange = await this.withRetries(label, request, async (signal) => {
      // A fresh assertion per attempt: its iat/exp must be current.
      const assertion = await this.assertion(oauth.host);
      return this.fetchFn(`${oauth.origin}/oauth/token`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
        body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
        // Never follow: a 307 would re-post the signed assertion (valid an hour) to another host.
        redirect: "manual",
        signal,
      });
    });
    if (exchange.status !== 200) throw this.tokenError(label, exchange);
    const body = exchange.json as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof body?.access_token !== "string" || body.access_token === "") {
      throw new DocuSignError(
        ErrorCode.BadResponse,
        `${label}: HTTP 200 without an access_token${traceSuffix(exchange)}. Check that DOCUSIGN_OAUTH_URL points at DocuSign's account server.`,
        { request: label, status: 200, retryable: false, ...traceOf(exchange) },
      );
    }
    if (!isBearerToken(body.access_token)) {
      // A token with CR/LF or spaces would break (or inject into) the Authorization header, and the
      // error fetch raises for it quotes the header. The token itself is never printed.
      throw new DocuSignError(
        ErrorCode.BadResponse,
        `${label}: HTTP 200 with an access_token that is not a bearer token (${body.access_token.length} characters, ` +
          `some outside RFC 6750's token68 set)${traceSuffix(exchange)}; it was not used. Check that ` +
          "DOCUSIGN_OAUTH_URL points at DocuSign's account server.",
        { request: label, status: 200, retryable: false, ...traceOf(exchange) },
      );
    }
    const expiresIn = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 3600;
    const lifetimeMs = expiresIn * 1000;
    const issued = this.options.clock.now();
    this.token = {
      value: body.access_token,
      refreshAt: issued + lifetimeMs - Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 10),
    };
    this.emit({ type: "token", expiresInSeconds: expiresIn });
    return this.token.value;
  }

  /** The signed JWT assertion; a key that cannot sign is a configuration error, never retried. */
  private async assertion(audience: string): Promise<string> {
    const iat = Math.floor(this.options.clock.now() / 1000);
    try {
      return await new SignJWT({ scope: SCOPE })
        .setProtectedHeader({ alg: "RS256", typ: "JWT" })
        .setIssuer(this.options.integrationKey)
        .setSubject(this.options.userId)
        .setAudience(audience)
        .setIssuedAt(iat)
        .setExpirationTime(iat + JWT_LIFETIME_SECONDS)
        .sign(this.options.privateKey);
    } catch (error) {
      throw new PrivateKeyError(
        ErrorCode.KeyInvalid,
        `The private key cannot sign DocuSign's RS256 JWT assertion (${describeSigningError(error)}). Use the ` +
          "2048-bit RSA key pair DocuSign generates for the integration key (Apps and Keys > RSA keypairs).",
        { cause: error },
      );
    }
  }

  /**
   * Sends a request until it gets an answer that is not worth retrying. 429, 5xx, network errors,
   * timeouts and unreadable bodies are retried with exponential backoff and full jitter, honouring
   * Retry-After and X-RateLimit-Reset, never waiting past the deadline. Attempts running out is a
   * failure; the deadline running out is a DeadlineError (the run stops cleanly and the next resumes).
   */
  private async withRetries(
    label: string,
    request: FetchPageRequest,
    send: (signal: AbortSignal) => Promise<Response>,
  ): Promise<Exchange> {
    const maxAttempts = this.options.maxAttempts ?? 6;
    for (let attempt = 1; ; attempt++) {
      let outcome: Exchange | DocuSignError;
      try {
        outcome = await this.attempt(label, request, send);
      } catch (error) {
        if (error instanceof DocuSignError) outcome = error;
        else throw error;
      }
      const failure = outcome instanceof DocuSignError ? outcome : this.retryableStatusError(label, outcome);
      if (failure === undefined) return outcome as Exchange;
      if (!failure.retryable) throw failure;
      if (failure.status === 429) this.emit({ type: "throttled", request: label });
      const delayMs = this.backoff(attempt, failure.retryAfterMs);
      const deadline = request.deadline;
      if (attempt >= maxAttempts) throw failure;
      if (failure.retryAfterMs !== undefined && failure.retryAfterMs > (this.options.maxDelayMs ?? 60_000)) {
        throw failure;
      }
      if (deadline !== undefined && this.options.clock.now() + delayMs >= deadline) {
        // Out of time, not out of attempts: a clean stop for the run (a spent rate limit stays itself).
        if (failure.code === ErrorCode.RateLimited) throw failure;
        throw new DeadlineError(`${label} (retry of ${failure.status ?? failure.code})`, { cause: failure });
      }
      const reason = `${failure.status === undefined ? failure.code : `HTTP ${failure.status}`}${
        failure.traceToken === undefined ? "" : ` (X-DocuSign-TraceToken: ${failure.traceToken})`
      }`;
      this.emit({ type: "retry", request: label, reason, delayMs });
      await this.sleep(delayMs, request.signal);
      if (request.signal?.aborted) throw new DeadlineError(label, { cause: failure });
    }
  }

  /** One request with its timeout; transport failures become retryable DocuSignErrors. */
  private async attempt(
    label: string,
    request: FetchPageRequest,
    send: (signal: AbortSignal) => Promise<Response>,
  ): Promise<Exchange> {
    const now = this.options.clock.now();
    const timeoutMs = this.options.requestTimeoutMs ?? 60_000;
    const untilDeadline = request.deadline === undefined ? Number.POSITIVE_INFINITY : request.deadline - now;
    if (untilDeadline <= 0 || request.signal?.aborted) throw new DeadlineError(label);
    const limitedByDeadline = untilDeadline < timeoutMs;
    const timeout = AbortSignal.timeout(Math.max(1, Math.floor(Math.min(timeoutMs, untilDeadline))));
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
    try {
      const response = await send(signal);
      refuseRedirect(label, response);
      const body = await this.readBody(label, response);
      return lazyExchange(response, body);
    } catch (error) {
      // Our own verdicts (a redirect, a body over the cap, a key that cannot sign) are final.
      if (error instanceof MonitorLakeError) throw error;
      if (request.signal?.aborted || (timeout.aborted && limitedByDeadline)) {
        throw new DeadlineError(label, { cause: error });
      }
      if (timeout.aborted) {
        throw new DocuSignError(
          ErrorCode.Timeout,
          `${label}: no complete answer within ${timeoutMs} ms. DocuSign may be slow; the request is retried.`,
          { request: label, retryable: true },
          { cause: error },
        );
      }
      // Transport messages can quote header values or the URL: strip controls and any token.
      const why = quoteUntrusted(
        redactCredentials(
          error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : "",
          this.token?.value,
        ),
      );
      throw new DocuSignError(
        ErrorCode.NetworkError,
        `${label}: network error (${why}). Check DNS, proxy and outbound HTTPS access to the host; the request is retried.`,
        { request: label, retryable: true },
        { cause: error },
      );
    }
  }

  /** The body, decoded, up to the configured cap. */
  private async readBody(label: string, response: Response): Promise<string> {
    const maxBytes = this.options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    try {
      return await readCappedText(response, maxBytes);
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      const trace = response.headers.get("x-docusign-tracetoken");
      throw new DocuSignError(
        ErrorCode.BadResponse,
        `${label}: HTTP ${response.status} with a body over the ${maxBytes}-byte cap (stopped reading after ` +
          `${error.bytesRead} decoded bytes)${trace ? ` (X-DocuSign-TraceToken: ${quoteUntrusted(trace, 100)})` : ""}. ` +
          "A page of 2000 events is normally a few MB. If DocuSign's events really are this large, lower " +
          "PAGE_LIMIT (--limit) or raise MAX_RESPONSE_BYTES; otherwise check DOCUSIGN_MONITOR_URL.",
        {
          request: label,
          status: response.status,
          retryable: false,
          ...(trace ? { traceToken: quoteUntrusted(trace, 100) } : {}),
        },
        { cause: error },
      );
    }
  }

  /** For statuses worth retrying, the error to throw if retries run out; undefined otherwise. */
  private retryableStatusError(label: string, exchange: Exchange): DocuSignError | undefined {
    const { status } = exchange;
    if (status === 429) {
      return new DocuSignError(
        ErrorCode.RateLimited,
        `${label}: HTTP 429, DocuSign's rate limit for the account is exhausted${traceSuffix(exchange)}. ` +
          "The run stops and the next scheduled run resumes; the limit is shared with the account's other integrations.",
        {
          request: label,
          status,
          retryable: true,
          ...retryAfterOf(exchange, this.options.clock.now()),
          ...traceOf(exchange),
        },
      );
    }
    if (status >= 500) {
      return new DocuSignError(
        ErrorCode.ServerError,
        `${label}: HTTP ${status} ${quoteUntrusted(exchange.statusText, 80)} from DocuSign${errorText(exchange, this.token?.value)}${traceSuffix(exchange)}. ` +
          "DocuSign had a server problem; retried with backoff. If it persists, check status.docusign.com and quote the trace token.",
        {
          request: label,
          status,
          retryable: true,
          ...retryAfterOf(exchange, this.options.clock.now()),
          ...traceOf(exchange),
        },
      );
    }
    // Only a body that is not JSON at all (cut off in transit) is worth another try; complete JSON of the
    // wrong shape fails at once in parsePage, with its own message.
    if (
      status === 200 &&
      label.startsWith("GET") &&
      exchange.page === undefined &&
      exchange.json === undefined
    ) {
      return new DocuSignError(
        ErrorCode.BadResponse,
        `${label}: HTTP 200 with a truncated or unreadable body (${exchange.body.length} bytes)${traceSuffix(exchange)}; retried.`,
        { request: label, status, retryable: true, ...traceOf(exchange) },
      );
    }
    return undefined;
  }

  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    if (retryAfterMs !== undefined) return retryAfterMs;
    const cap = Math.min(
      this.options.maxDelayMs ?? 60_000,
      (this.options.baseDelayMs ?? 1000) * 2 ** (attempt - 1),
    );
    return Math.floor(this.random() * cap);
  }

  private tokenError(label: string, exchange: Exchange): DocuSignError {
    const body = exchange.json as { error?: unknown } | undefined;
    const code = typeof body?.error === "string" ? body.error : "";
    const details: DocuSignErrorDetails = {
      request: label,
      status: exchange.status,
      retryable: false,
      ...traceOf(exchange),
    };
    const head = `${label}: HTTP ${exchange.status}${errorText(exchange, this.token?.value)}${traceSuffix(exchange)}.`;
    if (code === "consent_required") {
      const url = consentUrl(this.options.oauthUrl, this.options.integrationKey, this.options.redirectUri);
      return new ConsentRequiredError(
        `${head} The user ${this.options.userId} has not granted consent to integration key ` +
          `${this.options.integrationKey}. Open this URL once, signed in as that user, and accept:\n  ${url}\n` +
          "(The redirect_uri must be registered on the integration key; pass --redirect-uri / DOCUSIGN_REDIRECT_URI to use another.)",
        { ...details, consentUrl: url },
      );
    }
    if (code === "invalid_grant") {
      return new DocuSignError(
        ErrorCode.AuthFailed,
        `${head} DocuSign rejected the JWT assertion. Check that the private key belongs to integration key ` +
          `${this.options.integrationKey}, that user id ${this.options.userId} is the user's API user GUID, that the ` +
          "environment (demo or production) matches where the key was created, and that this machine's clock is correct.",
        details,
      );
    }
    return new DocuSignError(
      ErrorCode.AuthFailed,
      `${head} Could not get an access token. Check the integration key, user id and DOCUSIGN_OAUTH_URL.`,
      details,
    );
  }

  private streamError(label: string, exchange: Exchange): DocuSignError {
    const details: DocuSignErrorDetails = {
      request: label,
      status: exchange.status,
      retryable: false,
      ...traceOf(exchange),
    };
    const head = `${label}: HTTP ${exchange.status}${errorText(exchange, this.token?.value)}${traceSuffix(exchange)}.`;
    switch (exchange.status) {
      case 401:
        return new DocuSignError(
          ErrorCode.AuthFailed,
          `${head} The access token was refused even after re-authenticating. Check that the user still has ` +
            "an admin role in the organization and that the integration key is not revoked.",
          details,
        );
      case 403:
        return new DocuSignError(
          ErrorCode.Forbidden,
          `${head} Monitor refused access. The impersonated user must be an Organization Administrator or ` +
            "Security Reports Administrator of exactly one organization (an admin of several gets 403), and in " +
            "production the organization needs the DocuSign Monitor entitlement.",
          details,
        );
      case 404:
        return new DocuSignError(
          ErrorCode.NotFound,
          `${head} The stream endpoint does not exist. Check DOCUSIGN_MONITOR_URL and, for the organization ` +
            "stream, DOCUSIGN_ORGANIZATION_ID.",
          details,
        );
      default:
        return new DocuSignError(
          ErrorCode.BadRequest,
          `${head} DocuSign refused the request. If the cursor is the problem, check START_CURSOR (an ISO-8601 ` +
            "date-time such as 2024-01-01T00:00:00Z, or a cursor DocuSign returned).",
          details,
        );
    }
  }

  private emit(event: DocuSignClientEvent): void {
    this.options.onEvent?.(event);
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

function parsePage(label: string, exchange: Exchange, organizationStream: boolean): EventPage {
  const page = exchange.page;
  if (page === undefined) {
    throw new DocuSignError(
      ErrorCode.BadResponse,
      `${label}: the page has no ${organizationStream ? "resultData" : "data"} array or no endCursor${traceSuffix(exchange)}.`,
      { request: label, status: exchange.status, retryable: false, ...traceOf(exchange) },
    );
  }
  return page;
}

function rateLimitOf(exchange: Exchange): { rateLimit?: RateLimitStatus } {
  const limit = Number(exchange.headers.get("x-ratelimit-limit") ?? Number.NaN);
  const remaining = Number(exchange.headers.get("x-ratelimit-remaining") ?? Number.NaN);
  if (!Number.isFinite(limit) || !Number.isFinite(remaining)) return {};
  const reset = Number(exchange.headers.get("x-ratelimit-reset") ?? Number.NaN);
  return { rateLimit: { limit, remaining, ...(Number.isFinite(reset) ? { resetAtMs: reset * 1000 } : {}) } };
}

/** Retry-After (seconds or an HTTP date), else the rate-limit reset when no requests remain. */
function retryAfterOf(exchange: Exchange, now: number): { retryAfterMs?: number } {
  // RFC 9110: delay-seconds (digits only) or an HTTP-date. A negative, past or unreadable value says
  // nothing usable, so the exponential backoff applies instead of an immediate retry.
  const header = exchange.headers.get("retry-after")?.trim();
  if (header) {
    const seconds = /^\d{1,9}$/.test(header) ? Number(header) : Number.NaN;
    if (Number.isFinite(seconds)) return { retryAfterMs: seconds * 1000 };
    const date = /^[A-Za-z]{3}, /.test(header) ? Date.parse(header) : Number.NaN;
    if (!Number.isNaN(date) && date > now) return { retryAfterMs: date - now };
  }
  const remaining = exchange.headers.get("x-ratelimit-remaining");
  const reset = Number(exchange.headers.get("x-ratelimit-reset") ?? Number.NaN);
  if (exchange.status === 429 && remaining === "0" && Number.isFinite(reset)) {
    return { retryAfterMs: Math.max(0, reset * 1000 - now) };
  }
  return {};
}

function traceOf(exchange: Exchange): { traceToken?: string } {
  const token = exchange.headers.get("x-docusign-tracetoken");
  return token ? { traceToken: quoteUntrusted(token, 100) } : {};
}

function traceSuffix(exchange: Exchange): string {
  const token = exchange.headers.get("x-docusign-tracetoken");
  return token
    ? ` (X-DocuSign-TraceToken: ${quoteUntrusted(token, 100)})`
    : " (no X-DocuSign-TraceToken in the response)";
}

/** DocuSign's own words about the error: a JSON error field, or the text of an HTML page, shortened. */
function errorText(exchange: Exchange, accessToken: string | undefined): string {
  const json = exchange.json as Record<string, unknown> | undefined;
  let text = "";
  if (json && typeof json === "object") {
    const parts = [json.error, json.error_description, json.message, json.errorCode].filter(
      (v): v is string => typeof v === "string" && v !== "",
    );
    text = parts.join(": ");
  } else {
    text = exchange.body
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
      .replace(/<[^>]*>/g, " ")
      .replace(/\s+/g, " ")
      .trim();
  }
  // A server may echo what it was sent: the Authorization header or the assertion. Never repeat them.
  const quoted = quoteUntrusted(redactCredentials(text, accessToken));
  return quoted === "" ? "" : ` "${quoted}"`;
}

function describeSigningError(error: unknown): string {
  return quoteUntrusted(error instanceof Error ? error.message : String(error), 160);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

import { DocuSignError, type DocuSignErrorDetails, ErrorCode } from "../errors";
import { redactCredentials } from "./http-guards";
import type { HeaderReader } from "./retry-policy";
import { quoteUntrusted } from "./untrusted-text";

/**
 * How monitor-lake quotes an answer in its messages, and the messages for what went wrong on the
 * wire (rate limit, server errors, timeouts, network, bodies). Every message names the request, the
 * status, DocuSign's own words and trace token; refusal-messages.ts has what DocuSign refused.
 */

/** An answer as far as a message quotes it (an `Exchange` fits). */
export interface QuotedAnswer {
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeaderReader;
  readonly body: string;
  /** The body parsed as JSON, undefined when it is not JSON. */
  readonly json: unknown;
}

/** What kind of request an answer belongs to: the hints name the setting that points at its host. */
export const RequestKind = { Token: "token", Page: "page", UserInfo: "userinfo" } as const;
export type RequestKind = (typeof RequestKind)[keyof typeof RequestKind];

/**
 * Text the server chose (a header, a reason phrase), as quoted: controls stripped, and the access
 * token, `Bearer …` and JWT-shaped text (the assertion) redacted before it is shortened.
 */
export function quoteServer(text: string, max: number, accessToken?: string): string {
  return quoteUntrusted(redactCredentials(text, accessToken), max);
}

export function traceOf(
  answer: { readonly headers: HeaderReader },
  accessToken?: string,
): { traceToken?: string } {
  const token = answer.headers.get("x-docusign-tracetoken");
  return token ? { traceToken: quoteServer(token, 100, accessToken) } : {};
}

export function traceSuffix(answer: { readonly headers: HeaderReader }, accessToken?: string): string {
  const { traceToken } = traceOf(answer, accessToken);
  return traceToken !== undefined
    ? ` (X-DocuSign-TraceToken: ${traceToken})`
    : " (no X-DocuSign-TraceToken in the response)";
}

/** DocuSign's own words about the error: a JSON error field, or the text of an HTML page, shortened. */
export function errorText(answer: QuotedAnswer, accessToken: string | undefined): string {
  const json = answer.json as Record<string, unknown> | undefined;
  let text = "";
  if (json && typeof json === "object") {
    const parts = [json.error, json.error_description, json.message, json.errorCode].filter(
      (v): v is string => typeof v === "string" && v !== "",
    );
    text = parts.join(": ");
  } else {
    text = answer.body
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ")
      .replace(/<[^>]*>/g, " ")
      .replace(/\s+/g, " ")
      .trim();
  }
  // A server may echo what it was sent: the Authorization header or the assertion. Never repeat them.
  const quoted = quoteServer(text, 200, accessToken);
  return quoted === "" ? "" : ` "${quoted}"`;
}

export function details(
  label: string,
  answer: QuotedAnswer,
  retryable: boolean,
  accessToken?: string,
): DocuSignErrorDetails {
  return { request: label, status: answer.status, retryable, ...traceOf(answer, accessToken) };
}

/**
 * The failure as finally thrown once the retry policy stopped: its message ends with `why` (what
 * happened), never with the promise of a retry that will not come.
 */
export function finalFailure(failure: DocuSignError, why: string): DocuSignError {
  return new DocuSignError(
    failure.code,
    `${failure.message} ${why}`,
    {
      request: failure.request,
      status: failure.status,
      retryable: failure.retryable,
      ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
      ...(failure.traceToken === undefined ? {} : { traceToken: failure.traceToken }),
    },
    { cause: failure.cause },
  );
}

/** A 429: the account's rate limit is spent. */
export function rateLimitedError(
  label: string,
  answer: QuotedAnswer,
  retryAfterMs: number | undefined,
  accessToken: string | undefined,
): DocuSignError {
  return new DocuSignError(
    ErrorCode.RateLimited,
    `${label}: HTTP 429, DocuSign's rate limit for the account is exhausted${traceSuffix(answer, accessToken)}. ` +
      "The run stops and the next scheduled run resumes; the limit is shared with the account's other integrations.",
    { ...details(label, answer, true, accessToken), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
  );
}

/** A 5xx: DocuSign's side failed. */
export function serverError(
  label: string,
  answer: QuotedAnswer,
  retryAfterMs: number | undefined,
  accessToken: string | undefined,
): DocuSignError {
  return new DocuSignError(
    ErrorCode.ServerError,
    `${label}: HTTP ${answer.status} ${quoteServer(answer.statusText, 80, accessToken)} from DocuSign` +
      `${errorText(answer, accessToken)}${traceSuffix(answer, accessToken)}. ` +
      "DocuSign had a server problem. If it persists, check status.docusign.com and quote the trace token.",
    { ...details(label, answer, true, accessToken), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
  );
}

/** A 200 page whose body is not JSON (cut off in transit). */
export function unreadablePageError(
  label: string,
  answer: QuotedAnswer,
  accessToken?: string,
): DocuSignError {
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP 200 with a truncated or unreadable body (${answer.body.length} bytes)${traceSuffix(answer, accessToken)}.`,
    details(label, answer, true, accessToken),
  );
}

export function timeoutError(label: string, timeoutMs: number, cause: unknown): DocuSignError {
  return new DocuSignError(
    ErrorCode.Timeout,
    `${label}: no complete answer within ${timeoutMs} ms. DocuSign may be slow.`,
    { request: label, retryable: true },
    { cause },
  );
}

/** `why` is the transport's own message, already sanitized and redacted. */
export function networkError(label: string, why: string, cause: unknown): DocuSignError {
  return new DocuSignError(
    ErrorCode.NetworkError,
    `${label}: network error (${why || "no reason given"}). Check DNS, proxy and outbound HTTPS access to the host.`,
    { request: label, retryable: true },
    { cause },
  );
}

/**
 * fetch turns a 407 answer into a network error without a reason (the Fetch standard's rule when no
 * proxy window exists), so the status is read from that shape. Deterministic: not retried.
 */
export function proxyAuthenticationError(label: string, cause: unknown): DocuSignError {
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP 407 Proxy Authentication Required (fetch reports it as a network error without a reason). ` +
      "The host, or a proxy on the way to it, asks for proxy credentials, which monitor-lake never sends: allow " +
      "direct outbound HTTPS to DocuSign, or check DOCUSIGN_OAUTH_URL / DOCUSIGN_MONITOR_URL. Not retried.",
    { request: label, status: 407, retryable: false },
    { cause },
  );
}

/** The body's bytes are not what its Content-Encoding says (a gzip header on a plain body, or cut off). */
export function undecodableBodyError(
  label: string,
  response: { readonly status: number; readonly headers: HeaderReader },
  why: string,
  accessToken: string | undefined,
  cause: unknown,
): DocuSignError {
  const encoding = quoteServer(response.headers.get("content-encoding") ?? "", 40, accessToken);
  const trace = traceOf(response, accessToken);
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP ${response.status} with a body that could not be decoded as its Content-Encoding "${encoding}" says ` +
      `(${why || "no reason given"})${trace.traceToken ? ` (X-DocuSign-TraceToken: ${trace.traceToken})` : ""}. ` +
      "The server labelled the body with an encoding it does not have, or the body was cut off in transit.",
    { request: label, status: response.status, retryable: true, ...trace },
    { cause },
  );
}

export function bodyTooLargeError(
  label: string,
  kind: RequestKind,
  response: { readonly status: number; readonly headers: HeaderReader },
  sizes: { readonly maxBytes: number; readonly bytesRead: number },
  accessToken: string | undefined,
  cause: unknown,
): DocuSignError {
  const trace = traceOf(response, accessToken);
  const hint =
    kind === RequestKind.Page
      ? "A page of 2000 events is normally a few MB. If DocuSign's events really are this large, lower " +
        "PAGE_LIMIT (--limit) or raise MAX_RESPONSE_BYTES; otherwise check DOCUSIGN_MONITOR_URL."
      : `DocuSign's ${kind === RequestKind.Token ? "token" : "userinfo"} endpoint answers with a small JSON ` +
        "object: check that DOCUSIGN_OAUTH_URL (--oauth-url) points at DocuSign's account server.";
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP ${response.status} with a body over the ${sizes.maxBytes}-byte cap (stopped reading after ` +
      `${sizes.bytesRead} decoded bytes)${trace.traceToken ? ` (X-DocuSign-TraceToken: ${trace.traceToken})` : ""}. ${hint}`,
    { request: label, status: response.status, retryable: false, ...trace },
    { cause },
  );
}

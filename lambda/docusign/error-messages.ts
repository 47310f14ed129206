import {
  ConsentRequiredError,
  DocuSignError,
  type DocuSignErrorDetails,
  ErrorCode,
  PrivateKeyError,
} from "../errors";
import { consentUrl } from "./docusign-endpoints";
import { redactCredentials } from "./http-guards";
import type { HeaderReader } from "./retry-policy";
import { quoteUntrusted } from "./untrusted-text";

/**
 * What monitor-lake says when DocuSign (or whoever answers at the configured host) says no: each
 * message names the request, the status, DocuSign's own words and trace token, and the fix.
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

/** Who asked, for the messages that tell the user what to check. */
export interface GrantIdentity {
  readonly oauthUrl: string;
  readonly integrationKey: string;
  readonly userId: string;
  readonly redirectUri: string;
}

export function traceOf(answer: { readonly headers: HeaderReader }): { traceToken?: string } {
  const token = answer.headers.get("x-docusign-tracetoken");
  return token ? { traceToken: quoteUntrusted(token, 100) } : {};
}

export function traceSuffix(answer: { readonly headers: HeaderReader }): string {
  const token = answer.headers.get("x-docusign-tracetoken");
  return token
    ? ` (X-DocuSign-TraceToken: ${quoteUntrusted(token, 100)})`
    : " (no X-DocuSign-TraceToken in the response)";
}

/** DocuSign's own words about the error: a JSON error field, or the text of an HTML page, shortened. */
function errorText(answer: QuotedAnswer, accessToken: string | undefined): string {
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
  const quoted = quoteUntrusted(redactCredentials(text, accessToken));
  return quoted === "" ? "" : ` "${quoted}"`;
}

function details(label: string, answer: QuotedAnswer, retryable: boolean): DocuSignErrorDetails {
  return { request: label, status: answer.status, retryable, ...traceOf(answer) };
}

function head(label: string, answer: QuotedAnswer, accessToken: string | undefined): string {
  return `${label}: HTTP ${answer.status}${errorText(answer, accessToken)}${traceSuffix(answer)}.`;
}

/** A 429: the account's rate limit is spent. */
export function rateLimitedError(
  label: string,
  answer: QuotedAnswer,
  retryAfterMs: number | undefined,
): DocuSignError {
  return new DocuSignError(
    ErrorCode.RateLimited,
    `${label}: HTTP 429, DocuSign's rate limit for the account is exhausted${traceSuffix(answer)}. ` +
      "The run stops and the next scheduled run resumes; the limit is shared with the account's other integrations.",
    { ...details(label, answer, true), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
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
    `${label}: HTTP ${answer.status} ${quoteUntrusted(answer.statusText, 80)} from DocuSign${errorText(answer, accessToken)}${traceSuffix(answer)}. ` +
      "DocuSign had a server problem; retried with backoff. If it persists, check status.docusign.com and quote the trace token.",
    { ...details(label, answer, true), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) },
  );
}

/** A 200 page whose body is not JSON (cut off in transit). */
export function unreadablePageError(label: string, answer: QuotedAnswer): DocuSignError {
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP 200 with a truncated or unreadable body (${answer.body.length} bytes)${traceSuffix(answer)}; retried.`,
    details(label, answer, true),
  );
}

/** A 200 page of complete JSON that is not a page. */
export function notAPageError(
  label: string,
  answer: QuotedAnswer,
  organizationStream: boolean,
): DocuSignError {
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: the page has no ${organizationStream ? "resultData" : "data"} array or no endCursor${traceSuffix(answer)}.`,
    details(label, answer, false),
  );
}

export function timeoutError(label: string, timeoutMs: number, cause: unknown): DocuSignError {
  return new DocuSignError(
    ErrorCode.Timeout,
    `${label}: no complete answer within ${timeoutMs} ms. DocuSign may be slow; the request is retried.`,
    { request: label, retryable: true },
    { cause },
  );
}

/** `why` is the transport's own message, already sanitized and redacted. */
export function networkError(label: string, why: string, cause: unknown): DocuSignError {
  return new DocuSignError(
    ErrorCode.NetworkError,
    `${label}: network error (${why}). Check DNS, proxy and outbound HTTPS access to the host; the request is retried.`,
    { request: label, retryable: true },
    { cause },
  );
}

export function bodyTooLargeError(
  label: string,
  response: { readonly status: number; readonly headers: HeaderReader },
  maxBytes: number,
  bytesRead: number,
  cause: unknown,
): DocuSignError {
  const trace = traceOf(response);
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP ${response.status} with a body over the ${maxBytes}-byte cap (stopped reading after ` +
      `${bytesRead} decoded bytes)${trace.traceToken ? ` (X-DocuSign-TraceToken: ${trace.traceToken})` : ""}. ` +
      "A page of 2000 events is normally a few MB. If DocuSign's events really are this large, lower " +
      "PAGE_LIMIT (--limit) or raise MAX_RESPONSE_BYTES; otherwise check DOCUSIGN_MONITOR_URL.",
    { request: label, status: response.status, retryable: false, ...trace },
    { cause },
  );
}

/** A token answer of 200 without an `access_token`. */
export function missingTokenError(label: string, answer: QuotedAnswer): DocuSignError {
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP 200 without an access_token${traceSuffix(answer)}. Check that DOCUSIGN_OAUTH_URL points at DocuSign's account server.`,
    details(label, answer, false),
  );
}

/**
 * A token with CR/LF or spaces would break (or inject into) the Authorization header, and the error
 * fetch raises for it quotes the header. The token itself is never printed, only its length.
 */
export function unusableTokenError(label: string, answer: QuotedAnswer, tokenLength: number): DocuSignError {
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP 200 with an access_token that is not a bearer token (${tokenLength} characters, ` +
      `some outside RFC 6750's token68 set)${traceSuffix(answer)}; it was not used. Check that ` +
      "DOCUSIGN_OAUTH_URL points at DocuSign's account server.",
    details(label, answer, false),
  );
}

/** The key cannot sign the assertion: a configuration error, never retried. */
export function keyCannotSignError(error: unknown): PrivateKeyError {
  const why = quoteUntrusted(error instanceof Error ? error.message : String(error), 160);
  return new PrivateKeyError(
    ErrorCode.KeyInvalid,
    `The private key cannot sign DocuSign's RS256 JWT assertion (${why}). Use the ` +
      "2048-bit RSA key pair DocuSign generates for the integration key (Apps and Keys > RSA keypairs).",
    { cause: error },
  );
}

/** The token endpoint refused the grant: consent, a rejected assertion, or anything else. */
export function tokenError(
  label: string,
  answer: QuotedAnswer,
  identity: GrantIdentity,
  accessToken: string | undefined,
): DocuSignError {
  const body = answer.json as { error?: unknown } | undefined;
  const code = typeof body?.error === "string" ? body.error : "";
  const facts = details(label, answer, false);
  const first = head(label, answer, accessToken);
  if (code === "consent_required") {
    const url = consentUrl(identity.oauthUrl, identity.integrationKey, identity.redirectUri);
    return new ConsentRequiredError(
      `${first} The user ${identity.userId} has not granted consent to integration key ` +
        `${identity.integrationKey}. Open this URL once, signed in as that user, and accept:\n  ${url}\n` +
        "(The redirect_uri must be registered on the integration key; pass --redirect-uri / DOCUSIGN_REDIRECT_URI to use another.)",
      { ...facts, consentUrl: url },
    );
  }
  if (code === "invalid_grant") {
    return new DocuSignError(
      ErrorCode.AuthFailed,
      `${first} DocuSign rejected the JWT assertion. Check that the private key belongs to integration key ` +
        `${identity.integrationKey}, that user id ${identity.userId} is the user's API user GUID, that the ` +
        "environment (demo or production) matches where the key was created, and that this machine's clock is correct.",
      facts,
    );
  }
  return new DocuSignError(
    ErrorCode.AuthFailed,
    `${first} Could not get an access token. Check the integration key, user id and DOCUSIGN_OAUTH_URL.`,
    facts,
  );
}

/** The stream refused the page: 401 after re-authenticating, 403, 404, anything else. */
export function streamError(
  label: string,
  answer: QuotedAnswer,
  accessToken: string | undefined,
): DocuSignError {
  const facts = details(label, answer, false);
  const first = head(label, answer, accessToken);
  switch (answer.status) {
    case 401:
      return new DocuSignError(
        ErrorCode.AuthFailed,
        `${first} The access token was refused even after re-authenticating. Check that the user still has ` +
          "an admin role in the organization and that the integration key is not revoked.",
        facts,
      );
    case 403:
      return new DocuSignError(
        ErrorCode.Forbidden,
        `${first} Monitor refused access. The impersonated user must be an Organization Administrator or ` +
          "Security Reports Administrator of exactly one organization (an admin of several gets 403), and in " +
          "production the organization needs the DocuSign Monitor entitlement.",
        facts,
      );
    case 404:
      return new DocuSignError(
        ErrorCode.NotFound,
        `${first} The stream endpoint does not exist. Check DOCUSIGN_MONITOR_URL and, for the organization ` +
          "stream, DOCUSIGN_ORGANIZATION_ID.",
        facts,
      );
    default:
      return new DocuSignError(
        ErrorCode.BadRequest,
        `${first} DocuSign refused the request. If the cursor is the problem, check START_CURSOR (an ISO-8601 ` +
          "date-time such as 2024-01-01T00:00:00Z, or a cursor DocuSign returned).",
        facts,
      );
  }
}

import { DocuSignError, ErrorCode } from "../errors";
import { quoteUntrusted } from "./untrusted-text";

/**
 * What the DocuSign client refuses or hides in an HTTP exchange, whoever answers at the configured
 * URL: redirects, unusable tokens, credentials in URLs, and credentials echoed back in error text.
 */

/** RFC 6750 b64token: what an Authorization header can carry as is. */
const BEARER_TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Whether `token` can go into `Authorization: Bearer <token>` as is (no CR/LF, spaces or quotes). */
export function isBearerToken(token: string): boolean {
  return BEARER_TOKEN.test(token);
}

/** Whether `url` carries a user name or password. */
export function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== "" || parsed.password !== "";
  } catch {
    return false;
  }
}

/**
 * Any `Bearer <token>`, anything shaped like a JWT or the start of one (DocuSign's access tokens and
 * our assertion are JWTs; `eyJ` is base64url for `{"`) and the current token itself, replaced:
 * transport errors, error pages, reason phrases and headers may quote them.
 */
export function redactCredentials(text: string, token: string | undefined): string {
  const redacted = text
    .replace(/Bearer\s+\S+/gi, "[redacted credential]")
    .replace(
      /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?|eyJ[A-Za-z0-9_-]{12,}/g,
      "[redacted credential]",
    );
  return token ? redacted.split(token).join("[redacted credential]") : redacted;
}

/** The statuses that send the client elsewhere; 304 (Not Modified) and the other 3xx do not. */
const REDIRECTS: ReadonlySet<number> = new Set([300, 301, 302, 303, 307, 308]);

/**
 * A 3xx (or a custom fetch that followed one) is refused: following would send the JWT assertion or the
 * access token to another host, or store another origin's answer as DocuSign events. `token` is the
 * access token in use, redacted from what is quoted.
 */
export function refuseRedirect(label: string, response: Response, token?: string): void {
  const redirected = response.redirected || response.type === "opaqueredirect";
  if (!redirected && (response.status < 300 || response.status > 399)) return;
  const quote = (text: string): string => quoteUntrusted(redactCredentials(text, token), 100);
  const trace = response.headers.get("x-docusign-tracetoken");
  const traceText = trace ? ` (X-DocuSign-TraceToken: ${quote(trace)})` : "";
  const details = {
    request: label,
    status: response.status,
    retryable: false,
    ...(trace ? { traceToken: quote(trace) } : {}),
  };
  void response.body?.cancel().catch(() => undefined);
  if (!redirected && !REDIRECTS.has(response.status)) {
    throw new DocuSignError(
      ErrorCode.BadResponse,
      `${label}: HTTP ${response.status}${response.status === 304 ? " Not Modified" : ""}, not a redirect and not ` +
        `an answer to this request${traceText} (304 answers only conditional requests, which monitor-lake never ` +
        "sends); not retried. Check that DOCUSIGN_OAUTH_URL / DOCUSIGN_MONITOR_URL point at DocuSign's hosts.",
      details,
    );
  }
  const location = response.headers.get("location");
  let target = "no Location header";
  if (location !== null) {
    try {
      target = `Location host ${quote(new URL(location).host)}`;
    } catch {
      target = location.startsWith("/") ? "Location on the same host" : "an unreadable Location header";
    }
  }
  throw new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP ${response.status} redirect (${target})${traceText}; ` +
      "monitor-lake never follows redirects, since the request carries the JWT assertion or the access token. " +
      "Point DOCUSIGN_OAUTH_URL / DOCUSIGN_MONITOR_URL (--oauth-url / --monitor-url) at DocuSign's hosts directly.",
    details,
  );
}

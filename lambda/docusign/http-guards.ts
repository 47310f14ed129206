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
 * Any `Bearer <token>`, anything shaped like a JWT (DocuSign's access tokens and our assertion are
 * JWTs) and the current token itself, replaced: transport errors and error pages may quote them.
 */
export function redactCredentials(text: string, token: string | undefined): string {
  const redacted = text
    .replace(/Bearer\s+\S+/gi, "[redacted credential]")
    .replace(/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g, "[redacted credential]");
  return token ? redacted.split(token).join("[redacted credential]") : redacted;
}

/**
 * A 3xx (or a custom fetch that followed one) is refused: following would send the JWT assertion or the
 * access token to another host, or store another origin's answer as DocuSign events.
 */
export function refuseRedirect(label: string, response: Response): void {
  const redirected = response.redirected || response.type === "opaqueredirect";
  if (!redirected && (response.status < 300 || response.status > 399)) return;
  const location = response.headers.get("location");
  let target = "no Location header";
  if (location !== null) {
    try {
      target = `Location host ${quoteUntrusted(new URL(location).host, 100)}`;
    } catch {
      target = location.startsWith("/") ? "Location on the same host" : "an unreadable Location header";
    }
  }
  const trace = response.headers.get("x-docusign-tracetoken");
  void response.body?.cancel().catch(() => undefined);
  throw new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: HTTP ${response.status} redirect (${target})${trace ? ` (X-DocuSign-TraceToken: ${quoteUntrusted(trace, 100)})` : ""}; ` +
      "monitor-lake never follows redirects, since the request carries the JWT assertion or the access token. " +
      "Point DOCUSIGN_OAUTH_URL / DOCUSIGN_MONITOR_URL (--oauth-url / --monitor-url) at DocuSign's hosts directly.",
    {
      request: label,
      status: response.status,
      retryable: false,
      ...(trace ? { traceToken: quoteUntrusted(trace, 100) } : {}),
    },
  );
}

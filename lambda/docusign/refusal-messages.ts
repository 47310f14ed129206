import { ConsentRequiredError, DocuSignError, ErrorCode, PrivateKeyError } from "../errors";
import { consentUrl } from "./docusign-endpoints";
import { details, errorText, type QuotedAnswer, traceSuffix } from "./error-messages";
import { quoteUntrusted } from "./untrusted-text";

/**
 * What monitor-lake says when DocuSign refuses (consent, a rejected assertion, 401/403/404) or answers
 * with something that is not what was asked for (no token, no page): what happened and the fix.
 */

/** Who asked, for the messages that tell the user what to check. */
export interface GrantIdentity {
  readonly oauthUrl: string;
  readonly integrationKey: string;
  readonly userId: string;
  readonly redirectUri: string;
}

function head(label: string, answer: QuotedAnswer, accessToken: string | undefined): string {
  return `${label}: HTTP ${answer.status}${errorText(answer, accessToken)}${traceSuffix(answer, accessToken)}.`;
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
  const facts = details(label, answer, false, accessToken);
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

/** A 200 whose complete JSON is not a page: no array or cursor, or both arrays with events. */
export function notAPageError(
  label: string,
  answer: QuotedAnswer,
  organizationStream: boolean,
  accessToken: string | undefined,
): DocuSignError {
  const json = answer.json as { data?: unknown; resultData?: unknown } | undefined;
  if (Array.isArray(json?.data) && Array.isArray(json?.resultData)) {
    // Keeping one would drop the other's events without a trace; nothing of the page is stored.
    return new DocuSignError(
      ErrorCode.BadResponse,
      `${label}: the page has both data (${json.data.length} events) and resultData (${json.resultData.length} events)` +
        `${traceSuffix(answer, accessToken)}; a page holds one of them. Nothing of it was stored and the cursor ` +
        "stays; report the trace token to DocuSign support.",
      details(label, answer, false, accessToken),
    );
  }
  return new DocuSignError(
    ErrorCode.BadResponse,
    `${label}: the page has no ${organizationStream ? "resultData" : "data"} array or no endCursor${traceSuffix(answer, accessToken)}.`,
    details(label, answer, false, accessToken),
  );
}

/**
 * The stream refused the page: 401 after re-authenticating, 403, 404, anything else. `organizationStream`:
 * the page was asked of the organization stream, where a cursor kept from the lens stream is refused.
 */
export function streamError(
  label: string,
  answer: QuotedAnswer,
  accessToken: string | undefined,
  organizationStream: boolean,
): DocuSignError {
  const facts = details(label, answer, false, accessToken);
  const first = head(label, answer, accessToken);
  if (answer.status >= 200 && answer.status < 300) {
    return new DocuSignError(
      ErrorCode.BadResponse,
      `${first} DocuSign answered with success without a page (the stream answers 200 with the events and an ` +
        "endCursor). Nothing was stored and the cursor stays; check DOCUSIGN_MONITOR_URL.",
      facts,
    );
  }
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
          "date-time such as 2024-01-01T00:00:00Z, or a cursor DocuSign returned)." +
          (organizationStream
            ? " This is the organization stream: a stream whose state holds a cursor of the legacy lens " +
              "stream (ingested before the organization stream came first) must keep reading lens: set " +
              'DOCUSIGN_STREAM_API=lens (--stream-api lens; deployed: the stream\'s "streamApi": "lens" or ' +
              "-c streamApi=lens)."
            : ""),
        facts,
      );
  }
}

/** userinfo refused: the stream cannot be chosen without the organization. */
export function userInfoError(
  label: string,
  answer: QuotedAnswer,
  accessToken: string | undefined,
): DocuSignError {
  return new DocuSignError(
    answer.status === 401 ? ErrorCode.AuthFailed : ErrorCode.BadRequest,
    `${head(label, answer, accessToken)} Could not look up the user's organization to choose the Monitor ` +
      "stream. Set DOCUSIGN_ORGANIZATION_ID (--organization-id) to use the organization stream, or " +
      "DOCUSIGN_STREAM_API=lens (--stream-api lens) to read the legacy lens stream; both skip this lookup.",
    details(label, answer, false, accessToken),
  );
}

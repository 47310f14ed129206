import type { FetchPageRequest } from "../core/ports";
import { DocuSignError, ErrorCode } from "../errors";
import { oauthEndpoint } from "./docusign-endpoints";
import { RequestKind, traceSuffix } from "./error-messages";
import { type ExchangeSettings, exchange } from "./http-exchange";
import type { JwtGrant } from "./jwt-grant";
import { userInfoError } from "./refusal-messages";
import { quoteUntrusted } from "./untrusted-text";

/**
 * DocuSign's `GET /oauth/userinfo` on the OAuth (account) host, as DocuSign's own SDKs use it to find
 * the organization: the ids in `accounts[].organization.organization_id`, each once.
 */

/** An organization id as DocuSign writes it. */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** What userinfo says about the impersonated user (it lists no admin roles). */
export interface UserInfo {
  /** `sub`: the user's GUID. */
  readonly userId: string;
  readonly name: string;
  readonly email: string;
  /** The organization ids of `accounts[].organization.organization_id`, each once, lower case. */
  readonly organizations: readonly string[];
}

export async function userOrganizations(
  oauthUrl: string,
  grant: JwtGrant,
  http: ExchangeSettings,
  request: FetchPageRequest,
): Promise<string[]> {
  return [...(await userInfo(oauthUrl, grant, http, request)).organizations];
}

/** `GET /oauth/userinfo` read: the user's identity and organizations (names quoted as untrusted text). */
export async function userInfo(
  oauthUrl: string,
  grant: JwtGrant,
  http: ExchangeSettings,
  request: FetchPageRequest,
): Promise<UserInfo> {
  const url = oauthEndpoint(oauthUrl, "/oauth/userinfo");
  const label = `GET ${url}`;
  let reauthenticated = false;
  for (;;) {
    const token = await grant.accessToken(request);
    const answer = await exchange(
      { label, kind: RequestKind.UserInfo },
      request,
      (signal) =>
        http.fetch(url, {
          headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
          // Never follow: the request carries the access token.
          redirect: "manual",
          signal,
        }),
      http,
    );
    if (answer.status === 401 && !reauthenticated) {
      grant.invalidate();
      reauthenticated = true;
      http.emit({ type: "auth-failure", request: label, reason: "401 from userinfo; re-authenticating" });
      continue;
    }
    if (answer.status !== 200) throw userInfoError(label, answer, grant.current());
    const body = answer.json as
      | { accounts?: unknown; sub?: unknown; name?: unknown; email?: unknown }
      | undefined;
    const accounts = body?.accounts;
    const ids = new Set<string>();
    for (const account of Array.isArray(accounts) ? accounts : []) {
      const id = (account as { organization?: { organization_id?: unknown } } | null)?.organization
        ?.organization_id;
      if (id === undefined || id === null || id === "") continue;
      if (typeof id !== "string" || !GUID.test(id)) {
        throw new DocuSignError(
          ErrorCode.BadResponse,
          `${label}: userinfo names the organization id ${JSON.stringify(quoteUntrusted(String(id), 60))}, ` +
            `which is not a GUID${traceSuffix(answer, grant.current())}; it was not used. Set ` +
            "DOCUSIGN_ORGANIZATION_ID (--organization-id) to the organization's id from DocuSign Admin.",
          { request: label, status: answer.status, retryable: false },
        );
      }
      ids.add(id.toLowerCase());
    }
    const text = (value: unknown): string => (typeof value === "string" ? quoteUntrusted(value, 80) : "");
    return {
      userId: text(body?.sub),
      name: text(body?.name),
      email: text(body?.email),
      organizations: [...ids],
    };
  }
}

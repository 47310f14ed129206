import type { KeyObject } from "node:crypto";
import { SignJWT } from "jose";
import type { FetchPageRequest } from "../core/ports";
import { trimSlash } from "./docusign-endpoints";
import {
  type GrantIdentity,
  keyCannotSignError,
  missingTokenError,
  tokenError,
  unusableTokenError,
} from "./error-messages";
import { type ExchangeSettings, exchange } from "./http-exchange";
import { isBearerToken } from "./http-guards";

/**
 * DocuSign's JWT grant: a signed RS256 assertion for the impersonated user, posted to the OAuth
 * host's `/oauth/token`, and the access token it returns kept until shortly before it expires.
 */

export interface JwtGrantOptions extends GrantIdentity {
  readonly privateKey: KeyObject;
}

interface CachedToken {
  readonly value: string;
  /** Reuse until this epoch ms, shortly before DocuSign's expiry. */
  readonly refreshAt: number;
}

const JWT_LIFETIME_SECONDS = 3600;
const TOKEN_REFRESH_MARGIN_MS = 5 * 60 * 1000;
const SCOPE = "signature impersonation";

export class JwtGrant {
  private token: CachedToken | undefined;

  constructor(
    private readonly options: JwtGrantOptions,
    private readonly http: ExchangeSettings,
  ) {}

  /** The token in use, if any: every quoted text is redacted of it. */
  current(): string | undefined {
    return this.token?.value;
  }

  /** Forget the token (DocuSign refused it): the next `accessToken` asks for a new one. */
  invalidate(): void {
    this.token = undefined;
  }

  /** A valid access token, from cache while it has more than a few minutes left. */
  async accessToken(request: FetchPageRequest): Promise<string> {
    const now = this.http.clock.now();
    if (this.token && now < this.token.refreshAt) return this.token.value;
    const oauth = new URL(trimSlash(this.options.oauthUrl));
    const label = `POST ${oauth.origin}/oauth/token`;
    const answer = await exchange(
      label,
      request,
      async (signal) => {
        // A fresh assertion per attempt: its iat/exp must be current.
        const assertion = await this.assertion(oauth.host);
        return this.http.fetch(`${oauth.origin}/oauth/token`, {
          method: "POST",
          headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
          body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
          // Never follow: a 307 would re-post the signed assertion (valid an hour) to another host.
          redirect: "manual",
          signal,
        });
      },
      this.http,
    );
    if (answer.status !== 200) throw tokenError(label, answer, this.options, this.token?.value);
    const body = answer.json as { access_token?: unknown; expires_in?: unknown } | undefined;
    if (typeof body?.access_token !== "string" || body.access_token === "") {
      throw missingTokenError(label, answer);
    }
    if (!isBearerToken(body.access_token)) throw unusableTokenError(label, answer, body.access_token.length);
    const expiresIn = typeof body.expires_in === "number" && body.expires_in > 0 ? body.expires_in : 3600;
    const lifetimeMs = expiresIn * 1000;
    const issued = this.http.clock.now();
    this.token = {
      value: body.access_token,
      refreshAt: issued + lifetimeMs - Math.min(TOKEN_REFRESH_MARGIN_MS, lifetimeMs / 10),
    };
    this.http.emit({ type: "token", expiresInSeconds: expiresIn });
    return this.token.value;
  }

  /** The signed JWT assertion; a key that cannot sign is a configuration error, never retried. */
  private async assertion(audience: string): Promise<string> {
    const iat = Math.floor(this.http.clock.now() / 1000);
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
      throw keyCannotSignError(error);
    }
  }
}

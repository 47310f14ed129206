/** DocuSign's hosts per environment and API generation (monitor-api.md). */

export const DocuSignEnvironment = { Demo: "demo", Production: "production" } as const;
export type DocuSignEnvironment = (typeof DocuSignEnvironment)[keyof typeof DocuSignEnvironment];

const HOSTS = {
  demo: {
    oauth: "https://account-d.docusign.com",
    lens: "https://lens-d.docusign.net",
    organization: "https://api-d.docusign.com",
  },
  production: {
    oauth: "https://account.docusign.com",
    lens: "https://lens.docusign.net",
    organization: "https://api.docusign.com",
  },
} as const;

/**
 * The default cap on one decoded response body. A 2000-event page of typical Monitor events (1-3 KB
 * each) is 2-6 MB; 32 MiB allows 16 KB per event on average. Measured: reading and parsing a 32 MB
 * page costs about 100 MiB of RSS at peak (a 64 MB one about 155 MiB), so a page at the cap, the
 * 32 MiB chunk buffer and the runtime stay within half of the 512 MB Lambda (DESIGN invariant 5).
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024;

/** A redirect URI DocuSign's own consent walkthroughs use; users may register and pass their own. */
export const DEFAULT_REDIRECT_URI = "https://developers.docusign.com/platform/auth/consent";

export function defaultOAuthUrl(env: DocuSignEnvironment): string {
  return HOSTS[env].oauth;
}

/** The legacy lens host without an organization id, the organization stream host with one. */
export function defaultMonitorUrl(env: DocuSignEnvironment, organizationId: string | undefined): string {
  return organizationId === undefined ? HOSTS[env].lens : HOSTS[env].organization;
}

/** The page the impersonated user opens once to grant the integration consent. */
export function consentUrl(oauthUrl: string, integrationKey: string, redirectUri: string): string {
  const query = new URLSearchParams({
    response_type: "code",
    scope: "signature impersonation",
    client_id: integrationKey,
    redirect_uri: redirectUri,
  });
  // URLSearchParams writes spaces as "+"; DocuSign's documentation shows %20.
  return `${trimSlash(oauthUrl)}/oauth/auth?${query.toString().replace(/\+/g, "%20")}`;
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}

/**
 * The DocuSign side of the configuration: which stream API is read, and where. config.ts reads the
 * environment variables and hands their text here with each variable's name, for the problems it reports.
 */
import { type DocuSignEnvironment, StreamApi } from "./docusign/docusign-endpoints";

export interface DocuSignConfig {
  /** @default "demo" */
  readonly environment: DocuSignEnvironment;
  /**
   * Set: the organization stream API; unset: the one organization `GET /oauth/userinfo` names, else
   * the legacy lens stream.
   */
  readonly organizationId?: string;
  /** `lens`: the legacy lens stream, no userinfo lookup; `organization`: no lens fallback. @default unset */
  readonly streamApi?: StreamApi;
  /** @default the environment's Monitor host for the selected API generation */
  readonly monitorUrl: string;
  /** Where a looked-up organization's stream is read. @default DOCUSIGN_MONITOR_URL, else the organization host */
  readonly organizationMonitorUrl: string;
  /** @default the environment's account server */
  readonly oauthUrl: string;
  readonly integrationKey: string;
  readonly userId: string;
  /** Only used to print consent URLs. @default DocuSign's consent walkthrough page */
  readonly redirectUri: string;
  /** Page size asked for. @default 2000 */
  readonly pageLimit: number;
  /** Largest decoded response body read from DocuSign. @default 32 MiB */
  readonly maxResponseBytes: number;
}

/**
 * The stream API setting `name` set to `text`: `lens`, `organization`, or undefined when unset (the
 * organization userinfo names, else the lens stream); any other text adds a problem.
 */
export function streamApiSetting(
  text: string | undefined,
  name: string,
  problems: string[],
): StreamApi | undefined {
  if (text === undefined || text === StreamApi.Lens || text === StreamApi.Organization) return text;
  problems.push(
    `${name} is "${text}": use "organization" or "lens" (--stream-api), or leave it unset to ` +
      "read the organization userinfo names (else the lens stream).",
  );
  return undefined;
}

/**
 * The URL setting `name` set to `value`, without a trailing "/": https (plain http only on loopback,
 * for a local simulator) and no credentials; each problem is added to `problems`.
 */
export function urlSetting(value: string, name: string, problems: string[]): string {
  // Credentials in a URL would be sent to the host and echoed in messages: refused, never quoted.
  if (hasUserInfo(value)) {
    problems.push(credentialsProblem(name));
    return value;
  }
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    problems.push(`${name} is "${value}", which is not a URL: use e.g. https://account-d.docusign.com.`);
    return value;
  }
  const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(parsed.hostname);
  if (parsed.protocol !== "https:" && !(parsed.protocol === "http:" && loopback)) {
    problems.push(`${name} is "${value}": use https (plain http is accepted only for a local simulator).`);
  }
  return value.replace(/\/+$/, "");
}

/** A `user@` or `user:password@` before the host, with or without a scheme. */
export function hasUserInfo(value: string): boolean {
  try {
    const parsed = new URL(value);
    if (parsed.username !== "" || parsed.password !== "") return true;
  } catch {
    // Not a URL: still look for an authority with userinfo below.
  }
  return /^(?:[a-z][a-z0-9+.-]*:)?(?:\/\/)?[^/?#\s]*@/i.test(value);
}

/** The problem to report for credentials in the URL setting `name`; the URL itself is never quoted. */
export function credentialsProblem(name: string): string {
  return (
    `${name} contains a user name or password (user:password@host); it is not shown here. Remove it: ` +
    "DocuSign authenticates with the JWT grant, and credentials in a URL would be sent to that host."
  );
}

import { ENV } from "../config";
import {
  consentUrl,
  DEFAULT_REDIRECT_URI,
  DocuSignEnvironment,
  defaultOAuthUrl,
} from "../docusign/docusign-endpoints";
import { credentialsProblem, hasUserInfo } from "../docusign-config";
import { ConfigError } from "../errors";
import { UsageError } from "./cli-errors";

/** `consent-url`: the URL an admin opens once to grant the integration key impersonation consent. */
export function consentUrlCommand(
  settings: Record<string, string | undefined>,
  stdout: (line: string) => void,
): number {
  const key = settings[ENV.integrationKey];
  if (!key) throw new UsageError("consent-url needs --integration-key");
  const environment = settings[ENV.docusignEnv] ?? DocuSignEnvironment.Demo;
  if (environment !== "demo" && environment !== "production") {
    throw new UsageError(`--env is "${environment}": use demo or production`);
  }
  const oauth = settings[ENV.oauthUrl] ?? defaultOAuthUrl(environment);
  const redirect = settings[ENV.redirectUri] ?? DEFAULT_REDIRECT_URI;
  const withCredentials = [ENV.oauthUrl, ENV.redirectUri].filter((name) =>
    hasUserInfo(name === ENV.oauthUrl ? oauth : redirect),
  );
  if (withCredentials.length > 0) throw new ConfigError(withCredentials.map(credentialsProblem));
  stdout(consentUrl(oauth, key, redirect));
  return 0;
}

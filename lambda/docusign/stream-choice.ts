import type { FetchPageRequest } from "../core/ports";
import { ConfigError } from "../errors";
import { StreamApi } from "./docusign-endpoints";
import type { ExchangeSettings } from "./http-exchange";
import type { JwtGrant } from "./jwt-grant";
import { userOrganizations } from "./user-info";

/**
 * Which Monitor stream a client reads. DocuSign's current documentation lists only the organization
 * stream, so it comes first: a configured organization id, else the one organization userinfo names;
 * the legacy lens stream when chosen explicitly, or when userinfo names none.
 */

export interface StreamChoiceOptions {
  readonly oauthUrl: string;
  readonly userId: string;
  readonly organizationId?: string;
  readonly streamApi?: StreamApi;
  /** Where the configured stream is read (the lens host without an organization id). */
  readonly monitorUrl: string;
  /** Where a looked-up organization's stream is read. @default monitorUrl */
  readonly organizationMonitorUrl?: string;
}

export interface StreamChoice {
  readonly api: StreamApi;
  readonly organizationId?: string;
  readonly monitorUrl: string;
  /** Set when userinfo decided: why this stream, for the log. */
  readonly lookedUp?: string;
}

export async function chooseStream(
  options: StreamChoiceOptions,
  grant: JwtGrant,
  http: ExchangeSettings,
  request: FetchPageRequest,
): Promise<StreamChoice> {
  const { organizationId, monitorUrl } = options;
  if (organizationId !== undefined) return { api: StreamApi.Organization, organizationId, monitorUrl };
  if (options.streamApi === StreamApi.Lens) return { api: StreamApi.Lens, monitorUrl };
  const found = await userOrganizations(options.oauthUrl, grant, http, request);
  const [only] = found;
  if (found.length === 1 && only !== undefined) {
    return {
      api: StreamApi.Organization,
      organizationId: only,
      monitorUrl: options.organizationMonitorUrl ?? monitorUrl,
      lookedUp: `userinfo names one organization, ${only}: reading its organization stream`,
    };
  }
  if (found.length > 1) {
    throw new ConfigError([
      `the user ${options.userId} administers ${found.length} organizations (${found.join(", ")}), so the ` +
        "Monitor stream to read is not clear: set DOCUSIGN_ORGANIZATION_ID (--organization-id, or " +
        '"organizationId" in the stream table) to one of them.',
    ]);
  }
  if (options.streamApi === StreamApi.Organization) {
    throw new ConfigError([
      `DOCUSIGN_STREAM_API is "organization" but userinfo names no organization for the user ${options.userId}: ` +
        "set DOCUSIGN_ORGANIZATION_ID (--organization-id), or DOCUSIGN_STREAM_API=lens (--stream-api lens).",
    ]);
  }
  return {
    api: StreamApi.Lens,
    monitorUrl,
    lookedUp:
      "userinfo names no organization for the user: falling back to the legacy lens stream " +
      "(set DOCUSIGN_ORGANIZATION_ID to read an organization stream, DOCUSIGN_STREAM_API=lens to skip the lookup)",
  };
}

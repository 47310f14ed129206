import type { EventPage, EventSource, FetchPageRequest } from "../core/ports";
import { trimSlash } from "./docusign-endpoints";
import { RequestKind } from "./error-messages";
import { type ExchangeSettings, exchange } from "./http-exchange";
import type { JwtGrant } from "./jwt-grant";
import { notAPageError, streamError } from "./refusal-messages";
import { rateLimitStatus } from "./retry-policy";

/**
 * The Monitor stream's page protocol, both API generations (monitor-api.md): `GET <stream>?cursor=&limit=`
 * with the bearer token, one re-authentication on a 401, and the page (stream-page.ts reads its body)
 * with the rate-limit headers that came with it.
 */

export interface MonitorStreamOptions {
  /** Monitor base URL, e.g. `https://lens-d.docusign.net` or `https://api-d.docusign.com`. */
  readonly monitorUrl: string;
  /** Selects the organization stream (`/v1/organizations/{id}/stream`); absent: the legacy lens stream. */
  readonly organizationId?: string;
  /** Page size asked for; DocuSign may return more or fewer. */
  readonly limit: number;
}

/** The path of the stream endpoint: legacy lens, or the organization stream when an id is given. */
export function streamPath(organizationId: string | undefined): string {
  return organizationId === undefined
    ? "/api/v2.0/datasets/monitor/stream"
    : `/v1/organizations/${encodeURIComponent(organizationId)}/stream`;
}

export class MonitorStream implements EventSource {
  constructor(
    private readonly options: MonitorStreamOptions,
    private readonly grant: JwtGrant,
    private readonly http: ExchangeSettings,
  ) {}

  async fetchPage(request: FetchPageRequest): Promise<EventPage> {
    const { organizationId } = this.options;
    const url = new URL(trimSlash(this.options.monitorUrl) + streamPath(organizationId));
    url.searchParams.set("cursor", request.cursor);
    url.searchParams.set("limit", String(this.options.limit));
    const label = `GET ${url.origin}${url.pathname}`;
    let reauthenticated = false;
    for (;;) {
      const token = await this.grant.accessToken(request);
      const answer = await exchange(
        { label, kind: RequestKind.Page },
        request,
        (signal) =>
          this.http.fetch(url, {
            headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
            // Never follow: the request carries the access token and the answer is stored as events.
            redirect: "manual",
            signal,
          }),
        this.http,
      );
      if (answer.status === 401 && !reauthenticated) {
        // The token expired early or was revoked: get a new one once, then retry the page.
        this.grant.invalidate();
        reauthenticated = true;
        this.http.emit({
          type: "auth-failure",
          request: label,
          reason: "401 from the stream; re-authenticating",
        });
        continue;
      }
      if (answer.status !== 200)
        throw streamError(label, answer, this.grant.current(), organizationId !== undefined);
      const page = answer.page;
      if (page === undefined)
        throw notAPageError(label, answer, organizationId !== undefined, this.grant.current());
      const rateLimit = rateLimitStatus(answer.headers);
      return { ...page, ...(rateLimit === undefined ? {} : { rateLimit }) };
    }
  }
}

import type { KeyObject } from "node:crypto";
import type { Clock, EventPage, EventSource, FetchPageRequest } from "../core/ports";
import { ConfigError } from "../errors";
import type { DocuSignClientEvent } from "./client-events";
import { DEFAULT_MAX_RESPONSE_BYTES, StreamApi } from "./docusign-endpoints";
import type { ExchangeSettings } from "./http-exchange";
import { hasCredentials } from "./http-guards";
import { JwtGrant } from "./jwt-grant";
import { MonitorStream } from "./monitor-stream";
import { chooseStream } from "./stream-choice";
import { quoteUntrusted } from "./untrusted-text";
import { GUID } from "./user-info";

export type { DocuSignClientEvent } from "./client-events";

export interface DocuSignClientOptions {
  /** OAuth base URL, e.g. `https://account-d.docusign.com`. The assertion's `aud` is its host (and port). */
  readonly oauthUrl: string;
  /** Monitor base URL, e.g. `https://lens-d.docusign.net` or `https://api-d.docusign.com`. */
  readonly monitorUrl: string;
  /**
   * Selects the organization stream (`/v1/organizations/{id}/stream`); absent: the one organization
   * `GET /oauth/userinfo` names, else the legacy lens stream (stream-choice.ts).
   */
  readonly organizationId?: string;
  /** `lens`: read the legacy lens stream without the userinfo lookup. `organization`: no lens fallback. */
  readonly streamApi?: StreamApi;
  /** Where a looked-up organization's stream is read. @default monitorUrl */
  readonly organizationMonitorUrl?: string;
  readonly integrationKey: string;
  /** GUID of the impersonated user (an Organization Administrator or Security Reports Administrator). */
  readonly userId: string;
  readonly privateKey: KeyObject;
  /** Page size asked for; DocuSign may return more or fewer. @default 2000 */
  readonly limit?: number;
  /** Shown in the consent URL of `consent_required` errors. */
  readonly redirectUri: string;
  readonly clock: Clock;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default a timer that stops early when the signal aborts */
  readonly sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** @default Math.random */
  readonly random?: () => number;
  /** Attempts per request, the first included. @default 6 */
  readonly maxAttempts?: number;
  /** One request's time limit. @default 60 000 */
  readonly requestTimeoutMs?: number;
  /** First backoff step; doubles per attempt, with full jitter. @default 1 000 */
  readonly baseDelayMs?: number;
  /** Longest backoff step, and the longest wait for a rate-limit reset. @default 60 000 */
  readonly maxDelayMs?: number;
  /**
   * Largest response body read, after gzip/deflate decoding; a longer one fails with a clear error
   * instead of exhausting memory. @default DEFAULT_MAX_RESPONSE_BYTES (32 MiB)
   */
  readonly maxResponseBytes?: number;
  readonly onEvent?: (event: DocuSignClientEvent) => void;
}

/**
 * The DocuSign Monitor stream as an `EventSource`: the JWT grant (jwt-grant.ts), the stream choice
 * (stream-choice.ts) and the stream's page protocol (monitor-stream.ts), each request sent by
 * http-exchange.ts under retry-policy.ts.
 */
export class DocuSignClient implements EventSource {
  private readonly options: DocuSignClientOptions;
  private readonly grant: JwtGrant;
  private readonly http: ExchangeSettings;
  /** Chosen on the first page; a failed choice is tried again on the next. */
  private stream: MonitorStream | undefined;
  private chosen: StreamApi | undefined;

  constructor(options: DocuSignClientOptions) {
    refuseUnusable(options);
    let grant: JwtGrant | undefined;
    const http: ExchangeSettings = {
      fetch: options.fetch ?? globalThis.fetch,
      clock: options.clock,
      sleep: options.sleep ?? abortableSleep,
      random: options.random ?? Math.random,
      maxAttempts: options.maxAttempts ?? 6,
      requestTimeoutMs: options.requestTimeoutMs ?? 60_000,
      baseDelayMs: options.baseDelayMs ?? 1000,
      maxDelayMs: options.maxDelayMs ?? 60_000,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
      currentToken: () => grant?.current(),
      emit: (event) => options.onEvent?.(event),
    };
    grant = new JwtGrant(options, http);
    this.options = options;
    this.grant = grant;
    this.http = http;
  }

  /** The stream API this client reads, known once its first page was asked for. */
  get streamApi(): StreamApi | undefined {
    return this.chosen;
  }

  async fetchPage(request: FetchPageRequest): Promise<EventPage> {
    this.stream ??= await this.choose(request);
    return this.stream.fetchPage(request);
  }

  private async choose(request: FetchPageRequest): Promise<MonitorStream> {
    const choice = await chooseStream(this.options, this.grant, this.http, request);
    if (choice.lookedUp !== undefined) {
      this.http.emit({
        type: "stream-api",
        api: choice.api,
        ...(choice.organizationId === undefined ? {} : { organizationId: choice.organizationId }),
        reason: choice.lookedUp,
      });
    }
    this.chosen = choice.api;
    const limit = this.options.limit ?? 2000;
    return new MonitorStream(
      { monitorUrl: choice.monitorUrl, organizationId: choice.organizationId, limit },
      this.grant,
      this.http,
    );
  }
}

/** Settings no request may be sent with, refused before any request (ConfigError). */
export function refuseUnusable(
  options: Pick<
    DocuSignClientOptions,
    "oauthUrl" | "monitorUrl" | "organizationMonitorUrl" | "organizationId" | "streamApi"
  >,
): void {
  // fetch refuses such URLs with an error that quotes them; refuse first, without echoing them.
  const withCredentials = [options.oauthUrl, options.monitorUrl, options.organizationMonitorUrl ?? ""].filter(
    hasCredentials,
  );
  if (withCredentials.length > 0) {
    throw new ConfigError([
      "a DocuSign URL contains a user name or password (user:password@host): remove it. DocuSign " +
        "authenticates with the JWT grant; credentials in a URL would be sent to the host and printed.",
    ]);
  }
  const { organizationId } = options;
  if (organizationId !== undefined && options.streamApi === StreamApi.Lens) {
    throw new ConfigError([
      'DOCUSIGN_STREAM_API is "lens" and DOCUSIGN_ORGANIZATION_ID is set: the lens stream has no organization. ' +
        "Remove one of them (--stream-api / --organization-id).",
    ]);
  }
  if (organizationId !== undefined && !GUID.test(organizationId)) {
    // Checked before any request: "..", "." or "a/b" would leave /v1/organizations/ after URL
    // normalisation and send the access token to another endpoint.
    throw new ConfigError([
      `the organization id ${JSON.stringify(quoteUntrusted(organizationId, 60))} is not a GUID: set ` +
        'DOCUSIGN_ORGANIZATION_ID (--organization-id, or "organizationId" in the stream table) to the ' +
        "organization's id from DocuSign Admin, e.g. 7f46f1ee-828e-41d4-9d85-755fa1814fd4.",
    ]);
  }
}

export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

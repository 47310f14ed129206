import type { KeyObject } from "node:crypto";
import type { Clock, FetchPageRequest, RateLimitStatus } from "../core/ports";
import { abortableSleep } from "../docusign/docusign-client";
import { StreamApi } from "../docusign/docusign-endpoints";
import type { ExchangeSettings } from "../docusign/http-exchange";
import { JwtGrant } from "../docusign/jwt-grant";
import { MonitorStream } from "../docusign/monitor-stream";
import { chooseStream, type StreamChoice } from "../docusign/stream-choice";
import { userInfo } from "../docusign/user-info";
import type { DocuSignConfig } from "../docusign-config";
import { describeError } from "../errors";
import { type CheckResult, fail, ok, warn } from "./doctor-check";

/**
 * `doctor`'s checks against DocuSign, in the order a run meets them: the token grant, userinfo and
 * the stream choice, one stream page, the rate-limit headroom that page reports. Each request is the
 * run's own code (jwt-grant.ts, user-info.ts, stream-choice.ts, monitor-stream.ts), with fewer and
 * shorter retries; nothing is stored and no cursor moves.
 */

/** A doctor waits at most this long for each check. */
const CHECK_DEADLINE_MS = 60_000;

/** Userinfo lists no roles: what the report says about them. */
const ROLES_NOTE =
  "userinfo lists no admin roles; the stream check shows whether Monitor accepts the user " +
  "(Security Reports Administrator is enough)";

export class DoctorProbe {
  private readonly grant: JwtGrant;
  private readonly http: ExchangeSettings;
  private expiresInSeconds: number | undefined;

  constructor(
    private readonly config: DocuSignConfig,
    privateKey: KeyObject,
    private readonly clock: Clock,
    fetchImpl: typeof fetch = globalThis.fetch,
  ) {
    let grant: JwtGrant | undefined;
    this.http = {
      fetch: fetchImpl,
      clock,
      sleep: abortableSleep,
      random: Math.random,
      maxAttempts: 3,
      requestTimeoutMs: 30_000,
      baseDelayMs: 500,
      maxDelayMs: 5_000,
      maxResponseBytes: config.maxResponseBytes,
      currentToken: () => grant?.current(),
      emit: (event) => {
        if (event.type === "token") this.expiresInSeconds = event.expiresInSeconds;
      },
    };
    grant = new JwtGrant({ ...config, privateKey }, this.http);
    this.grant = grant;
  }

  private request(cursor = ""): FetchPageRequest {
    return { cursor, deadline: this.clock.now() + CHECK_DEADLINE_MS };
  }

  /** The JWT grant: an access token, or DocuSign's refusal (consent, a rejected assertion). */
  async token(): Promise<CheckResult> {
    try {
      await this.grant.accessToken(this.request());
    } catch (error) {
      return fail("token", error);
    }
    const { oauthUrl, userId, integrationKey } = this.config;
    const lifetime = this.expiresInSeconds === undefined ? "" : `, valid ${this.expiresInSeconds} s`;
    return ok(
      "token",
      `${oauthUrl} granted an access token for user ${userId} with integration key ${integrationKey}${lifetime}`,
    );
  }

  /**
   * Userinfo (who the user is, which organizations it names) and the stream a run would choose from
   * it. The choice is returned for the page check; a failed lookup the run does not need is a warning.
   */
  async userInfo(): Promise<{ result: CheckResult; choice?: StreamChoice }> {
    const { organizationId, streamApi } = this.config;
    const needed = organizationId === undefined && streamApi !== StreamApi.Lens;
    let who: string;
    let named: readonly string[];
    try {
      const info = await userInfo(this.config.oauthUrl, this.grant, this.http, this.request());
      who = `user ${info.name === "" ? "(no name)" : `"${info.name}"`}${info.email === "" ? "" : ` <${info.email}>`}`;
      named = info.organizations;
    } catch (error) {
      if (needed) return { result: fail("userinfo", error) };
      const choice = await this.choose();
      return {
        result: warn(
          "userinfo",
          "GET /oauth/userinfo failed; a run does not need it (the stream is configured)",
          describeError(error),
        ),
        ...(choice instanceof Error ? {} : { choice }),
      };
    }
    const choice = await this.choose();
    if (choice instanceof Error) return { result: fail("userinfo", choice) };
    const organizations =
      named.length === 0
        ? "names no organization"
        : `names organization${named.length > 1 ? "s" : ""} ${named.join(", ")}`;
    const detail = `${who}; ${organizations}; ${ROLES_NOTE}`;
    if (organizationId !== undefined && named.length > 0 && !named.includes(organizationId.toLowerCase())) {
      return {
        result: warn(
          "userinfo",
          detail,
          `The configured organization ${organizationId} is not among those userinfo names for the user ` +
            `(${named.join(", ")}): the stream may refuse it (403). Check DOCUSIGN_ORGANIZATION_ID (--organization-id).`,
        ),
        choice,
      };
    }
    return { result: ok("userinfo", detail), choice };
  }

  /** The stream a run reads, or the configuration error that stops it (several organizations, say). */
  private async choose(): Promise<StreamChoice | Error> {
    try {
      return await chooseStream(this.config, this.grant, this.http, this.request());
    } catch (error) {
      return error as Error;
    }
  }

  /** One page from `cursor` (a run's next), then the rate-limit headroom its headers report. */
  async page(
    choice: StreamChoice,
    cursor: { readonly value: string; readonly what: string },
    reserve: number,
  ): Promise<{ stream: CheckResult; rateLimit?: CheckResult }> {
    const stream = new MonitorStream(
      { monitorUrl: choice.monitorUrl, organizationId: choice.organizationId, limit: 1 },
      this.grant,
      this.http,
    );
    let page: Awaited<ReturnType<MonitorStream["fetchPage"]>>;
    try {
      page = await stream.fetchPage(this.request(cursor.value));
    } catch (error) {
      return { stream: fail("stream", error) };
    }
    const which =
      choice.api === StreamApi.Organization
        ? `organization stream of ${choice.organizationId}`
        : "legacy lens stream";
    const events = page.events.length;
    return {
      stream: ok(
        "stream",
        `${which} at ${choice.monitorUrl}: a page of ${events} event${events === 1 ? "" : "s"} (limit 1) from ${cursor.what}; nothing stored`,
      ),
      rateLimit: headroom(page.rateLimit, reserve),
    };
  }
}

/** Whether a run now would have requests to spend before the rate-limit reserve stops it. */
export function headroom(rateLimit: RateLimitStatus | undefined, reserve: number): CheckResult {
  if (rateLimit === undefined) {
    return warn(
      "rate-limit",
      "DocuSign sent no X-RateLimit-Limit/Remaining headers: the headroom is unknown",
      "Without the headers a run cannot keep RATE_LIMIT_RESERVE free for the account's other integrations; " +
        "it stops when DocuSign answers 429.",
    );
  }
  const { limit, remaining, resetAtMs } = rateLimit;
  const floor = Math.ceil(limit * reserve);
  const reset = resetAtMs === undefined ? "" : `; the window resets at ${new Date(resetAtMs).toISOString()}`;
  const detail = `${remaining} of ${limit} requests left this hour; a run stops below ${floor} (reserve ${reserve})${reset}`;
  if (limit > 0 && remaining < limit * reserve) {
    return fail(
      "rate-limit",
      `The account's rate limit has ${remaining} of ${limit} requests left, below the ${floor} a run leaves ` +
        "to the account's other integrations, so a run now would stop at once (stoppedBy: rate-limit). Wait for " +
        `the reset${resetAtMs === undefined ? "" : ` at ${new Date(resetAtMs).toISOString()}`}, or lower ` +
        "RATE_LIMIT_RESERVE (--rate-limit-reserve) if no other integration needs that share.",
      detail,
    );
  }
  return ok("rate-limit", detail);
}

import { type KeyObject, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { jwtVerify } from "jose";
import { generateDataset } from "./dataset";
import { EventFactory, type StoredEvent } from "./event-factory";
import {
  alteredBody,
  cursorPathology,
  endPositionOf,
  type SimulatorFaults,
  type StreamRefusal,
  slowDownMs,
  streamRefusal,
  tokenLifetimeSeconds,
  tokenOutage,
  withDuplicate,
} from "./faults";
import { userInfoBody } from "./user-info";

/**
 * A local stand-in for DocuSign: the OAuth JWT grant (verifying the RS256 assertion) and both
 * Monitor stream generations, behaving as docs/monitor-api.md describes, with switchable faults.
 * Deterministic from its seed; one server answers for both the OAuth and the Monitor host. The faults
 * and how each alters an answer are in faults.ts.
 */

export type { SimulatorFaults } from "./faults";

export interface SimulatorOptions {
  /** The public half of the integration's key pair: assertions must verify with it. */
  readonly publicKey: KeyObject;
  readonly integrationKey: string;
  readonly userId: string;
  /** The organization stream answers only for this id. */
  readonly organizationId?: string;
  /**
   * The organizations `GET /oauth/userinfo` names for the user (several: an admin of several).
   * @default [organizationId] when it is set, else none (a user the lens stream serves)
   */
  readonly userInfoOrganizations?: readonly string[];
  readonly seed?: number;
  /** Backlog size. @default 5000 */
  readonly events?: number;
  /** Backlog spread over this many days. @default 3 */
  readonly days?: number;
  readonly lateShare?: number;
  readonly untimedShare?: number;
  /**
   * Plant the cases the saved Athena queries look for (planted-cases.ts) and the intruder's steps
   * (intruder-plants.ts). @default false
   */
  readonly plantCases?: boolean;
  /** The simulator's clock. @default Date.now */
  readonly now?: () => number;
  /** Requests allowed per hour (X-RateLimit-Limit). @default 3000 */
  readonly rateLimit?: number;
  /** Requests already used this hour at start. @default 0 */
  readonly rateLimitUsed?: number;
  /** Serve pages of this size whatever `limit` asks (DocuSign does not always honour it). */
  readonly pageSizeOverride?: number;
  readonly faults?: SimulatorFaults;
}

export interface SimulatorStats {
  tokenRequests: number;
  tokensIssued: number;
  streamRequests: number;
  userInfoRequests: number;
  pagesServed: number;
  faultsServed: number;
  unauthorized: number;
  lastLimit: number | undefined;
}

interface CursorState {
  readonly v: 1;
  readonly p: number;
  /** Set on the lens stream's cursors, which the organization stream refuses (docs/monitor-api.md). */
  readonly s?: "lens";
}

const DEFAULT_ORGANIZATION_ID = "7f46f1ee-828e-41d4-9d85-755fa1814fd4";

export class DocuSignSimulator {
  readonly stats: SimulatorStats = {
    tokenRequests: 0,
    tokensIssued: 0,
    streamRequests: 0,
    userInfoRequests: 0,
    pagesServed: 0,
    faultsServed: 0,
    unauthorized: 0,
    lastLimit: undefined,
  };
  /** Mutable: tests switch faults on and off between runs. */
  faults: SimulatorFaults;
  private readonly options: SimulatorOptions;
  private readonly now: () => number;
  private readonly factory: EventFactory;
  /** `raw`: the event's JSON text when it was given as text, served exactly so. */
  private readonly stored: (StoredEvent & { readonly raw?: string })[];
  private readonly tokens = new Map<string, number>();
  private publicKey: KeyObject;
  private server: Server | undefined;
  private rateUsed: number;
  private rateWindow: number;
  private previousCursor: string | undefined;

  constructor(options: SimulatorOptions) {
    this.options = options;
    this.faults = { ...options.faults };
    this.publicKey = options.publicKey;
    this.now = options.now ?? Date.now;
    const organizationStream = options.organizationId !== undefined;
    const organizationId = options.organizationId ?? DEFAULT_ORGANIZATION_ID;
    this.factory = new EventFactory(options.seed ?? 1, organizationStream, organizationId);
    this.stored = generateDataset(
      {
        seed: options.seed ?? 1,
        count: options.events ?? 5000,
        days: options.days ?? 3,
        now: this.now(),
        organizationStream,
        organizationId,
        ...(options.lateShare === undefined ? {} : { lateShare: options.lateShare }),
        ...(options.untimedShare === undefined ? {} : { untimedShare: options.untimedShare }),
        ...(options.plantCases === undefined ? {} : { plantCases: options.plantCases }),
      },
      this.factory,
    );
    this.rateUsed = options.rateLimitUsed ?? 0;
    this.rateWindow = this.hourOf(this.now());
  }

  /** The integration's key pair was replaced: assertions must now verify with this key. */
  rotateKey(publicKey: KeyObject): void {
    this.publicKey = publicKey;
  }

  /** Every access token issued so far stops working at once (revoked, or expired early). */
  revokeTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  /** Every access token issued so far (tests check that none leaks into logs). */
  issuedTokens(): string[] {
    return [...this.tokens.keys()];
  }

  /** Every event DocuSign holds so far (backlog and live), in ingestion order. */
  events(): Record<string, unknown>[] {
    return this.stored.map((s) => s.event);
  }

  /** Every event's JSON text exactly as the stream serves it, in ingestion order. */
  eventTexts(): string[] {
    return this.stored.map((s) => s.raw ?? JSON.stringify(s.event));
  }

  /** Appends `count` live events ingested now. */
  appendLive(count: number): void {
    const now = this.now();
    for (let i = 0; i < count; i++) {
      this.stored.push({ ingestedAt: now, event: this.factory.make(now - this.factory.next() * 60_000) });
    }
  }

  /**
   * Appends live events given as JSON text, served byte for byte (for example numbers beyond a double's
   * precision, or pretty-printed events that span lines).
   */
  appendRaw(texts: readonly string[]): void {
    const now = this.now();
    for (const raw of texts) {
      this.stored.push({ ingestedAt: now, event: JSON.parse(raw) as Record<string, unknown>, raw });
    }
  }

  /** Starts listening on 127.0.0.1; returns the base URL (for both OAuth and Monitor). */
  async start(port = 0): Promise<string> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.send(res, 500, { error: "simulator_failure", message: String(error) });
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => resolve());
    });
    return this.url;
  }

  get url(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (!address) throw new Error("simulator not started");
    return `http://127.0.0.1:${address.port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://simulator");
    if (req.method === "POST" && url.pathname === "/oauth/token") return this.token(req, res);
    if (req.method === "GET" && url.pathname === "/oauth/userinfo") return this.userInfo(req, res);
    if (req.method === "GET" && url.pathname === "/api/v2.0/datasets/monitor/stream") {
      return this.stream(req, res, url, "data");
    }
    const org = /^\/v1\/organizations\/([^/]+)\/stream$/.exec(url.pathname);
    if (req.method === "GET" && org) {
      if (decodeURIComponent(org[1] ?? "") !== (this.options.organizationId ?? DEFAULT_ORGANIZATION_ID)) {
        return this.send(res, 403, { error: "User is not an administrator of this organization" });
      }
      return this.stream(req, res, url, "resultData");
    }
    return this.send(res, 404, { error: "not_found", message: `${req.method} ${url.pathname}` });
  }

  private async token(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.stats.tokenRequests++;
    const form = new URLSearchParams(await readBody(req));
    if (tokenOutage(this.faults, this.stats.tokenRequests)) {
      return this.sendHtml(res, 503, "Service Unavailable");
    }
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") {
      return this.send(res, 400, { error: "unsupported_grant_type" });
    }
    const assertion = form.get("assertion") ?? "";
    try {
      const { payload } = await jwtVerify(assertion, this.publicKey, {
        algorithms: ["RS256"],
        issuer: this.options.integrationKey,
        subject: this.options.userId,
        audience: req.headers.host ?? "",
        currentDate: new Date(this.now()),
        requiredClaims: ["iat", "exp", "scope"],
      });
      const scopes = String(payload.scope).split(" ");
      if (!scopes.includes("signature") || !scopes.includes("impersonation")) {
        return this.send(res, 400, {
          error: "invalid_grant",
          error_description: "scope must include signature impersonation",
        });
      }
      if ((payload.exp ?? 0) - (payload.iat ?? 0) > 3600) {
        return this.send(res, 400, {
          error: "invalid_grant",
          error_description: "exp is more than one hour after iat",
        });
      }
    } catch (error) {
      return this.send(res, 400, { error: "invalid_grant", error_description: (error as Error).message });
    }
    if (this.faults.consentRequired) return this.send(res, 400, { error: "consent_required" });
    const lifetime = tokenLifetimeSeconds(this.faults);
    const token = randomBytes(24).toString("base64url");
    this.tokens.set(token, this.now() + lifetime * 1000);
    this.stats.tokensIssued++;
    return this.send(res, 200, { access_token: token, token_type: "Bearer", expires_in: lifetime });
  }

  private userInfo(req: IncomingMessage, res: ServerResponse): void {
    this.stats.userInfoRequests++;
    if (!this.authorized(req)) {
      this.stats.unauthorized++;
      this.send(res, 401, { error: "invalid_token", message: "The access token is missing or expired." });
      return;
    }
    const { organizationId, userInfoOrganizations } = this.options;
    const organizations = userInfoOrganizations ?? (organizationId === undefined ? [] : [organizationId]);
    this.send(res, 200, userInfoBody(this.options.userId, organizations));
  }

  private authorized(req: IncomingMessage): boolean {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
    const expires = bearer === undefined ? undefined : this.tokens.get(bearer);
    return expires !== undefined && expires > this.now();
  }

  private async stream(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    field: "data" | "resultData",
  ): Promise<void> {
    const n = ++this.stats.streamRequests;
    if (!this.authorized(req)) {
      this.stats.unauthorized++;
      return this.send(res, 401, {
        error: "invalid_token",
        message: "The access token is missing or expired.",
      });
    }
    if (!this.takeRequest()) {
      return this.send(res, 429, { error: "rate_limit_exceeded" });
    }
    const f = this.faults;
    const delay = slowDownMs(f, n);
    if (delay !== undefined) await new Promise((r) => setTimeout(r, delay));
    const refusal = streamRefusal(f, n);
    if (refusal !== undefined) return this.refuse(res, refusal);
    if (f.liveEventsPerPage) this.appendLive(f.liveEventsPerPage);

    const cursorParam = url.searchParams.get("cursor") ?? "";
    const position = this.position(cursorParam, field);
    if (position === undefined)
      return this.send(res, 400, { error: "invalid_cursor", message: "Cursor is not valid." });
    const limitParam = Number(url.searchParams.get("limit") ?? 1000);
    this.stats.lastLimit = limitParam;
    const size = this.options.pageSizeOverride ?? Math.min(Math.max(1, limitParam || 1000), 2000);
    const now = this.now();
    let end = position;
    while (end < this.stored.length && end - position < size && (this.stored[end]?.ingestedAt ?? 0) <= now)
      end++;
    const page = ++this.stats.pagesServed;
    const events = withDuplicate(
      f,
      page,
      this.stored.slice(position, end).map((s) => s.raw ?? JSON.stringify(s.event)),
    );
    const endPosition = endPositionOf(f, page, position, end);
    // Nothing new: DocuSign hands back the cursor it was sent (a date cursor becomes an opaque one).
    let endCursor =
      events.length === 0 && this.isOpaque(cursorParam) ? cursorParam : encodeCursor(endPosition, field);
    // A cycle goes back: a cursor sent before that is ahead of this one (the client's state was reset
    // behind DocuSign's last request) would make the page skip events, which no client can notice.
    const previous = this.previousCursor;
    const behind =
      previous !== undefined && (this.position(previous, field) ?? Number.POSITIVE_INFINITY) <= position;
    const pathology =
      events.length > 0 ? cursorPathology(f, page, cursorParam, behind ? previous : undefined) : undefined;
    if (pathology !== undefined) {
      this.stats.faultsServed++;
      endCursor = pathology;
    }
    this.previousCursor = cursorParam;
    // Built from each event's text, so events given as text are served exactly as given.
    const body = `{"endCursor":${JSON.stringify(endCursor)},${JSON.stringify(field)}:[${events.join(",")}]}`;
    const altered = alteredBody(f, n, field, body);
    if (altered !== undefined) this.stats.faultsServed++;
    return this.sendRaw(res, 200, "application/json", altered ?? body);
  }

  /** Answers a stream request with the refusal a fault decided on instead of a page. */
  private refuse(res: ServerResponse, refusal: StreamRefusal): void {
    if (refusal.kind === "forbidden") {
      this.send(res, 403, { error: refusal.error });
      return;
    }
    this.stats.faultsServed++;
    if (refusal.kind === "unavailable") {
      // sendHtml counts it too: a stream 503 counts twice in `faultsServed`.
      this.sendHtml(res, 503, "Service Unavailable");
      return;
    }
    if (refusal.retryAfterSeconds !== undefined)
      res.setHeader("Retry-After", String(refusal.retryAfterSeconds));
    this.send(res, 429, { error: "Too many requests" });
  }

  /**
   * Position in the stream of a cursor: opaque, ISO-8601 date-time, or empty (seven days back). The
   * organization stream (`resultData`) knows none of the lens stream's cursors.
   */
  private position(cursor: string, field: "data" | "resultData"): number | undefined {
    if (cursor === "") return this.firstIngestedFrom(this.now() - 7 * 24 * 3600 * 1000);
    const opaque = decodeCursor(cursor);
    if (opaque !== undefined) return field === "resultData" && opaque.s === "lens" ? undefined : opaque.p;
    const time = Date.parse(cursor);
    return Number.isNaN(time) ? undefined : this.firstIngestedFrom(time);
  }

  private isOpaque(cursor: string): boolean {
    return decodeCursor(cursor) !== undefined;
  }

  private firstIngestedFrom(time: number): number {
    const index = this.stored.findIndex((s) => s.ingestedAt >= time);
    return index === -1 ? this.stored.length : index;
  }

  /** Counts a request against the hourly limit; false when none is left. */
  private takeRequest(): boolean {
    const hour = this.hourOf(this.now());
    if (hour !== this.rateWindow) {
      this.rateWindow = hour;
      this.rateUsed = 0;
    }
    if (this.rateUsed >= this.limit) return false;
    this.rateUsed++;
    return true;
  }

  private get limit(): number {
    return this.options.rateLimit ?? 3000;
  }

  private hourOf(ms: number): number {
    return Math.floor(ms / 3_600_000);
  }

  private rateHeaders(res: ServerResponse): void {
    res.setHeader("X-DocuSign-TraceToken", randomUUID());
    res.setHeader("X-RateLimit-Limit", String(this.limit));
    res.setHeader("X-RateLimit-Remaining", String(Math.max(0, this.limit - this.rateUsed)));
    res.setHeader("X-RateLimit-Reset", String((this.rateWindow + 1) * 3600));
    res.setHeader("X-BurstLimit-Limit", "200");
    res.setHeader("X-BurstLimit-Remaining", "199");
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    this.sendRaw(res, status, "application/json", JSON.stringify(body));
  }

  private sendHtml(res: ServerResponse, status: number, title: string): void {
    this.stats.faultsServed++;
    this.sendRaw(
      res,
      status,
      "text/html",
      `<html><head><title>${status} ${title}</title></head><body><h1>${title}</h1><p>The server is temporarily unable to service your request.</p></body></html>`,
    );
  }

  private sendRaw(res: ServerResponse, status: number, type: string, body: string): void {
    this.rateHeaders(res);
    res.statusCode = status;
    res.setHeader("Content-Type", type);
    res.end(body);
  }
}

function encodeCursor(position: number, field: "data" | "resultData"): string {
  const state: CursorState = field === "data" ? { v: 1, p: position, s: "lens" } : { v: 1, p: position };
  return Buffer.from(JSON.stringify(state)).toString("base64url");
}

function decodeCursor(cursor: string): CursorState | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<CursorState>;
    return value.v === 1 &&
      typeof value.p === "number" &&
      Number.isInteger(value.p) &&
      value.p >= 0 &&
      (value.s === undefined || value.s === "lens")
      ? (value as CursorState)
      : undefined;
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

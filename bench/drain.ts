/**
 * Drain time of a 10,000,000-event backlog under DocuSign's documented limits (monitor-api.md: 3,000
 * requests per account per hour, reset on the hour; a burst limit of 200 requests per 30 s on demo),
 * in simulated time. monitor-lake runs through its real core and real DocuSign client (retries,
 * backoff, rate-limit headers), invoked as deployed (every 5 minutes, 5-minute timeout, the handler's
 * deadline margins), with a fake fetch that enforces the limits and a fake clock. The peers (the
 * seed example and the Sentinel connector) are modelled as the loops they are, on the same account.
 */
import { generateKeyPairSync } from "node:crypto";
import { FakeClock, MemoryStateStore } from "../dev/fakes";
import { DEFAULT_CHUNK_MAX_BYTES, DEFAULT_PAGE_LIMIT, DEFAULT_RATE_LIMIT_RESERVE } from "../lambda/config";
import type { LakeObject, ObjectSink } from "../lambda/core/ports";
import { runIngest } from "../lambda/core/run-ingest";
import { DocuSignClient } from "../lambda/docusign/docusign-client";
import { createRandom } from "../lambda/simulator/event-factory";

export const DOCUSIGN_LIMITS = { perHour: 3000, burst: 200, burstWindowMs: 30_000 } as const;
const HOUR_MS = 3_600_000;

/** Page latency assumed for DocuSign [I]: a fixed part plus a part per event served. */
export interface Latency {
  readonly label: string;
  readonly fixedMs: number;
  readonly perEventMs: number;
}
export const LATENCIES: readonly Latency[] = [
  { label: "1 s per 2000-event page", fixedMs: 300, perEventMs: 0.35 },
  { label: "0.1 s per 2000-event page", fixedMs: 60, perEventMs: 0.02 },
];

/** One account's limits, as DocuSign enforces them. Throttled (429) requests are not counted [I]. */
export class Account {
  readonly usedPerHour = new Map<number, number>();
  throttled = 0;
  private burstWindow = -1;
  private burstUsed = 0;

  request(now: number): { ok: boolean; remaining: number; resetAtMs: number; burstRemaining: number } {
    const hour = Math.floor(now / HOUR_MS);
    const window = Math.floor(now / DOCUSIGN_LIMITS.burstWindowMs);
    if (window !== this.burstWindow) {
      this.burstWindow = window;
      this.burstUsed = 0;
    }
    const used = this.usedPerHour.get(hour) ?? 0;
    const resetAtMs = (hour + 1) * HOUR_MS;
    if (used >= DOCUSIGN_LIMITS.perHour || this.burstUsed >= DOCUSIGN_LIMITS.burst) {
      this.throttled++;
      return { ok: false, remaining: DOCUSIGN_LIMITS.perHour - used, resetAtMs, burstRemaining: 0 };
    }
    this.usedPerHour.set(hour, used + 1);
    this.burstUsed++;
    return {
      ok: true,
      remaining: DOCUSIGN_LIMITS.perHour - used - 1,
      resetAtMs,
      burstRemaining: DOCUSIGN_LIMITS.burst - this.burstUsed,
    };
  }
}

export interface DrainResult {
  readonly strategy: string;
  readonly hours: number;
  readonly requests: number;
  readonly throttled: number;
  /** Fewest requests left to the account's other integrations in any clock hour of the drain. */
  readonly minLeftPerHour: number;
  readonly events: number;
}

function summarise(strategy: string, account: Account, startMs: number, endMs: number, events: number) {
  const used = [...account.usedPerHour.values()];
  return {
    strategy,
    hours: (endMs - startMs) / HOUR_MS,
    requests: used.reduce((a, b) => a + b, 0),
    throttled: account.throttled,
    minLeftPerHour: DOCUSIGN_LIMITS.perHour - Math.max(...used),
    events,
  };
}

/** Discards objects, counting them: 10 M events are not kept in memory. */
class CountingSink implements ObjectSink {
  objects = 0;
  bytes = 0;
  async put(object: LakeObject): Promise<void> {
    this.objects++;
    this.bytes += object.body.byteLength;
  }
  async fence(): Promise<void> {}
}

const START_MS = Date.UTC(2026, 0, 5, 0, 0, 0);

/** monitor-lake as deployed: the real core and DocuSign client, invoked every 5 minutes for up to 5 minutes. */
export async function drainMonitorLake(backlog: number, latency: Latency): Promise<DrainResult> {
  const clock = new FakeClock(START_MS);
  const account = new Account();
  const state = new MemoryStateStore();
  const sink = new CountingSink();
  // Minimal events, each its own text (a repeat is the same text, and would be dropped): the drain is
  // about requests and time, not bytes. Untimed, they are all filed under one day.
  const body = (start: number, n: number, endCursor: string): string => {
    const events = Array.from({ length: n }, (_, i) => `{"n":${start + i}}`).join(",");
    return `{"endCursor":"${endCursor}","data":[${events}]}`;
  };
  const fakeFetch = async (input: string | URL | Request): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : input);
    if (url.pathname === "/oauth/token") {
      clock.advance(200);
      return Response.json({ access_token: "t", token_type: "Bearer", expires_in: 3600 });
    }
    const answer = account.request(clock.now());
    const headers = {
      "X-RateLimit-Limit": String(DOCUSIGN_LIMITS.perHour),
      "X-RateLimit-Remaining": String(answer.remaining),
      "X-RateLimit-Reset": String(Math.floor(answer.resetAtMs / 1000)),
      "X-BurstLimit-Limit": String(DOCUSIGN_LIMITS.burst),
      "X-BurstLimit-Remaining": String(answer.burstRemaining),
      "X-DocuSign-TraceToken": "bench",
    };
    if (!answer.ok) {
      clock.advance(latency.fixedMs);
      return Response.json({ error: "rate_limit_exceeded" }, { status: 429, headers });
    }
    const cursor = url.searchParams.get("cursor") ?? "";
    const start = cursor.startsWith("o") ? Number(cursor.slice(1)) : 0;
    const n = Math.max(0, Math.min(Number(url.searchParams.get("limit")), backlog - start));
    clock.advance(latency.fixedMs + n * latency.perEventMs);
    return new Response(body(start, n, `o${start + n}`), { status: 200, headers });
  };
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const random = createRandom(42);
  const client = new DocuSignClient({
    oauthUrl: "https://account-d.docusign.com",
    monitorUrl: "https://lens-d.docusign.net",
    // The model serves the lens stream: chosen explicitly, so no userinfo lookup is counted.
    streamApi: "lens",
    integrationKey: "bench",
    userId: "bench",
    privateKey,
    redirectUri: "https://example.com/callback",
    limit: DEFAULT_PAGE_LIMIT,
    clock,
    fetch: fakeFetch as typeof fetch,
    sleep: async (ms) => clock.advance(ms),
    random,
  });
  // The deployed function: timeout 5 minutes on a 5-minute schedule; the handler's margins.
  const periodMs = 5 * 60_000;
  const timeoutMs = 5 * 60_000;
  const { EXIT_MARGIN_MS, FLUSH_RESERVE_MS } = await import("../lambda/handler/handler");
  let tick = START_MS;
  let invocation = 0;
  for (;;) {
    clock.ms = Math.max(clock.ms, tick);
    const summary = await runIngest(
      { source: client, sink, state, clock },
      {
        stream: "drain",
        owner: `run-${invocation++}`,
        startCursor: "o0",
        deadline: clock.now() + timeoutMs - EXIT_MARGIN_MS,
        flushReserveMs: FLUSH_RESERVE_MS,
        chunkMaxBytes: DEFAULT_CHUNK_MAX_BYTES,
        rateLimitReserve: DEFAULT_RATE_LIMIT_RESERVE,
      },
    );
    const stored = state.items.get("drain")?.totalEvents ?? 0;
    if (summary.caughtUp && stored >= backlog) {
      return summarise("monitor-lake", account, START_MS, clock.now(), stored);
    }
    while (tick <= clock.now()) tick += periodMs;
  }
}

/**
 * A peer's loop: pages of `limit` with a fixed sleep after each, continuously (the most favourable
 * reading of both: no gaps between scheduled runs). On 429 it retries `retries` times after `retrySleepMs`.
 */
export function drainPeer(
  strategy: string,
  backlog: number,
  latency: Latency,
  limit: number,
  sleepMs: number,
  retries: number,
  retrySleepMs: number,
): DrainResult {
  const account = new Account();
  let now = START_MS;
  let stored = 0;
  while (stored < backlog) {
    let attempt = 0;
    for (;;) {
      const answer = account.request(now);
      if (answer.ok) break;
      now += latency.fixedMs;
      if (++attempt > retries) throw new Error(`${strategy} gave up on a 429`);
      now += retrySleepMs;
    }
    const n = Math.min(limit, backlog - stored);
    now += latency.fixedMs + n * latency.perEventMs;
    stored += n;
    if (stored < backlog) now += sleepMs;
  }
  return summarise(strategy, account, START_MS, now, stored);
}

export async function drainComparison(backlog: number, latency: Latency): Promise<DrainResult[]> {
  return [
    await drainMonitorLake(backlog, latency),
    // DocuSign's published C# downloader example: limit 1000, 3 s sleep per page, 3 retries after 20 s on 429.
    drainPeer("seed example", backlog, latency, 1000, 3000, 3, 20_000),
    // Microsoft Sentinel's connector: limit 2000, 5 s sleep per page, stops at the first error.
    drainPeer("Sentinel connector", backlog, latency, 2000, 5000, 0, 0),
  ];
}

import { gunzipSync } from "node:zlib";
import type {
  AcquireRequest,
  Clock,
  CommitRequest,
  EventPage,
  EventSource,
  FetchPageRequest,
  IntentRequest,
  LakeObject,
  MonitorEvent,
  ObjectSink,
  RateLimitStore,
  ReceivedEvent,
  StateStore,
  StreamState,
} from "../lambda/core/ports";
import { STATE_SCHEMA, toStreamState } from "../lambda/core/state-validation";
import { DeadlineError, LeaseHeldError, LeaseLostError } from "../lambda/errors";

/** A clock the test moves; the fake source advances it per page to model time spent fetching. */
export class FakeClock implements Clock {
  constructor(public ms = Date.UTC(2024, 0, 10, 12, 0, 0)) {}
  now(): number {
    return this.ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/** An event as a source delivers it: its JSON text (as `JSON.stringify` writes it, unless given) and parsed. */
export function received(event: MonitorEvent, raw = JSON.stringify(event)): ReceivedEvent {
  return { raw, event };
}

/**
 * Counts every write to the lake and the state (puts, deletes, intents, commits) in the order they
 * happen, and makes the n-th one fail: a crash at any step.
 */
export class WriteLog {
  readonly steps: string[] = [];
  private failAt: number | undefined;

  failOn(n: number): void {
    this.failAt = this.steps.length + n;
  }

  step(what: string): void {
    this.steps.push(what);
    if (this.failAt === this.steps.length) {
      this.failAt = undefined;
      throw new Error(`injected crash at ${what}`);
    }
  }
}

/** Events in ingestion order; cursors are `c<position>`, date cursors are not supported. */
export class FakeSource implements EventSource {
  calls: FetchPageRequest[] = [];
  rateLimit: EventPage["rateLimit"];

  constructor(
    public events: (MonitorEvent | ReceivedEvent)[],
    private readonly pageSize: number,
    private readonly clock?: FakeClock,
    private readonly pageMs = 0,
  ) {}

  private failure: { readonly call: number; readonly error: Error } | undefined;

  /** The n-th fetch from now throws `error` instead of answering. */
  failOnCall(n: number, error: Error): void {
    this.failure = { call: this.calls.length + n, error };
  }

  async fetchPage(request: FetchPageRequest): Promise<EventPage> {
    this.calls.push(request);
    if (this.failure?.call === this.calls.length) throw this.failure.error;
    if (this.clock && this.pageMs > 0) {
      if (request.deadline !== undefined && this.clock.now() + this.pageMs > request.deadline) {
        this.clock.ms = request.deadline;
        throw new DeadlineError("fake fetch");
      }
      this.clock.advance(this.pageMs);
    }
    const start = request.cursor.startsWith("c") ? Number(request.cursor.slice(1)) : 0;
    const end = Math.min(this.events.length, start + this.pageSize);
    return {
      events: this.events.slice(start, end).map(asReceived),
      endCursor: end === start ? request.cursor : `c${end}`,
      ...(this.rateLimit === undefined ? {} : { rateLimit: this.rateLimit }),
    };
  }
}

function asReceived(event: MonitorEvent | ReceivedEvent): ReceivedEvent {
  return typeof event.raw === "string" && typeof event.event === "object"
    ? (event as ReceivedEvent)
    : received(event as MonitorEvent);
}

/** Pages answered per cursor sent, in order; the last answer for a cursor repeats. */
export class ScriptedSource implements EventSource {
  calls: string[] = [];
  private readonly served = new Map<string, number>();

  constructor(private readonly script: Record<string, readonly EventPage[]>) {}

  async fetchPage({ cursor }: FetchPageRequest): Promise<EventPage> {
    this.calls.push(cursor);
    const pages = this.script[cursor];
    if (!pages || pages.length === 0) return { events: [], endCursor: cursor };
    const n = this.served.get(cursor) ?? 0;
    this.served.set(cursor, n + 1);
    return pages[Math.min(n, pages.length - 1)] as EventPage;
  }
}

/** What a fenced key holds: no events, and every later put to it is refused. */
export const FENCE = new Uint8Array(0);

/**
 * Objects in memory, create-only like the S3 sink (`If-None-Match: *`): a put to a key that holds other
 * bytes fails, one that holds the same bytes succeeds; `fence` replaces what a key holds by `FENCE`.
 * `failOnPut(n)` makes the n-th put from now fail and `stallOnPut(n)` holds the n-th put until the
 * returned function is called (a run that stops mid-write).
 */
export class MemorySink implements ObjectSink {
  readonly objects = new Map<string, LakeObject>();
  puts = 0;
  fences = 0;
  /** Puts refused because the key held other content or a fence. */
  refused = 0;
  private failAt: number | undefined;
  private stall: { readonly at: number; readonly gate: Promise<void> } | undefined;

  constructor(private readonly log?: WriteLog) {}

  failOnPut(n: number): void {
    this.failAt = this.puts + n;
  }

  stallOnPut(n: number): () => void {
    let open = (): void => undefined;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    this.stall = { at: this.puts + n, gate };
    return open;
  }

  async put(object: LakeObject): Promise<void> {
    this.puts++;
    if (this.stall?.at === this.puts) await this.stall.gate;
    this.log?.step(`put ${object.key}`);
    if (this.failAt === this.puts) {
      this.failAt = undefined;
      throw new Error("injected sink failure");
    }
    const existing = this.objects.get(object.key);
    if (existing !== undefined && !Buffer.from(existing.body).equals(object.body)) {
      this.refused++;
      throw new Error(`refused: ${object.key} already holds other content or a fence`);
    }
    this.objects.set(object.key, object);
  }

  async fence(key: string): Promise<void> {
    this.fences++;
    this.log?.step(`fence ${key}`);
    this.objects.set(key, {
      key,
      body: FENCE,
      metadata: { stream: "", startCursor: "", endCursor: "", eventCount: 0, ingestedAt: "" },
    });
  }

  /** Objects that hold events (not fences). */
  stored(): LakeObject[] {
    return [...this.objects.values()].filter((o) => o.body !== FENCE);
  }

  /** Every stored event, parsed from the gzipped NDJSON objects. */
  events(): Record<string, unknown>[] {
    return this.stored().flatMap((o) => linesOf(o.body));
  }

  /** Every stored line, as text. */
  lines(): string[] {
    return this.stored().flatMap((o) => rawLinesOf(o.body));
  }
}

export function rawLinesOf(body: Uint8Array): string[] {
  return gunzipSync(body)
    .toString("utf8")
    .split("\n")
    .filter((l) => l !== "");
}

export function linesOf(body: Uint8Array): Record<string, unknown>[] {
  return rawLinesOf(body).map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface Item extends StreamState {
  owner?: string;
  leaseUntil?: number;
}

/** A state store with real lease semantics, in memory; `failOnCommit(n)` makes the n-th commit fail. */
export class MemoryStateStore implements StateStore {
  readonly items = new Map<string, Item>();
  commits = 0;
  intents = 0;
  private failAt: number | undefined;

  constructor(private readonly log?: WriteLog) {}

  failOnCommit(n: number): void {
    this.failAt = this.commits + n;
  }

  async recordIntent(request: IntentRequest): Promise<StreamState> {
    this.intents++;
    this.log?.step("intent");
    const item = this.items.get(request.stream);
    if (!item || item.owner !== request.owner || item.version !== request.expectedVersion) {
      throw new LeaseLostError(request.stream, "the lease or version changed");
    }
    const { staleKeys: _s, ...rest } = item;
    const next: Item = {
      ...rest,
      schema: STATE_SCHEMA,
      version: item.version + 1,
      pending: request.pending,
      leaseUntil: request.leaseUntil,
    };
    this.items.set(request.stream, next);
    return next;
  }

  /** Like the real stores: refuses a live lease (whoever holds it) and moves the version on (the fencing token). */
  async acquire({ stream, owner, now, leaseUntil }: AcquireRequest): Promise<StreamState> {
    const item = this.items.get(stream) ?? { version: 0, totalEvents: 0 };
    if (item.owner && (item.leaseUntil ?? 0) > now) {
      throw new LeaseHeldError(stream, item.owner, item.leaseUntil);
    }
    const next = { ...item, version: item.version + 1, owner, leaseUntil };
    this.items.set(stream, next);
    const { owner: _o, leaseUntil: _l, ...state } = next;
    // Read as the real stores read: an older schema's pending key list becomes stale keys.
    return toStreamState(state as unknown as Record<string, unknown>);
  }

  async commit(request: CommitRequest): Promise<StreamState> {
    this.commits++;
    this.log?.step("commit");
    if (this.failAt === this.commits) {
      this.failAt = undefined;
      throw new Error("injected commit failure");
    }
    const item = this.items.get(request.stream);
    if (!item || item.owner !== request.owner || item.version !== request.expectedVersion) {
      throw new LeaseLostError(request.stream, "the lease or version changed");
    }
    const next: Item = {
      cursor: request.cursor,
      version: item.version + 1,
      totalEvents: item.totalEvents + request.events,
      recentEventHashes: request.recentEventHashes,
      ...(request.newestEventTime === undefined ? {} : { newestEventTime: request.newestEventTime }),
      schema: STATE_SCHEMA,
      owner: request.owner,
      leaseUntil: request.leaseUntil,
    };
    this.items.set(request.stream, next);
    return next;
  }

  /** Owners whose release is lost, as when a process is killed (kill -9) and never releases. */
  readonly killed = new Set<string>();

  async release({ stream, owner }: { stream: string; owner: string }): Promise<void> {
    if (this.killed.has(owner)) return;
    const item = this.items.get(stream);
    if (item?.owner === owner) {
      const { owner: _o, leaseUntil: _l, ...rest } = item;
      this.items.set(stream, rest);
    }
  }
}

/** `count` events with ids `e<i>`, timestamps spread over `days` days from 2024-01-01. */
export function makeEvents(
  count: number,
  days = 3,
  extra: (i: number) => Record<string, unknown> = () => ({}),
): MonitorEvent[] {
  const start = Date.UTC(2024, 0, 1);
  const span = days * 24 * 3600 * 1000;
  return Array.from({ length: count }, (_, i) => ({
    timestamp: `${new Date(start + Math.floor((i / count) * span)).toISOString().slice(0, 23)}1234Z`,
    eventId: `e${i}`,
    object: "Envelope",
    action: "Sent",
    data: { EnvelopeId: `env-${i}`, padding: "x".repeat(100) },
    ...extra(i),
  }));
}

/** Rate-limit resets in memory, with the same only-later rule as the DynamoDB and file stores. */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly resets = new Map<string, number>();
  writes = 0;

  async resetAt(scope: string): Promise<number | undefined> {
    return this.resets.get(scope);
  }

  async holdUntil({
    scope,
    resetAtMs,
    now,
  }: {
    scope: string;
    resetAtMs: number;
    now: number;
  }): Promise<void> {
    this.writes++;
    const recorded = this.resets.get(scope);
    if (recorded !== undefined && recorded >= resetAtMs && recorded <= now + 3_600_000) return;
    this.resets.set(scope, resetAtMs);
  }
}

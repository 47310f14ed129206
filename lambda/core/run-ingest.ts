import { DeadlineError, DocuSignError, ErrorCode } from "../errors";
import { Chunk } from "./chunk";
import type { Clock, EventPage, EventSource, ObjectSink, Reporter, StateStore, StreamState } from "./ports";

/** Why a run ended as planned. */
export const StoppedBy = {
  CaughtUp: "caught-up",
  Budget: "budget",
  RateLimit: "rate-limit",
} as const;
export type StoppedBy = (typeof StoppedBy)[keyof typeof StoppedBy];

/** The run summary: printed by the CLI (`--json`), returned and logged by the Lambda. */
export interface RunSummary {
  readonly stream: string;
  /** Events stored by this run (duplicates within a chunk dropped). */
  readonly events: number;
  readonly pages: number;
  readonly objects: number;
  /** Gzipped bytes written. */
  readonly bytes: number;
  /** The committed cursor the next run resumes from. */
  readonly cursor: string;
  readonly caughtUp: boolean;
  readonly stoppedBy: StoppedBy;
  readonly durationMs: number;
  /** The cursor this run started from. */
  readonly startCursor: string;
  /** UTC days (`dt` partitions) this run wrote to. */
  readonly days: readonly string[];
  readonly duplicatesDropped: number;
  /** Events kept under the ingestion day because their timestamp could not be parsed. */
  readonly untimedEvents: number;
  /** The newest event timestamp the stream has stored (ISO-8601), if any. */
  readonly newestEventTime?: string;
}

export interface IngestPorts {
  readonly source: EventSource;
  readonly sink: ObjectSink;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly reporter?: Reporter;
}

export interface IngestOptions {
  /** The stream's id: names its state and its objects. */
  readonly stream: string;
  /** Unique id of this run, the lease owner. */
  readonly owner: string;
  /** Where a stream with no committed cursor starts: a cursor or an ISO-8601 date-time. @default seven days ago */
  readonly startCursor?: string;
  /** Epoch ms by which the run must have finished, commit included. @default none: run until caught up */
  readonly deadline?: number;
  /** Time kept free before the deadline for the last flush and commit. */
  readonly flushReserveMs: number;
  /** A chunk is written and committed once it buffers this many bytes of NDJSON. Bounds memory. */
  readonly chunkMaxBytes: number;
  /** Largest NDJSON size of one object before it is split into parts. @default chunkMaxBytes */
  readonly partMaxBytes?: number;
  /** Stop when `X-RateLimit-Remaining` falls below this share of `X-RateLimit-Limit` (0..1). */
  readonly rateLimitReserve: number;
  /** How long the lease lasts when the run has no deadline; renewed by every commit. @default 15 minutes */
  readonly leaseMs?: number;
  /** Stops the run as if its deadline had come (Ctrl-C). */
  readonly signal?: AbortSignal;
}

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
/**
 * How many of the last stored event ids are kept with the cursor. DocuSign may deliver an event twice
 * (monitor-api.md); a repeat within this window is dropped even across chunks and runs, an older one
 * is left to the Athena view `events_dedup`. 1,000 ids are about 37 KB of state.
 */
export const RECENT_EVENT_IDS = 1000;
const DEFAULT_LEASE_MS = 15 * 60 * 1000;

/**
 * One ingest run: take the lease, page through the stream from the committed cursor, write each
 * chunk's objects, and only then commit the cursor to the chunk's end. Stops when caught up, when the
 * deadline nears, or when the rate-limit reserve is reached; on a failure, commits what was stored
 * and rethrows.
 */
export async function runIngest(ports: IngestPorts, options: IngestOptions): Promise<RunSummary> {
  const { source, sink, state, clock, reporter } = ports;
  const { stream, owner } = options;
  const started = clock.now();
  const leaseUntil = (now: number): number =>
    options.deadline === undefined ? now + (options.leaseMs ?? DEFAULT_LEASE_MS) : options.deadline;

  let current: StreamState = await state.acquire({
    stream,
    owner,
    now: started,
    leaseUntil: leaseUntil(started),
  });
  // A fixed start (rather than an omitted cursor) keeps the first chunk's key a pure function of its input.
  const startCursor =
    current.cursor ??
    options.startCursor ??
    new Date(started - SEVEN_DAYS_MS).toISOString().replace(/\.\d+Z$/, "Z");

  const totals = { events: 0, pages: 0, objects: 0, bytes: 0, duplicates: 0, untimed: 0 };
  const days = new Set<string>();
  let cursor = startCursor;
  let chunk = new Chunk(cursor, current.recentEventIds ?? []);
  let newestMs = parseMs(current.newestEventTime);
  let stoppedBy: StoppedBy | undefined;
  let failure: unknown;
  let slowestPageMs = 0;
  const fetchDeadline =
    options.deadline === undefined ? undefined : options.deadline - options.flushReserveMs;

  const flushAndCommit = async (): Promise<void> => {
    if (chunk.events === 0 && cursor === chunk.startCursor) return;
    const now = clock.now();
    const objects = await chunk.toObjects(
      stream,
      cursor,
      new Date(now).toISOString(),
      options.partMaxBytes ?? options.chunkMaxBytes,
    );
    // Every object must be durable before the cursor moves past its events (invariant 1).
    await Promise.all(objects.map((object) => sink.put(object, options.signal)));
    newestMs = maxDefined(newestMs, chunk.newestEventMs);
    const committedAt = clock.now();
    current = await state.commit({
      stream,
      owner,
      expectedVersion: current.version,
      cursor,
      ...(newestMs === undefined ? {} : { newestEventTime: new Date(newestMs).toISOString() }),
      events: chunk.events,
      recentEventIds: chunk.recentIds(RECENT_EVENT_IDS),
      now: committedAt,
      leaseUntil: leaseUntil(committedAt),
    });
    const bytes = objects.reduce((sum, o) => sum + o.body.byteLength, 0);
    totals.events += chunk.events;
    totals.objects += objects.length;
    totals.bytes += bytes;
    totals.duplicates += chunk.duplicatesDropped;
    totals.untimed += chunk.untimedEvents;
    for (const day of chunk.days()) days.add(day);
    reporter?.committed?.({ stream, keys: objects.map((o) => o.key), events: chunk.events, bytes, cursor });
    chunk = new Chunk(cursor, current.recentEventIds ?? []);
  };

  try {
    for (;;) {
      if (options.signal?.aborted) {
        stoppedBy = StoppedBy.Budget;
        break;
      }
      // Do not start a page that the slowest page so far says cannot finish in time.
      if (fetchDeadline !== undefined && clock.now() + slowestPageMs >= fetchDeadline) {
        stoppedBy = StoppedBy.Budget;
        break;
      }
      const sent = cursor;
      const fetchStarted = clock.now();
      let page: EventPage;
      try {
        page = await source.fetchPage({
          cursor: sent,
          ...(fetchDeadline === undefined ? {} : { deadline: fetchDeadline }),
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
      } catch (error) {
        if (error instanceof DeadlineError) stoppedBy = StoppedBy.Budget;
        else if (error instanceof DocuSignError && error.code === ErrorCode.RateLimited) {
          stoppedBy = StoppedBy.RateLimit;
        } else failure = error;
        break;
      }
      slowestPageMs = Math.max(slowestPageMs, clock.now() - fetchStarted);
      totals.pages++;
      const ingestMs = clock.now();
      for (const event of page.events) chunk.add(event, ingestMs);
      cursor = page.endCursor;
      const newest = maxDefined(newestMs, chunk.newestEventMs);
      reporter?.page?.({
        stream,
        pages: totals.pages,
        pageEvents: page.events.length,
        events: totals.events + chunk.events,
        ...(newest === undefined ? {} : { newestEventMs: newest }),
        now: ingestMs,
        ...(page.rateLimit === undefined ? {} : { rateLimit: page.rateLimit }),
      });
      if (chunk.bytes >= options.chunkMaxBytes) await flushAndCommit();
      // Caught up: DocuSign returns the cursor we sent, or (with a fresh cursor) an empty page.
      if (page.events.length === 0 || page.endCursor === sent) {
        stoppedBy = StoppedBy.CaughtUp;
        break;
      }
      const rl = page.rateLimit;
      if (rl !== undefined && rl.limit > 0 && rl.remaining < rl.limit * options.rateLimitReserve) {
        stoppedBy = StoppedBy.RateLimit;
        break;
      }
    }
    // Whatever ended the loop, what was fetched is stored and committed before reporting.
    await flushAndCommit();
  } catch (error) {
    await state.release({ stream, owner }).catch(() => undefined);
    throw error;
  }
  await state.release({ stream, owner });
  if (failure !== undefined) throw failure;

  return {
    stream,
    events: totals.events,
    pages: totals.pages,
    objects: totals.objects,
    bytes: totals.bytes,
    cursor,
    caughtUp: stoppedBy === StoppedBy.CaughtUp,
    stoppedBy: stoppedBy ?? StoppedBy.Budget,
    durationMs: clock.now() - started,
    startCursor,
    days: [...days].sort(),
    duplicatesDropped: totals.duplicates,
    untimedEvents: totals.untimed,
    ...(newestMs === undefined ? {} : { newestEventTime: new Date(newestMs).toISOString() }),
  };
}

function parseMs(iso: string | undefined): number | undefined {
  if (iso === undefined) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms;
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

import { describeError } from "../errors";
import { addPage } from "./add-page";
import { Chunk } from "./chunk";
import { eventTime } from "./event-time";
import type { IngestOptions, IngestPorts, RunSummary } from "./ingest-types";
import { chunkId } from "./object-key";
import type { ChunkObserver, Clock, EventPage, StreamState } from "./ports";
import { activeReset, resetToRecord } from "./rate-limit-window";
import { settleEach } from "./settle-all";
import { StaleKeys } from "./stale-keys";

/**
 * The steps of one ingest run between its fetches, and what they keep: a page accepted into the chunk
 * (through a backfill's window), the chunk written and committed with its intent (design steps 7-8),
 * the cursor, the state's version and the totals; and the rate-limit reset read before the first
 * request and recorded after the last commit. `runIngest` (run-ingest.ts) drives them.
 */

/**
 * How many of the last stored events the id window remembers with the cursor, as the `eventHash` of
 * their exact text: twice the largest page DocuSign serves (`limit` up to 2,000), so that a page
 * repeated whole (the same cursor answered again, or a cycle that spans runs) is dropped whole.
 * DocuSign may deliver an event twice (monitor-api.md); a repeat of the same text within this window
 * is dropped even across chunks and runs, with or without an `eventId`, an older one is left to the
 * Athena view `events_dedup`. The hashes are of fixed size (event-text.ts): 4,000 take about 110 KB of
 * the state's 400 KB DynamoDB item, beside at most 8 KiB per cursor and the intent, a few bytes per
 * day of its chunk (`encodeParts`).
 */
export const RECENT_EVENTS = 4000;
/**
 * A chunk with this many objects (days x parts) after a page is flushed, so that the objects of one
 * commit stay few. One page may still bring more (a page spans as many days as it has events); the
 * intent names them by day, a few bytes each, whatever their number.
 */
export const MAX_CHUNK_OBJECTS = 256;
/** Objects of a chunk written at once: a chunk over thousands of days holds the requests of this many. */
export const PUT_CONCURRENCY = 32;
const DEFAULT_LEASE_MS = 15 * 60 * 1000;

/** What the run stored and committed, for its summary. */
export type StoredTotals = Pick<
  RunSummary,
  "events" | "objects" | "bytes" | "days" | "duplicatesDropped" | "untimedEvents" | "futureEvents"
> & { readonly newestEventTime: string | undefined; readonly notAdvancing: boolean };

export class IngestSteps {
  private current: StreamState;
  private cursorNow: string;
  private chunk: Chunk;
  private chunkOpenedAt: number;
  private newestMs: number | undefined;
  /** Keys of failed attempts, fenced before writing. */
  private readonly stale: StaleKeys;
  private readonly totals = {
    events: 0,
    objects: 0,
    bytes: 0,
    duplicates: 0,
    untimed: 0,
    future: 0,
  };
  private notAdvancing = false;
  private readonly days = new Set<string>();

  /**
   * @param acquired the state the lease returned
   * @param startCursor the cursor the run starts from (the committed one, or where a new stream starts)
   * @param started the run's start (`clock.now()`)
   * @param startedMono the same instant on the monotonic clock (`monotonic`)
   */
  constructor(
    private readonly ports: IngestPorts,
    private readonly options: IngestOptions,
    acquired: StreamState,
    startCursor: string,
    started: number,
    startedMono: number,
  ) {
    this.current = acquired;
    this.cursorNow = startCursor;
    this.chunk = this.newChunk();
    this.chunkOpenedAt = startedMono;
    // The same range rules as an event's own time: a far-future value stored before they existed never pins the lag.
    this.newestMs = eventTime({ timestamp: acquired.newestEventTime }, started);
    this.stale = new StaleKeys(options.stream, acquired);
  }

  /** The cursor the next commit records: the end of the last page accepted (before any, the start cursor). */
  get cursor(): string {
    return this.cursorNow;
  }

  dispose(): void {
    this.chunk.dispose();
  }

  /** The recorded reset of the stream's scope, while it is ahead (rate-limit-window.ts). */
  async heldReset(): Promise<number | undefined> {
    const { rateLimits, clock } = this.ports;
    const scope = this.options.rateLimitScope;
    if (rateLimits === undefined || scope === undefined) return undefined;
    return activeReset(await rateLimits.resetAt(scope), clock.now());
  }

  /** Every key a failed attempt may have written, fenced before this run writes anything. */
  async fenceStale(): Promise<void> {
    await this.stale.fenceAll(this.ports.sink);
  }

  /** Adds a page's events to the chunk and moves the cursor to its end; `pages` counts this one. */
  async accept(page: EventPage, cursorSent: string, pages: number): Promise<void> {
    const { clock, reporter } = this.ports;
    const { stream } = this.options;
    const ingestMs = clock.now();
    const window = this.options.window;
    const events = window === undefined ? page.events : page.events.filter((e) => window.keep(e, ingestMs));
    const accepted = await addPage(this.chunk, events, ingestMs);
    if (page.events.length > 0 && accepted.length === 0 && page.endCursor === cursorSent) {
      this.notAdvancing = true;
      reporter?.warning?.(
        `Stream "${stream}" is not advancing: DocuSign answered cursor ${cursorSent} with ${page.events.length} events ` +
          "already stored and the same cursor again, so every run fetches them again and stores nothing new. " +
          "Nothing is lost or stored twice; report the cursor to DocuSign support if it persists.",
      );
    }
    this.cursorNow = page.endCursor;
    this.observe((o) => o.accepted(accepted));
    const newest = maxDefined(this.newestMs, this.chunk.newestEventMs);
    reporter?.page?.({
      stream,
      pages,
      pageEvents: page.events.length,
      events: this.totals.events + this.chunk.events,
      ...(newest === undefined ? {} : { newestEventMs: newest }),
      now: ingestMs,
      ...(page.rateLimit === undefined ? {} : { rateLimit: page.rateLimit }),
    });
  }

  /** Whether the chunk is to be committed now: big, of many objects, or `maxAgeMs` old. */
  chunkDue(maxAgeMs: number): boolean {
    return (
      this.chunk.bytes >= this.options.chunkMaxBytes ||
      this.chunk.objectCount >= MAX_CHUNK_OBJECTS ||
      monotonic(this.ports.clock) - this.chunkOpenedAt >= maxAgeMs
    );
  }

  /** Design steps 7, 7b and 8 for the current chunk. */
  async flushAndCommit(): Promise<void> {
    const { sink, state, clock, reporter } = this.ports;
    const { stream, owner } = this.options;
    const stateKey = this.options.window?.stateKey ?? stream;
    const chunk = this.chunk;
    if (chunk.events === 0 && this.cursorNow === chunk.startCursor && !this.stale.dirty) {
      // Nothing to commit, but what was dropped is still reported.
      this.totals.duplicates += chunk.duplicatesDropped;
      chunk.duplicatesDropped = 0;
      return;
    }
    const now = clock.now();
    // The intent moves the state to this version; the keys carry it, so they are this attempt's alone.
    const version = this.current.version + 1;
    const objects = await chunk.finish(stream, version, this.cursorNow, new Date(now).toISOString(), owner);
    if (objects.length > 0) {
      this.current = await state.recordIntent({
        stream: stateKey,
        owner,
        expectedVersion: this.current.version,
        pending: {
          owner,
          startCursor: chunk.startCursor,
          endCursor: this.cursorNow,
          chunk: chunkId(chunk.startCursor, version, owner),
          parts: chunk.intentParts(),
        },
        now,
        leaseUntil: leaseUntil(this.options, now),
      });
      // Every object must be durable before the cursor moves past its events (invariant 1).
      // Settle every put started before failing, so that the run stops only once its writes are over;
      // a write that lands later anyway finds its key fenced by the next run and is refused. At most
      // PUT_CONCURRENCY at a time: a chunk over thousands of days holds that many requests, not all.
      await settleEach(objects, PUT_CONCURRENCY, (object) => sink.put(object));
    }
    this.newestMs = maxDefined(this.newestMs, chunk.newestEventMs);
    const committedAt = clock.now();
    this.current = await state.commit({
      stream: stateKey,
      owner,
      expectedVersion: this.current.version,
      cursor: this.cursorNow,
      ...(this.newestMs === undefined ? {} : { newestEventTime: new Date(this.newestMs).toISOString() }),
      events: chunk.events,
      recentEventHashes: chunk.recentHashes(RECENT_EVENTS),
      now: committedAt,
      leaseUntil: leaseUntil(this.options, committedAt),
    });
    this.stale.dirty = false;
    this.observe((o) => o.committed());
    const bytes = objects.reduce((sum, o) => sum + o.body.byteLength, 0);
    const t = this.totals;
    t.events += chunk.events;
    t.objects += objects.length;
    t.bytes += bytes;
    t.duplicates += chunk.duplicatesDropped;
    t.untimed += chunk.untimedEvents;
    t.future += chunk.futureEvents;
    for (const day of chunk.days()) this.days.add(day);
    reporter?.committed?.({
      stream,
      keys: objects.map((o) => o.key),
      events: chunk.events,
      bytes,
      cursor: this.cursorNow,
    });
    this.chunk = this.newChunk();
    this.chunkOpenedAt = monotonic(clock);
  }

  /**
   * Commits `cursor` once everything is stored: a backfill's restart (`IngestWindow.restartCursor`),
   * never past unstored data.
   */
  async restartAt(cursor: string): Promise<void> {
    this.cursorNow = cursor;
    await this.flushAndCommit();
  }

  /**
   * Records the reset for the scope's next runs and returns it (undefined when there is nothing to wait
   * for). Everything is committed by now: a record that cannot be written is a warning (the next run
   * then asks once and learns the window again), not a failure.
   */
  async recordReset(resetAtMs: number | undefined): Promise<number | undefined> {
    const { rateLimits, clock, reporter } = this.ports;
    const now = clock.now();
    const reset = resetToRecord(resetAtMs, now);
    if (reset === undefined) return undefined;
    const scope = this.options.rateLimitScope;
    if (rateLimits === undefined || scope === undefined) return reset;
    try {
      await rateLimits.holdUntil({ scope, resetAtMs: reset, now });
    } catch (error) {
      reporter?.warning?.(
        `the rate-limit reset ${new Date(reset).toISOString()} could not be recorded (${describeError(error)}): ` +
          "the next run sends one request to learn the window again",
      );
    }
    return reset;
  }

  stored(): StoredTotals {
    const t = this.totals;
    return {
      events: t.events,
      objects: t.objects,
      bytes: t.bytes,
      days: [...this.days].sort(),
      duplicatesDropped: t.duplicates,
      untimedEvents: t.untimed,
      futureEvents: t.future,
      newestEventTime: this.newestMs === undefined ? undefined : new Date(this.newestMs).toISOString(),
      notAdvancing: this.notAdvancing,
    };
  }

  /** Ingestion first: the observer's failure is a warning, never the run's. */
  private observe(call: (observer: ChunkObserver) => void): void {
    const observer = this.ports.observer;
    if (observer === undefined) return;
    try {
      call(observer);
    } catch (error) {
      const why = error instanceof Error ? error.message : "it threw a value that is not an Error";
      this.ports.reporter?.warning?.(`the chunk observer (detections) failed: ${why}`);
    }
  }

  private newChunk(): Chunk {
    return new Chunk(
      this.cursorNow,
      this.current.recentEventHashes ?? [],
      this.options.partMaxBytes ?? this.options.chunkMaxBytes,
    );
  }
}

/** The lease's end: the run's deadline, or `leaseMs` from `now` for a run without one. */
export function leaseUntil(options: IngestOptions, now: number): number {
  return options.deadline === undefined ? now + (options.leaseMs ?? DEFAULT_LEASE_MS) : options.deadline;
}

/** The monotonic clock where there is one: ages, durations and budgets are measured on it. */
export function monotonic(clock: Clock): number {
  return clock.monotonic?.() ?? clock.now();
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

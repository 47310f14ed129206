import { DeadlineError, DocuSignError, ErrorCode } from "../errors";
import { addPage } from "./add-page";
import { Chunk } from "./chunk";
import { CursorTrail } from "./cursor-checks";
import { eventTime } from "./event-time";
import { chunkId } from "./object-key";
import type {
  ChunkObserver,
  Clock,
  EventPage,
  EventSource,
  ObjectSink,
  RateLimitStore,
  ReceivedEvent,
  Reporter,
  StateStore,
  StreamState,
} from "./ports";
import { activeReset, reserveReached, resetToRecord } from "./rate-limit-window";
import { settleEach } from "./settle-all";
import { StaleKeys } from "./stale-keys";

/** Why a run ended as planned. */
export const StoppedBy = {
  CaughtUp: "caught-up",
  Budget: "budget",
  RateLimit: "rate-limit",
  /** The caller's `signal` stopped it (the CLI's Ctrl-C or SIGTERM). */
  Signal: "signal",
  /** A backfill: the stream's events are past the window's end (`IngestWindow.passed`). */
  WindowEnd: "window-end",
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
  /** Exact repeats dropped: events whose text (CR and LF removed) the id window held (`RECENT_EVENTS`). */
  readonly duplicatesDropped: number;
  /**
   * "Untimed" events stored: no usable timestamp (missing, not a string, unreadable, before 1970 or from
   * 2100 on), filed under the fixed day UNTIMED_DAY (1970-01-01), which Athena reads through
   * `events_lines_untimed` and `events_dedup`.
   */
  readonly untimedEvents: number;
  /**
   * Events stored whose timestamp is more than a day after the ingest clock: filed under their own
   * day like any other (so a later delivery lands beside them), which Athena's tables read once that
   * day has come; never the stream's newest event time.
   */
  readonly futureEvents: number;
  /** The newest event timestamp the stream has stored (ISO-8601), if any. */
  readonly newestEventTime?: string;
  /**
   * Present (true) when DocuSign answered the cursor sent with events that were all stored already and
   * the same cursor again: the stream cannot advance (the run also warns, the Lambda counts the
   * `StreamNotAdvancing` metric).
   */
  readonly notAdvancing?: true;
  /**
   * When the run stopped for DocuSign's rate limit (or found it held): the reset (ISO-8601) before
   * which no run of the stream, nor of another stream of its integration key and account, sends a
   * request. Absent when no reset is known.
   */
  readonly rateLimitResetAt?: string;
}

export interface IngestPorts {
  readonly source: EventSource;
  readonly sink: ObjectSink;
  readonly state: StateStore;
  readonly clock: Clock;
  readonly reporter?: Reporter;
  /** Told what each chunk accepted and when it commits (detections). @default none */
  readonly observer?: ChunkObserver;
  /**
   * Where the rate-limit window's reset is kept for `IngestOptions.rateLimitScope`. @default none: each
   * run learns the window from its own first answer
   */
  readonly rateLimits?: RateLimitStore;
}

export interface IngestOptions {
  /** The stream's id: names its state and its objects. */
  readonly stream: string;
  /**
   * Unique id of this run instance, the lease owner; it names the run's objects. Never reuse one, not
   * even for a second delivery of the same invocation.
   */
  readonly owner: string;
  /** Where a stream with no committed cursor starts: a cursor or an ISO-8601 date-time. @default seven days ago */
  readonly startCursor?: string;
  /** Epoch ms by which the run must have finished, commit included. @default none: run until caught up */
  readonly deadline?: number;
  /** Time kept free before the deadline for the last flush and commit. */
  readonly flushReserveMs: number;
  /** A chunk is written and committed once it stands for this many bytes of NDJSON. */
  readonly chunkMaxBytes: number;
  /**
   * A chunk is also written and committed once it is this old (checked after every page), so that a
   * crash loses at most this much work. @default 60 seconds
   */
  readonly chunkMaxAgeMs?: number;
  /** Largest NDJSON size of one object before it is split into parts. @default chunkMaxBytes */
  readonly partMaxBytes?: number;
  /**
   * Stop once `X-RateLimit-Remaining` is down to this share of `X-RateLimit-Limit` (0..1), and send no
   * request until the window resets (`rateLimits`).
   */
  readonly rateLimitReserve: number;
  /**
   * The stream's integration key and account (`rateLimitScope`): streams of one scope share DocuSign's
   * rate limit, and so the reset recorded in `rateLimits`. @default none: no reset is kept
   */
  readonly rateLimitScope?: string;
  /** How long the lease lasts when the run has no deadline; renewed by every commit. @default 15 minutes */
  readonly leaseMs?: number;
  /** Stops the run as if its deadline had come (Ctrl-C), with `stoppedBy: "signal"`. */
  readonly signal?: AbortSignal;
  /** A backfill's window (core/backfill.ts): its own state record, which events it stores, when it ends. @default none */
  readonly window?: IngestWindow;
}

/**
 * What makes a run a backfill: the same lease, fencing, intent and commit as a stream run, under its
 * own state record, storing only the events `keep` accepts, until `passed`.
 */
export interface IngestWindow {
  /** The state record's id (its cursor, lease and fencing token), never a stream's; objects keep the stream's name. */
  readonly stateKey: string;
  /** After the lease is taken and a failed attempt's keys are fenced, before the first page. */
  prepare(): Promise<void>;
  /** Whether the event is stored (inside the window and not in the lake yet). */
  keep(event: ReceivedEvent, ingestMs: number): boolean;
  /** True when no later page can hold an event of the window. */
  passed(page: EventPage, ingestMs: number): boolean;
  /**
   * The cursor committed once the window is done (`stoppedBy` window-end, or caught up after the
   * window's end): the next run of the same backfill starts over and re-checks the whole window.
   * Undefined: the run did not finish the window, the next one resumes from the committed cursor.
   */
  restartCursor(stoppedBy: StoppedBy | undefined, now: number): string | undefined;
}

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
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
/** @see IngestOptions.chunkMaxAgeMs */
export const DEFAULT_CHUNK_MAX_AGE_MS = 60_000;
/**
 * Shortest bound on one page's fetch (its retries and backoff included): a page may take the chunk's
 * maximum age, but no less than this, so that a commit is never far away whatever DocuSign does.
 */
export const MIN_PAGE_BOUND_MS = 30_000;
const DEFAULT_LEASE_MS = 15 * 60 * 1000;

/**
 * One ingest run: take the lease, clear what a failed attempt left, page through the stream from the
 * committed cursor, and per chunk record its intent, write its objects and only then commit the cursor
 * to the chunk's end (design steps 5-8). Stops when caught up, when the deadline nears, or when the
 * rate-limit reserve is reached; on a failure, commits what was stored, releases the lease and rethrows.
 */
export async function runIngest(ports: IngestPorts, options: IngestOptions): Promise<RunSummary> {
  const { state, clock } = ports;
  const { owner } = options;
  // The state record: the stream's own, or a backfill's (objects carry the stream's name either way).
  const stream = options.window?.stateKey ?? options.stream;
  const started = clock.now();
  const current = await state.acquire({
    stream,
    owner,
    now: started,
    leaseUntil: leaseUntil(options, started),
  });
  // From here on the lease is ours: every path releases it.
  const run = new IngestRun(ports, options, current, started);
  try {
    const summary = await run.execute();
    // Everything is committed: a lease that cannot be given back expires by itself, so the run still
    // succeeds, and says so.
    await state.release({ stream, owner }).catch((error: unknown) => {
      ports.reporter?.warning?.(`the lease of stream ${stream} was not released: ${errorText(error)}`);
    });
    return summary;
  } catch (error) {
    run.dispose();
    await state.release({ stream, owner }).catch(() => undefined);
    throw error;
  }
}

function leaseUntil(options: IngestOptions, now: number): number {
  return options.deadline === undefined ? now + (options.leaseMs ?? DEFAULT_LEASE_MS) : options.deadline;
}

class IngestRun {
  private current: StreamState;
  private readonly startCursor: string;
  private cursor: string;
  private chunk: Chunk;
  private chunkOpenedAt: number;
  private newestMs: number | undefined;
  /** Keys of failed attempts, fenced before writing. */
  private readonly stale: StaleKeys;
  private readonly totals = {
    events: 0,
    pages: 0,
    objects: 0,
    bytes: 0,
    duplicates: 0,
    untimed: 0,
    future: 0,
  };
  private notAdvancing = false;
  private readonly days = new Set<string>();
  /** The rate-limit reset this run waited for or recorded (epoch ms). */
  private rateLimitResetMs: number | undefined;

  constructor(
    private readonly ports: IngestPorts,
    private readonly options: IngestOptions,
    acquired: StreamState,
    private readonly started: number,
    /** `monotonic()` when the run started: ages, durations and budgets are measured on it. */
    private readonly startedMono = monotonic(ports.clock),
  ) {
    this.current = acquired;
    this.startCursor =
      acquired.cursor ??
      options.startCursor ??
      new Date(started - SEVEN_DAYS_MS).toISOString().replace(/\.\d+Z$/, "Z");
    this.cursor = this.startCursor;
    this.chunk = this.newChunk();
    this.chunkOpenedAt = this.startedMono;
    // The same range rules as an event's own time: a far-future value stored before they existed never pins the lag.
    this.newestMs = eventTime({ timestamp: acquired.newestEventTime }, started);
    this.stale = new StaleKeys(options.stream, acquired);
  }

  dispose(): void {
    this.chunk.dispose();
  }

  async execute(): Promise<RunSummary> {
    const { source, clock } = this.ports;
    const options = this.options;
    const { stream } = options;
    const trail = new CursorTrail(stream, this.startCursor);
    // The reserve was reached in this window (by this stream or another of its account): not one request
    // until the reset, and nothing else touched.
    const held = await this.heldReset();
    if (held !== undefined) {
      this.rateLimitResetMs = held;
      return this.summary(StoppedBy.RateLimit);
    }
    // Storage is never aborted (invariant 4 cuts fetches only): a stop must still be able to commit.
    await this.stale.fenceAll(this.ports.sink);
    // After the fencing: what a failed attempt left is not in the lake, so its events are stored again.
    await options.window?.prepare();
    let stoppedBy: StoppedBy | undefined;
    let failure: unknown;
    /** The reset DocuSign named when the run reached the reserve or was refused with a 429. */
    let resetAtMs: number | undefined;
    let slowestPageMs = 0;
    const fetchDeadline =
      options.deadline === undefined ? undefined : options.deadline - options.flushReserveMs;
    // The same instant on the monotonic clock, which a wall-clock step does not move.
    const fetchDeadlineMono =
      fetchDeadline === undefined ? undefined : fetchDeadline - this.started + this.startedMono;
    const maxAgeMs = options.chunkMaxAgeMs ?? DEFAULT_CHUNK_MAX_AGE_MS;
    const pageBoundMs = Math.max(maxAgeMs, MIN_PAGE_BOUND_MS);
    const mono = (): number => monotonic(clock);

    for (;;) {
      if (options.signal?.aborted) {
        stoppedBy = StoppedBy.Signal;
        break;
      }
      // Do not start a page that the slowest page so far says cannot finish in time.
      if (fetchDeadlineMono !== undefined && mono() + slowestPageMs >= fetchDeadlineMono) {
        stoppedBy = StoppedBy.Budget;
        break;
      }
      const cursorSent = this.cursor;
      const fetchStarted = mono();
      // One page (its retries included) may take pageBoundMs at most: a commit is never far away.
      const pageDeadline = Math.min(fetchDeadline ?? Number.POSITIVE_INFINITY, clock.now() + pageBoundMs);
      let page: EventPage;
      try {
        page = await source.fetchPage({
          cursor: cursorSent,
          deadline: pageDeadline,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
      } catch (error) {
        if (error instanceof DeadlineError) {
          stoppedBy = options.signal?.aborted ? StoppedBy.Signal : StoppedBy.Budget;
        } else if (error instanceof DocuSignError && error.code === ErrorCode.RateLimited) {
          stoppedBy = StoppedBy.RateLimit;
          if (error.retryAfterMs !== undefined) resetAtMs = clock.now() + error.retryAfterMs;
        } else failure = error;
        break;
      }
      slowestPageMs = Math.max(slowestPageMs, mono() - fetchStarted);
      this.totals.pages++;
      const endCursor = page.endCursor;
      try {
        trail.follow(endCursor, cursorSent, this.totals.pages);
      } catch (error) {
        // The page is not stored: the cursor stays where it was, before anything this page returned.
        failure = error;
        break;
      }
      await this.accept(page, cursorSent);
      // Caught up or not, a run that reached the reserve keeps the later runs of the window from asking.
      const atReserve = reserveReached(page.rateLimit, options.rateLimitReserve);
      if (atReserve) resetAtMs = page.rateLimit?.resetAtMs;
      if (
        this.chunk.bytes >= options.chunkMaxBytes ||
        this.chunk.objectCount >= MAX_CHUNK_OBJECTS ||
        mono() - this.chunkOpenedAt >= maxAgeMs
      ) {
        await this.flushAndCommit();
      }
      // Caught up: DocuSign returns the cursor we sent, or (with a fresh cursor) an empty page.
      if (page.events.length === 0 || endCursor === cursorSent) {
        stoppedBy = StoppedBy.CaughtUp;
        break;
      }
      if (options.window?.passed(page, clock.now())) {
        stoppedBy = StoppedBy.WindowEnd;
        break;
      }
      if (atReserve) {
        stoppedBy = StoppedBy.RateLimit;
        break;
      }
    }
    // Whatever ended the loop, what was fetched is stored and committed before reporting.
    try {
      await this.flushAndCommit();
    } catch (flushError) {
      // Both matter: the storage error says what was not committed, the first one why the run stopped.
      if (failure !== undefined && flushError instanceof Error) {
        flushError.message += ` (the run had already stopped on: ${errorText(failure)})`;
      }
      throw flushError;
    }
    if (failure !== undefined) throw failure;
    await this.recordReset(resetAtMs);
    const restart = options.window?.restartCursor(stoppedBy, clock.now());
    if (restart !== undefined) {
      // The window is done and stored: the cursor goes back to its start (never past unstored data).
      this.cursor = restart;
      await this.flushAndCommit();
    }

    return this.summary(stoppedBy);
  }

  /** The recorded reset of the stream's scope, while it is ahead (rate-limit-window.ts). */
  private async heldReset(): Promise<number | undefined> {
    const { rateLimits, clock } = this.ports;
    const scope = this.options.rateLimitScope;
    if (rateLimits === undefined || scope === undefined) return undefined;
    return activeReset(await rateLimits.resetAt(scope), clock.now());
  }

  /**
   * Records the reset for the scope's next runs. Everything is committed by now: a record that cannot be
   * written is a warning (the next run then asks once and learns the window again), not a failure.
   */
  private async recordReset(resetAtMs: number | undefined): Promise<void> {
    const { rateLimits, clock, reporter } = this.ports;
    const now = clock.now();
    const reset = resetToRecord(resetAtMs, now);
    if (reset === undefined) return;
    this.rateLimitResetMs = reset;
    const scope = this.options.rateLimitScope;
    if (rateLimits === undefined || scope === undefined) return;
    try {
      await rateLimits.holdUntil({ scope, resetAtMs: reset, now });
    } catch (error) {
      reporter?.warning?.(
        `the rate-limit reset ${new Date(reset).toISOString()} could not be recorded (${errorText(error)}): ` +
          "the next run sends one request to learn the window again",
      );
    }
  }

  /** Adds a page's events to the chunk and moves the cursor to its end. */
  private async accept(page: EventPage, cursorSent: string): Promise<void> {
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
    this.cursor = page.endCursor;
    this.observe((o) => o.accepted(accepted));
    const newest = maxDefined(this.newestMs, this.chunk.newestEventMs);
    reporter?.page?.({
      stream,
      pages: this.totals.pages,
      pageEvents: page.events.length,
      events: this.totals.events + this.chunk.events,
      ...(newest === undefined ? {} : { newestEventMs: newest }),
      now: ingestMs,
      ...(page.rateLimit === undefined ? {} : { rateLimit: page.rateLimit }),
    });
  }

  private summary(stoppedBy: StoppedBy | undefined): RunSummary {
    const t = this.totals;
    return {
      stream: this.options.stream,
      events: t.events,
      pages: t.pages,
      objects: t.objects,
      bytes: t.bytes,
      cursor: this.cursor,
      caughtUp: stoppedBy === StoppedBy.CaughtUp,
      stoppedBy: stoppedBy ?? StoppedBy.Budget,
      durationMs: monotonic(this.ports.clock) - this.startedMono,
      startCursor: this.startCursor,
      days: [...this.days].sort(),
      duplicatesDropped: t.duplicates,
      untimedEvents: t.untimed,
      futureEvents: t.future,
      ...(this.newestMs === undefined ? {} : { newestEventTime: new Date(this.newestMs).toISOString() }),
      ...(this.notAdvancing ? { notAdvancing: true as const } : {}),
      ...(this.rateLimitResetMs === undefined
        ? {}
        : { rateLimitResetAt: new Date(this.rateLimitResetMs).toISOString() }),
    };
  }

  /** Design steps 7, 7b and 8 for the current chunk. */
  private async flushAndCommit(): Promise<void> {
    const { sink, state, clock, reporter } = this.ports;
    const { stream, owner } = this.options;
    const stateKey = this.options.window?.stateKey ?? stream;
    const chunk = this.chunk;
    if (chunk.events === 0 && this.cursor === chunk.startCursor && !this.stale.dirty) {
      // Nothing to commit, but what was dropped is still reported.
      this.totals.duplicates += chunk.duplicatesDropped;
      chunk.duplicatesDropped = 0;
      return;
    }
    const now = clock.now();
    // The intent moves the state to this version; the keys carry it, so they are this attempt's alone.
    const version = this.current.version + 1;
    const objects = await chunk.finish(stream, version, this.cursor, new Date(now).toISOString(), owner);
    if (objects.length > 0) {
      this.current = await state.recordIntent({
        stream: stateKey,
        owner,
        expectedVersion: this.current.version,
        pending: {
          owner,
          startCursor: chunk.startCursor,
          endCursor: this.cursor,
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
      cursor: this.cursor,
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
      cursor: this.cursor,
    });
    this.chunk = this.newChunk();
    this.chunkOpenedAt = monotonic(clock);
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
      this.cursor,
      this.current.recentEventHashes ?? [],
      this.options.partMaxBytes ?? this.options.chunkMaxBytes,
    );
  }
}

function monotonic(clock: Clock): number {
  return clock.monotonic?.() ?? clock.now();
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function maxDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.max(a, b);
}

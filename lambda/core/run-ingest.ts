import { DeadlineError, DocuSignError, describeError, ErrorCode, StateInvalidError } from "../errors";
import { CursorTrail } from "./cursor-checks";
import { IngestSteps, leaseUntil, monotonic } from "./ingest-steps";
import { type IngestOptions, type IngestPorts, type RunSummary, StoppedBy } from "./ingest-types";
import type { EventPage, StreamState } from "./ports";
import { reserveReached } from "./rate-limit-window";
import { nothingCommitted } from "./state-validation";

// What callers import with `runIngest`: its contract, and the constants of its steps.
export { MAX_CHUNK_OBJECTS, PUT_CONCURRENCY, RECENT_EVENTS } from "./ingest-steps";
export type { IngestOptions, IngestPorts, IngestWindow, RunSummary } from "./ingest-types";
export { StoppedBy } from "./ingest-types";

const SEVEN_DAYS_MS = 7 * 24 * 3600 * 1000;
/** @see IngestOptions.chunkMaxAgeMs */
export const DEFAULT_CHUNK_MAX_AGE_MS = 60_000;
/**
 * Shortest bound on one page's fetch (its retries and backoff included): a page may take the chunk's
 * maximum age, but no less than this, so that a commit is never far away whatever DocuSign does.
 */
export const MIN_PAGE_BOUND_MS = 30_000;

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
    await refuseLostState(ports, options, current);
    const summary = await run.execute();
    // Everything is committed: a lease that cannot be given back expires by itself, so the run still
    // succeeds, and says so.
    await state.release({ stream, owner }).catch((error: unknown) => {
      ports.reporter?.warning?.(`the lease of stream ${stream} was not released: ${describeError(error)}`);
    });
    return summary;
  } catch (error) {
    run.dispose();
    await state.release({ stream, owner }).catch(() => undefined);
    throw error;
  }
}

/**
 * A stream with nothing committed (no cursor, no intent, no stale keys) starts at its start cursor. If
 * the lake already holds events of it, its state was deleted or lost (or a run frozen before it read
 * the state woke after the deletion): starting again would read and store the whole stream a second
 * time, and `recover` would then refuse the new state as valid. Refused before any page, nothing changed.
 * A state `recover` wrote is accepted; a backfill keeps its own state record and never asks.
 */
async function refuseLostState(
  ports: IngestPorts,
  options: IngestOptions,
  state: StreamState,
): Promise<void> {
  if (options.window !== undefined || ports.lake === undefined) return;
  if (!nothingCommitted(state)) return;
  // Written by recover (it records the id window, even empty): it found no cursor it could resume from
  // (objects without provenance), so the stream is read again from its start, as it documents.
  if (state.recentEventHashes !== undefined) return;
  if (!(await ports.lake.holdsEvents(options.stream))) return;
  throw new StateInvalidError(
    `Stream "${options.stream}" has no committed cursor, but the lake holds events of it: its state was ` +
      "deleted or lost. Nothing was read from DocuSign and nothing was changed. Rebuild the state from the " +
      `lake: ${ports.lake.recoverCommand(options.stream)} (then the next run resumes after the newest chunk ` +
      "the lake proves stored). Starting the stream again at its start cursor would store every event a " +
      "second time.",
  );
}

class IngestRun {
  private readonly startCursor: string;
  private readonly steps: IngestSteps;
  private pages = 0;

  constructor(
    private readonly ports: IngestPorts,
    private readonly options: IngestOptions,
    acquired: StreamState,
    private readonly started: number,
    /** `monotonic()` when the run started: ages, durations and budgets are measured on it. */
    private readonly startedMono = monotonic(ports.clock),
  ) {
    this.startCursor =
      acquired.cursor ??
      options.startCursor ??
      new Date(started - SEVEN_DAYS_MS).toISOString().replace(/\.\d+Z$/, "Z");
    this.steps = new IngestSteps(ports, options, acquired, this.startCursor, started, startedMono);
  }

  dispose(): void {
    this.steps.dispose();
  }

  async execute(): Promise<RunSummary> {
    const { source, clock } = this.ports;
    const options = this.options;
    const { stream } = options;
    const steps = this.steps;
    const trail = new CursorTrail(stream, this.startCursor);
    // The reserve was reached in this window (by this stream or another of its account): not one request
    // until the reset, and nothing else touched.
    const held = await steps.heldReset();
    if (held !== undefined) return this.summary(StoppedBy.RateLimit, held);
    // Storage is never aborted (invariant 4 cuts fetches only): a stop must still be able to commit.
    await steps.fenceStale();
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
      const cursorSent = steps.cursor;
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
      this.pages++;
      const endCursor = page.endCursor;
      try {
        trail.follow(endCursor, cursorSent, this.pages);
      } catch (error) {
        // The page is not stored: the cursor stays where it was, before anything this page returned.
        failure = error;
        break;
      }
      await steps.accept(page, cursorSent, this.pages);
      // Caught up or not, a run that reached the reserve keeps the later runs of the window from asking.
      const atReserve = reserveReached(page.rateLimit, options.rateLimitReserve);
      if (atReserve) resetAtMs = page.rateLimit?.resetAtMs;
      if (steps.chunkDue(maxAgeMs)) await steps.flushAndCommit();
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
      await steps.flushAndCommit();
    } catch (flushError) {
      // Both matter: the storage error says what was not committed, the first one why the run stopped.
      if (failure !== undefined && flushError instanceof Error) {
        flushError.message += ` (the run had already stopped on: ${describeError(failure)})`;
      }
      throw flushError;
    }
    if (failure !== undefined) throw failure;
    const recordedReset = await steps.recordReset(resetAtMs);
    const restart = options.window?.restartCursor(stoppedBy, clock.now());
    // The window is done and stored: the cursor goes back to its start (never past unstored data).
    if (restart !== undefined) await steps.restartAt(restart);

    return this.summary(stoppedBy, recordedReset);
  }

  /** `rateLimitResetMs`: the rate-limit reset this run waited for or recorded (epoch ms). */
  private summary(stoppedBy: StoppedBy | undefined, rateLimitResetMs: number | undefined): RunSummary {
    const t = this.steps.stored();
    return {
      stream: this.options.stream,
      events: t.events,
      pages: this.pages,
      objects: t.objects,
      bytes: t.bytes,
      cursor: this.steps.cursor,
      caughtUp: stoppedBy === StoppedBy.CaughtUp,
      stoppedBy: stoppedBy ?? StoppedBy.Budget,
      durationMs: monotonic(this.ports.clock) - this.startedMono,
      startCursor: this.startCursor,
      days: t.days,
      duplicatesDropped: t.duplicatesDropped,
      untimedEvents: t.untimedEvents,
      futureEvents: t.futureEvents,
      ...(t.newestEventTime === undefined ? {} : { newestEventTime: t.newestEventTime }),
      ...(t.notAdvancing ? { notAdvancing: true as const } : {}),
      ...(rateLimitResetMs === undefined
        ? {}
        : { rateLimitResetAt: new Date(rateLimitResetMs).toISOString() }),
    };
  }
}

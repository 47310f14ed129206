import { createHash } from "node:crypto";
import { eventHash, storedLine } from "./event-text";
import { eventTime, utcDay } from "./event-time";
import type { EventPage, LakeReader, ReceivedEvent } from "./ports";
import {
  type IngestOptions,
  type IngestPorts,
  type IngestWindow,
  type RunSummary,
  runIngest,
  StoppedBy,
} from "./run-ingest";

/**
 * A backfill: the events of a stream whose own time falls in a window, fetched again and stored only
 * when the lake does not hold them yet. It is a run of the ingest core (the same lease, fencing, intent
 * and commit) under its own state record, so it resumes from its own committed cursor after a crash,
 * and its objects carry the stream's name in the stream's `events/dt=` days.
 */

/**
 * DocuSign pages follow ingestion order, which lags an event's own timestamp by up to about five
 * minutes (monitor-api.md): once a page holds only events this far past the window's end, no later
 * page can hold an event of the window. Twelve times the documented lag, for a few more pages.
 */
export const WINDOW_END_MARGIN_MS = 60 * 60_000;

const DAY_MS = 24 * 3600 * 1000;

/** What a lake reader's error says about a backfill's reads of the lake (each adapter adds its own fix). */
export const BACKFILL_READS_LAKE =
  "A backfill reads the objects of the days it covers to store only the events missing from them; nothing was stored.";

/** What a backfill reports beside the run summary. */
export interface BackfillReport {
  /** The window, ISO-8601 UTC: events with `from <= timestamp < to`. */
  readonly from: string;
  readonly to: string;
  /** The backfill's state record (`<stream>~backfill-<hash of the window>`): its cursor, lease and fencing. */
  readonly stateKey: string;
  /** The window was read to its end: the next run of the same backfill starts over at `from`. */
  readonly complete: boolean;
  /** The `dt` days whose objects of the stream were read before the first page. */
  readonly days: readonly string[];
  /** Events of those days the lake held at the start (distinct exact texts). */
  readonly inLake: number;
  /** Events fetched and not stored because the lake holds them already. */
  readonly alreadyInLake: number;
  /** Events fetched and not stored because their own time is outside the window, or unreadable. */
  readonly outsideWindow: number;
}

export interface BackfillSummary extends RunSummary {
  readonly backfill: BackfillReport;
}

/** A backfill's ports: the lake is read for the window's days (a backfill keeps its own state, so never asks `holdsEvents`). */
export interface BackfillPorts extends Omit<IngestPorts, "lake"> {
  readonly lake: Pick<LakeReader, "lines">;
}

export interface BackfillOptions extends Omit<IngestOptions, "startCursor" | "window"> {
  /** The window's start and end, epoch ms; `from < to`. */
  readonly fromMs: number;
  readonly toMs: number;
}

/** A time as DocuSign takes it for a cursor: `2024-01-01T00:00:00Z` (milliseconds only when set). */
export function isoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * The state record of the backfill of `stream` over one window: `<stream>~backfill-<hash>`. `~` is
 * outside the alphabet of stream ids, so it never names a stream, and each window has its own record.
 */
export function backfillStateKey(stream: string, fromMs: number, toMs: number): string {
  const window = createHash("sha256")
    .update(`${isoTime(fromMs)}\n${isoTime(toMs)}`)
    .digest("hex");
  return `${stream}~backfill-${window.slice(0, 12)}`;
}

/** The `dt` days an event of the window can be filed under: the UTC days from `from` to just before `to`. */
export function windowDays(fromMs: number, toMs: number): string[] {
  const days: string[] = [];
  for (let ms = fromMs - (((fromMs % DAY_MS) + DAY_MS) % DAY_MS); ms < toMs; ms += DAY_MS) {
    days.push(utcDay(ms));
  }
  return days;
}

/** One backfill of `stream` over the window: a run of the ingest core that stores only what is missing. */
export async function runBackfill(ports: BackfillPorts, options: BackfillOptions): Promise<BackfillSummary> {
  const { fromMs, toMs, ...ingest } = options;
  if (!(fromMs < toMs)) throw new RangeError(`the backfill window is empty: ${fromMs} is not before ${toMs}`);
  const { lake, ...ingestPorts } = ports;
  const window = new BackfillWindow(lake, options.stream, fromMs, toMs);
  const summary = await runIngest(ingestPorts, { ...ingest, startCursor: isoTime(fromMs), window });
  return { ...summary, backfill: window.report() };
}

class BackfillWindow implements IngestWindow {
  readonly stateKey: string;
  /** The `eventHash` of each event the lake holds in the window's days: a text stored is not stored again. */
  private readonly texts = new Set<string>();
  private readonly days: string[];
  private inLake = 0;
  private alreadyInLake = 0;
  private outsideWindow = 0;
  private complete = false;

  constructor(
    private readonly lake: Pick<LakeReader, "lines">,
    private readonly stream: string,
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {
    this.stateKey = backfillStateKey(stream, fromMs, toMs);
    this.days = windowDays(fromMs, toMs);
  }

  async prepare(): Promise<void> {
    for (const day of this.days) {
      for await (const line of this.lake.lines(this.stream, day)) {
        if (line !== "" && this.remember(line)) this.inLake++;
      }
    }
  }

  keep(received: ReceivedEvent, ingestMs: number): boolean {
    const time = eventTime(received.event, ingestMs);
    if (time === undefined || time < this.fromMs || time >= this.toMs) {
      this.outsideWindow++;
      return false;
    }
    // The line as the chunk stores it: an event is in the lake when its exact text is, whatever its id.
    if (this.remember(storedLine(received.raw))) return true;
    this.alreadyInLake++;
    return false;
  }

  passed(page: EventPage, ingestMs: number): boolean {
    let timed = 0;
    for (const { event } of page.events) {
      const time = eventTime(event, ingestMs);
      if (time === undefined) continue;
      if (time < this.toMs + WINDOW_END_MARGIN_MS) return false;
      timed++;
    }
    return timed > 0;
  }

  restartCursor(stoppedBy: StoppedBy | undefined, now: number): string | undefined {
    // Caught up counts as done only once DocuSign has had time to ingest the window's last events.
    this.complete =
      stoppedBy === StoppedBy.WindowEnd ||
      (stoppedBy === StoppedBy.CaughtUp && now >= this.toMs + WINDOW_END_MARGIN_MS);
    return this.complete ? isoTime(this.fromMs) : undefined;
  }

  report(): BackfillReport {
    return {
      from: isoTime(this.fromMs),
      to: isoTime(this.toMs),
      stateKey: this.stateKey,
      complete: this.complete,
      days: this.days,
      inLake: this.inLake,
      alreadyInLake: this.alreadyInLake,
      outsideWindow: this.outsideWindow,
    };
  }

  /** Adds the event to what the lake holds; false when it was there already. */
  private remember(line: string): boolean {
    const hash = eventHash(line);
    if (this.texts.has(hash)) return false;
    this.texts.add(hash);
    return true;
  }
}

import { eventHash, storedLine } from "./event-text";
import { MAX_FUTURE_SKEW_MS, timedEventMs, UNTIMED_DAY, utcDay } from "./event-time";
import type { MonitorEvent, ReceivedEvent } from "./ports";

const DAY_MS = 24 * 3600 * 1000;

/** An event `admit` took: its day and its one-line text, to be `place`d in its day's part. */
export interface Admitted {
  readonly event: MonitorEvent;
  readonly day: string;
  readonly line: string;
  /** UTF-8 bytes of `line`. */
  readonly size: number;
}

/**
 * A chunk's door: drops an event whose exact text was stored recently (the window passed in, or
 * earlier in this chunk) and finds the day of each event it takes.
 */
export class Admission {
  private readonly seen: Set<string>;
  /** Text hashes in arrival order: the previous chunk's recent ones, then this chunk's. */
  private readonly hashes: string[];
  private lastDay = "";
  private lastDayStartMs = Number.NaN;
  /** Exact repeats dropped: texts stored recently (the window passed in, or earlier in this chunk). */
  duplicatesDropped = 0;
  /** Untimed events (event-time.ts, timedEventMs), filed under UNTIMED_DAY. */
  untimedEvents = 0;
  /** Events stamped more than a day after their ingestion: filed under their own day, never the newest time. */
  futureEvents = 0;
  newestEventMs: number | undefined;

  /**
   * `recentHashes`: the `eventHash` of the events stored just before this chunk; DocuSign may repeat
   * them at its start.
   */
  constructor(recentHashes: readonly string[]) {
    this.hashes = [...recentHashes];
    this.seen = new Set(recentHashes);
  }

  /** The `eventHash` of the newest events stored before and in this chunk, oldest first: at most `maxCount`. */
  recentHashes(maxCount: number): string[] {
    return this.hashes.slice(Math.max(0, this.hashes.length - maxCount));
  }

  /**
   * Takes an event unless its exact text (its stored line) was already stored recently, whatever its
   * `eventId` says, and finds its day; `place` then files it. Between the two a caller may order a page's events by day (`addPage`).
   */
  admit(received: ReceivedEvent, ingestMs: number): Admitted | undefined {
    const { event, raw } = received;
    // One line, one event, whatever the source: CR and LF can only be whitespace in JSON text.
    const line = storedLine(raw);
    // A repeat is the same text: an id reused with other text is another event, kept as sent, and an
    // event without an id (or with an empty or non-string one) repeated is dropped like any other.
    const hash = eventHash(line);
    if (this.seen.has(hash)) {
      this.duplicatesDropped++;
      return undefined;
    }
    this.seen.add(hash);
    this.hashes.push(hash);
    // The day is the event's own (event-time.ts, eventDay); the ingest clock only keeps a time stamped
    // ahead from becoming the stream's newest event time.
    const time = timedEventMs(event);
    if (time === undefined) this.untimedEvents++;
    else if (time > ingestMs + MAX_FUTURE_SKEW_MS) this.futureEvents++;
    else if (this.newestEventMs === undefined || time > this.newestEventMs) this.newestEventMs = time;
    const day = time === undefined ? UNTIMED_DAY : this.dayOf(time);
    return { event, day, line, size: Buffer.byteLength(line) };
  }

  /** `utcDay` (event-time.ts, dayOfTime, for a timed event), remembered for the last day seen: a page's events mostly share one (a UTC day is 86,400,000 ms). */
  private dayOf(epochMs: number): string {
    const since = epochMs - this.lastDayStartMs;
    if (since >= 0 && since < DAY_MS) return this.lastDay;
    const day = utcDay(epochMs);
    this.lastDay = day;
    this.lastDayStartMs = epochMs - (((epochMs % DAY_MS) + DAY_MS) % DAY_MS);
    return day;
  }
}

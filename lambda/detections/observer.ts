/**
 * Detections as the ingest core's chunk observer: the events a chunk accepted are matched at once (the
 * events are in memory then), the matches wait, and only when the chunk commits are they handed on to
 * be logged and counted. A chunk that never commits (the run died, its page is fetched again by the
 * next run) hands nothing on, so every stored event is counted once, as the lake stores it once.
 *
 * Ingestion first: a failure to match one event or to report a batch is handed to `onError` and the
 * rest goes on; the core also reports anything that still escapes as a warning, never as the run's error.
 */
import type { ChunkObserver, MonitorEvent } from "../core/ports";
import { fieldText, type Matcher, type MatchFields, matchFields, type RecentIds } from "./match";
import type { Rule } from "./rules";

/** A match waiting for (or handed on at) its chunk's commit. */
export interface MatchRecord {
  readonly rule: Rule;
  readonly fields: MatchFields;
}

/** One failure of the detections: which event (if known) and what went wrong. */
export interface DetectionFailure {
  /** `match`: testing one event; `report`: handing a committed batch on (log, metric). */
  readonly stage: "match" | "report";
  /** The event's id as text ("" when unknown or not a string). */
  readonly eventId: string;
  readonly message: string;
}

export interface DetectionObserverOptions {
  readonly matcher: Matcher;
  /**
   * Ids of matched events already committed (the Lambda keeps one per stream while warm): a repeat that
   * DocuSign sends after the core's own window of recent ids is matched once. @default none
   */
  readonly seen?: RecentIds;
  /** The matches of a chunk that committed, in event order. */
  readonly onCommitted: (matches: readonly MatchRecord[]) => void;
  readonly onError: (failure: DetectionFailure) => void;
}

export function createDetectionObserver(options: DetectionObserverOptions): ChunkObserver {
  const { matcher, seen } = options;
  let pending: MatchRecord[] = [];
  let pendingIds: string[] = [];
  const fail = (stage: DetectionFailure["stage"], eventId: string, error: unknown): void => {
    const message =
      error instanceof Error ? `${error.name}: ${error.message}` : "a value that is not an Error";
    try {
      options.onError({ stage, eventId, message });
    } catch {
      // The error report failed too (its logger): nothing left to tell, and ingestion goes on.
    }
  };
  return {
    accepted(events: readonly MonitorEvent[]): void {
      for (const event of events) {
        try {
          const id = event.eventId;
          const known = typeof id === "string" && id !== "";
          if (known && seen?.has(id)) continue;
          const matches = matcher.match(event);
          for (const m of matches) pending.push({ rule: m.rule, fields: matchFields(m) });
          if (known && matches.length > 0) pendingIds.push(id);
        } catch (error) {
          fail("match", fieldText(event?.eventId), error);
        }
      }
    },
    committed(): void {
      const batch = pending;
      const ids = pendingIds;
      pending = [];
      pendingIds = [];
      for (const id of ids) seen?.add(id);
      if (batch.length === 0) return;
      try {
        options.onCommitted(batch);
      } catch (error) {
        fail("report", batch[0]?.fields.eventId ?? "", error);
      }
    },
  };
}

import type { EventFactory, StoredEvent } from "./event-factory";
import { plantedEvents } from "./planted-cases";

export interface DatasetOptions {
  /** Same seed, same events. */
  readonly seed: number;
  readonly count: number;
  /** Events are spread over this many days before `now`. */
  readonly days: number;
  readonly now: number;
  /** `true`: current-generation fields (isUserMemberOfDomain, flattened location, proxy...). */
  readonly organizationStream: boolean;
  readonly organizationId: string;
  /** Share of events whose own timestamp is hours older than their ingestion. @default 0.01 */
  readonly lateShare?: number;
  /** Share of events with a timestamp that is not a date. @default 0 */
  readonly untimedShare?: number;
  /**
   * Plant the cases the saved Athena queries look for (planted-cases.ts) and the intruder's steps
   * (intruder-plants.ts), within `count`. @default false
   */
  readonly plantCases?: boolean;
}

/**
 * The backlog DocuSign holds: `count` events over `days` days before `now`, in ingestion order. Each
 * event's own timestamp lags its ingestion by up to five minutes (so pages are not sorted by
 * timestamp), and a `lateShare` of them by hours (late events landing in an earlier day).
 */
export function generateDataset(options: DatasetOptions, factory: EventFactory): StoredEvent[] {
  const span = options.days * 24 * 3600 * 1000;
  const start = options.now - span;
  // Planted cases are part of `count`, so that the backlog has the size asked for.
  const planted = options.plantCases ? plantedEvents(options.now, factory) : [];
  const background = Math.max(0, options.count - planted.length);
  const events: StoredEvent[] = [];
  for (let i = 0; i < background; i++) {
    const ingestedAt = Math.floor(start + ((i + factory.next()) / background) * span);
    const late = factory.chance(options.lateShare ?? 0.01);
    const lagMs = late ? 3600_000 * (1 + factory.next() * 30) : factory.next() * 5 * 60_000;
    const untimed = factory.chance(options.untimedShare ?? 0);
    events.push({ ingestedAt, event: factory.make(ingestedAt - lagMs, untimed ? "" : undefined) });
  }
  if (planted.length > 0) {
    events.push(...planted);
    events.sort((a, b) => a.ingestedAt - b.ingestedAt); // stable: the background keeps its order
  }
  return events;
}

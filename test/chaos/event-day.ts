import * as eventTimeRules from "../../lambda/core/event-time";
import type { MonitorEvent } from "../../lambda/core/ports";

/**
 * The `dt` days the product may file an event under, from the product's own functions (never a copy of
 * its rule). When `lambda/core/event-time.ts` exports `eventDay` (the day as a function of the event's
 * text alone, issue 16 item 8), that is the only day. Until then the day is `utcDay(eventTime(event,
 * ingestMs) ?? ingestMs)` (lambda/core/chunk.ts): an untimed event's day is its ingestion day, any day
 * the scenario's clocks showed while it ran (`ingestDays`).
 */
export function expectedDays(text: string, ingestWindow: IngestWindow): readonly string[] {
  let event: MonitorEvent;
  try {
    event = JSON.parse(text) as MonitorEvent;
  } catch {
    return [];
  }
  const textOnly = (eventTimeRules as unknown as { eventDay?: (event: MonitorEvent) => string }).eventDay;
  if (typeof textOnly === "function") return [textOnly(event)];
  const days = new Set<string>();
  for (const ingestMs of [ingestWindow.fromMs, ingestWindow.toMs]) {
    const time = eventTimeRules.eventTime(event, ingestMs);
    if (time !== undefined) days.add(eventTimeRules.utcDay(time));
    else for (const day of ingestDays(ingestWindow)) days.add(day);
  }
  return [...days];
}

/** The wall-clock range (epoch ms) the scenario's runs saw: skew and clock steps included. */
export interface IngestWindow {
  readonly fromMs: number;
  readonly toMs: number;
}

const DAY_MS = 24 * 3600 * 1000;

function ingestDays(window: IngestWindow): string[] {
  const days: string[] = [];
  for (let t = window.fromMs - (window.fromMs % DAY_MS); t <= window.toMs; t += DAY_MS) {
    days.push(eventTimeRules.utcDay(t));
  }
  return days;
}

/** Widens a window to include `ms`. */
export function widen(window: { fromMs: number; toMs: number }, ms: number): void {
  window.fromMs = Math.min(window.fromMs, ms);
  window.toMs = Math.max(window.toMs, ms);
}

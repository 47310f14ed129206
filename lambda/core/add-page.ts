import type { Admitted } from "./admission";
import type { Chunk } from "./chunk";
import type { MonitorEvent, ReceivedEvent } from "./ports";

/**
 * Adds a page's events to the chunk day by day, and compresses them. Events are admitted in arrival
 * order (repeats dropped as they come), then filed one day at a time, each day's events in arrival
 * order, so that a day's part is opened at most once per page however the page interleaves its days:
 * a page of 2,000 events whose days cycle over 33 days, one event each, otherwise opened and sealed a
 * part per event (2,000 objects, each with its gzip state) once more days were open than
 * `MAX_OPEN_PARTS`. Days already open take their events first, so a day the previous page left open is
 * never sealed only to be opened again. Returns the events added, in arrival order.
 */
export async function addPage(
  chunk: Chunk,
  events: readonly ReceivedEvent[],
  ingestMs: number,
): Promise<MonitorEvent[]> {
  const accepted: MonitorEvent[] = [];
  const byDay = new Map<string, Admitted[]>();
  for (const received of events) {
    const admitted = chunk.admit(received, ingestMs);
    if (admitted === undefined) continue;
    accepted.push(admitted.event);
    const group = byDay.get(admitted.day);
    if (group === undefined) byDay.set(admitted.day, [admitted]);
    else group.push(admitted);
  }
  // A stable sort: open days first, each side in the order the page first named it.
  const days = [...byDay.keys()].sort((a, b) => Number(chunk.isOpen(b)) - Number(chunk.isOpen(a)));
  for (const day of days) {
    for (const admitted of byDay.get(day) ?? []) {
      chunk.place(admitted);
      // Sealed streams still ending hold zlib state: let them end before sealing more.
      if (chunk.mustRelieve) await chunk.relieve();
    }
  }
  await chunk.compress();
  return accepted;
}

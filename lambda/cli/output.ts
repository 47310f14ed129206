import { UNTIMED_DAY } from "../core/event-time";
import type { PageReport, Reporter } from "../core/ports";
import type { DocuSignClientEvent } from "../docusign/docusign-client";
import type { LocalRunSummary } from "./run";

/** How far behind `now` an instant is, for people: "2d 4h", "3m 10s". */
export function formatLag(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s % 60}s`;
  return `${s}s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/**
 * One line per page: events, pages, how far behind now the newest event is, and how many of the
 * page's events were duplicates the run dropped (so that `+2001 events` next to 2000 more stored adds up).
 */
export function progressReporter(write: (line: string) => void): Reporter {
  let accepted = 0;
  return {
    page(p: PageReport): void {
      const behind =
        p.newestEventMs === undefined
          ? "no events yet"
          : `newest event ${formatLag(p.now - p.newestEventMs)} behind now`;
      const rate = p.rateLimit ? `, rate limit ${p.rateLimit.remaining}/${p.rateLimit.limit} left` : "";
      const dropped = p.pageEvents - (p.events - accepted);
      accepted = p.events;
      const duplicates = dropped > 0 ? `, ${dropped} duplicate${dropped === 1 ? "" : "s"} dropped` : "";
      write(`page ${p.pages}: +${p.pageEvents} events (${p.events} this run${duplicates}), ${behind}${rate}`);
    },
    committed(c): void {
      write(
        `  stored ${c.events} events in ${c.keys.length} object(s), ${formatBytes(c.bytes)}; cursor committed`,
      );
    },
    warning(message: string): void {
      write(`warning: ${message}`);
    },
  };
}

export function clientEventLine(event: DocuSignClientEvent): string | undefined {
  if (event.type === "retry")
    return `  ${event.request}: ${event.reason}; retrying in ${(event.delayMs / 1000).toFixed(1)} s`;
  if (event.type === "auth-failure") return `  ${event.reason}`;
  if (event.type === "stream-api") return `  stream: ${event.reason}`;
  return undefined;
}

/** The human summary of a run (or a backfill: the same lines and one more about its window). */
export function summaryLines(s: LocalRunSummary): string[] {
  const seconds = s.durationMs / 1000;
  const b = s.backfill;
  const ended =
    s.stoppedBy === "caught-up"
      ? "Caught up"
      : s.stoppedBy === "window-end"
        ? "Window done"
        : `Stopped (${s.stoppedBy})`;
  return [
    `${b === undefined ? "" : "Backfill: "}${ended}: ${s.events} events in ${s.pages} pages, ` +
      `${s.objects} objects over ${s.days.length} day(s), ${formatBytes(s.bytes)} gzipped, ${seconds.toFixed(1)} s` +
      (seconds > 0 ? ` (${Math.round(s.events / seconds)} events/s)` : ""),
    ...(b === undefined
      ? []
      : [
          `  window ${b.from} to ${b.to}: ${s.events} events missing from the lake stored, ${b.alreadyInLake} already ` +
            `there skipped, ${b.outsideWindow} outside the window skipped (${b.inLake} events of the stream in ${b.days.length} day(s) at the start)`,
        ]),
    `  duplicates dropped: ${s.duplicatesDropped}, untimed events (no usable timestamp, under dt=${UNTIMED_DAY}): ${s.untimedEvents}, ` +
      `stamped over a day ahead: ${s.futureEvents}, retries: ${s.retries}, throttled: ${s.throttled}`,
    `  lake: ${s.out}/events/  (state: ${s.state})` +
      (s.streamApi === undefined ? "" : `, read from the ${s.streamApi} stream API`),
    b !== undefined
      ? b.complete
        ? "  the window is complete; running the same backfill again re-checks it from its start and stores only what is missing"
        : "  run the same backfill again to continue from its committed cursor"
      : s.caughtUp
        ? "  the next run continues from the committed cursor"
        : "  run again to continue from the committed cursor",
  ];
}

import { mkdirSync, renameSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import { objectKey } from "../lambda/core/object-key";
import { EventFactory } from "../lambda/simulator/event-factory";

/**
 * The raw lake of a caught-up deployment, written without the CLI (which, draining a backlog, would
 * write a few large objects instead): every 5-minute run stores one gzip object (level 6, as the
 * ingester) per day its events fall in, `events/dt=<day>/<stream>-<chunk>-000.json.gz`, and the
 * object's modification time is the run's end, so the curation's watermark sees the lake as it grew.
 * The events are the simulator's (lambda/simulator/event-factory.ts, organization stream), spread over
 * `days` days before `now` as lambda/simulator/dataset.ts spreads a backlog: each event's own time
 * lags its ingestion by up to five minutes, 1% of them by hours.
 */

export interface CaughtUpLake {
  readonly events: number;
  readonly days: number;
  readonly now: number;
  readonly seed?: number;
}

export interface StagedLake {
  /** Moves the objects of the runs that ended by `until` (epoch ms) into the lake; returns their events. */
  readonly publishUntil: (until: number) => number;
}

const RUN_MS = 5 * 60_000;
const STREAM = "demo";

/**
 * Writes every object under `stagingDir`, then publishes them into `lakeDir` run by run, in the order
 * the ingester would have written them (a rename keeps the modification time), so that the curation
 * can merge the lake as it grows instead of all at once.
 */
export function writeCaughtUpLake(stagingDir: string, lakeDir: string, spec: CaughtUpLake): StagedLake {
  const factory = new EventFactory(spec.seed ?? 7, true, "7f46f1ee-828e-41d4-9d85-755fa1814fd4");
  const span = spec.days * 86_400_000;
  const start = spec.now - span;
  const staged: { key: string; mtime: number; events: number }[] = [];
  let run = -1;
  let days = new Map<string, string[]>();
  const flush = (): void => {
    const end = start + (run + 1) * RUN_MS;
    for (const [day, lines] of days) {
      const key = objectKey(STREAM, `run-${run}`, run, day, 0);
      store(stagingDir, key, gzipSync(`${lines.join("\n")}\n`, { level: 6 }), end);
      staged.push({ key, mtime: end, events: lines.length });
    }
    days = new Map();
  };
  for (let i = 0; i < spec.events; i++) {
    const ingestedAt = Math.floor(start + ((i + factory.next()) / spec.events) * span);
    const late = factory.chance(0.01);
    const lagMs = late ? 3600_000 * (1 + factory.next() * 30) : factory.next() * 5 * 60_000;
    const event = factory.make(ingestedAt - lagMs);
    const thisRun = Math.floor((ingestedAt - start) / RUN_MS);
    if (thisRun !== run) {
      if (run >= 0) flush();
      run = thisRun;
    }
    const day = String(event.timestamp).slice(0, 10);
    const lines = days.get(day) ?? [];
    lines.push(JSON.stringify(event));
    days.set(day, lines);
  }
  flush();
  let published = 0;
  return {
    publishUntil: (until) => {
      let events = 0;
      for (; published < staged.length && (staged[published]?.mtime ?? 0) <= until; published++) {
        const o = staged[published] as { key: string; events: number };
        mkdirSync(dirname(join(lakeDir, o.key)), { recursive: true });
        renameSync(join(stagingDir, o.key), join(lakeDir, o.key));
        events += o.events;
      }
      return events;
    },
  };
}

function store(lakeDir: string, key: string, body: Buffer, mtimeMs: number): void {
  const path = join(lakeDir, key);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
}

import { mkdirSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
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
  /** Events ingested from this time on are returned, not written: the "new events" of a later merge. */
  readonly holdBackFrom: number;
  readonly seed?: number;
}

export interface WrittenLake {
  /** Objects and events written now. */
  readonly objects: number;
  readonly events: number;
  /** Writes the held-back objects; returns their events. */
  readonly writeHeldBack: () => number;
}

const RUN_MS = 5 * 60_000;
const STREAM = "demo";

export function writeCaughtUpLake(lakeDir: string, spec: CaughtUpLake): WrittenLake {
  const factory = new EventFactory(spec.seed ?? 7, true, "7f46f1ee-828e-41d4-9d85-755fa1814fd4");
  const span = spec.days * 86_400_000;
  const start = spec.now - span;
  const heldBack: { key: string; body: Buffer; mtime: number; events: number }[] = [];
  let objects = 0;
  let written = 0;
  let run = -1;
  let days = new Map<string, string[]>();
  const flush = (): void => {
    const end = start + (run + 1) * RUN_MS;
    for (const [day, lines] of days) {
      const key = objectKey(STREAM, `run-${run}`, run, day, 0);
      const body = gzipSync(`${lines.join("\n")}\n`, { level: 6 });
      if (end > spec.holdBackFrom) {
        heldBack.push({ key, body, mtime: end, events: lines.length });
        continue;
      }
      store(lakeDir, key, body, end);
      objects++;
      written += lines.length;
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
  return {
    objects,
    events: written,
    writeHeldBack: () => {
      for (const o of heldBack) store(lakeDir, o.key, o.body, o.mtime);
      return heldBack.reduce((n, o) => n + o.events, 0);
    },
  };
}

function store(lakeDir: string, key: string, body: Buffer, mtimeMs: number): void {
  const path = join(lakeDir, key);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, body);
  utimesSync(path, mtimeMs / 1000, mtimeMs / 1000);
}

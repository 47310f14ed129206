import { gzipSync } from "node:zlib";
import { EventFactory } from "../lambda/simulator/event-factory";
import type { Row } from "./measure";

export const GZIP_LEVELS = [1, 6, 9] as const;
const ROUNDS = 3;

/**
 * Bytes per event and CPU per event of gzip at levels 1, 6 and 9 on the same NDJSON (simulated
 * events, one gzip each), against level 6: zlib's default, and what the lake writes.
 */
export function compression(events = 40_000): Row[] {
  const factory = new EventFactory(3, false, "7f46f1ee-828e-41d4-9d85-755fa1814fd4");
  const now = Date.now();
  const ndjson = Buffer.from(
    Array.from(
      { length: events },
      (_, i) => `${JSON.stringify(factory.make(now - (events - i) * 1000))}\n`,
    ).join(""),
  );
  const results = GZIP_LEVELS.map((level) => {
    let cpu = Number.POSITIVE_INFINITY;
    let bytes = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const start = process.cpuUsage();
      bytes = gzipSync(ndjson, { level }).byteLength;
      const used = process.cpuUsage(start);
      cpu = Math.min(cpu, (used.user + used.system) / 1000);
    }
    return { level, bytesPerEvent: bytes / events, cpuUsPerEvent: (cpu * 1000) / events };
  });
  const base = results.find((r) => r.level === 6) ?? results[0];
  if (!base) return [];
  const rows: Row[] = [
    {
      figure: "NDJSON (uncompressed) bytes/event",
      value: (ndjson.byteLength / events).toFixed(0),
      baseline: base.bytesPerEvent.toFixed(1),
      ratio: ndjson.byteLength / events / base.bytesPerEvent,
    },
  ];
  for (const r of results) {
    rows.push({
      figure: `gzip level ${r.level}: bytes/event`,
      value: r.bytesPerEvent.toFixed(1),
      baseline: base.bytesPerEvent.toFixed(1),
      ratio: r.bytesPerEvent / base.bytesPerEvent,
    });
    rows.push({
      figure: `gzip level ${r.level}: CPU µs/event`,
      value: r.cpuUsPerEvent.toFixed(2),
      baseline: base.cpuUsPerEvent.toFixed(2),
      ratio: r.cpuUsPerEvent / base.cpuUsPerEvent,
    });
  }
  return rows;
}

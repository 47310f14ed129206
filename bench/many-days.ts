/**
 * Peak memory and objects of one run whose page spreads its events over many days (issue 16 item 10),
 * beside a baseline measured in the same run: the same page with every event on one day. Each case
 * runs in its own process (`--import tsx`), through the real core with the in-memory sink and state of
 * `dev/fakes.ts`; the process reports its peak RSS (getrusage) and the peak heap and external memory
 * sampled every 2 ms. Usage: `npx tsx bench/many-days.ts` (about 30 s). Not a timed test.
 */
import { FakeClock, MemorySink, MemoryStateStore, ScriptedSource } from "../dev/fakes";
import type { MonitorEvent, ReceivedEvent } from "../lambda/core/ports";
import { runIngest } from "../lambda/core/run-ingest";
import { MiB, runNode } from "./measure";

const DAY_MS = 24 * 3600 * 1000;
const CASES = {
  /** The baseline: 2,000 events on one day. */
  "one-day": { events: 2000, dayOf: (_i: number) => 0 },
  /** The page: 2,000 events, day of event i = i mod 33. */
  "33-days": { events: 2000, dayOf: (i: number) => i % 33 },
  /** A hostile page above the limit: 4,500 events on 4,500 days, a 60-character stream id. */
  "4500-days": { events: 4500, dayOf: (i: number) => i },
  /** The most days today's event time allows in one page (1970 to 2024), one event each. */
  "19000-days": { events: 19000, dayOf: (i: number) => i },
} as const;
type CaseName = keyof typeof CASES;

async function measureCase(name: CaseName): Promise<void> {
  const { events: count, dayOf } = CASES[name];
  const clock = new FakeClock(); // 2024-01-10: every day below is before it
  const last = clock.now() - DAY_MS;
  const events: ReceivedEvent[] = Array.from({ length: count }, (_, i) => {
    const event: MonitorEvent = {
      timestamp: new Date(last - dayOf(i) * DAY_MS - (i % 3600) * 1000).toISOString(),
      eventId: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      object: "Envelope",
      action: "Sent",
      data: { EnvelopeId: `env-${i}`, padding: "x".repeat(900) },
    };
    return { raw: JSON.stringify(event), event };
  });
  const peak = { heap: 0, external: 0, rss: 0 };
  const sample = (): void => {
    const m = process.memoryUsage();
    peak.heap = Math.max(peak.heap, m.heapUsed);
    peak.external = Math.max(peak.external, m.external + m.arrayBuffers);
    peak.rss = Math.max(peak.rss, m.rss);
  };
  const timer = setInterval(sample, 2);
  const sink = new MemorySink();
  const summary = await runIngest(
    {
      source: new ScriptedSource({ c0: [{ events, endCursor: "c1" }] }),
      sink,
      state: new MemoryStateStore(),
      clock,
    },
    {
      stream: name.endsWith("00-days") ? "s".repeat(60) : "s1",
      owner: "bench",
      startCursor: "c0",
      flushReserveMs: 1000,
      chunkMaxBytes: 32 * 1024 * 1024,
      rateLimitReserve: 0.2,
    },
  );
  sample();
  clearInterval(timer);
  console.log(JSON.stringify({ objects: summary.objects, events: summary.events, ...peak }));
}

async function main(): Promise<void> {
  const line = (cells: readonly string[]): string => `| ${cells.join(" | ")} |`;
  console.log(line(["case", "events", "objects", "peak RSS", "× one-day", "peak heap", "peak external"]));
  console.log(line(["---", "--:", "--:", "--:", "--:", "--:", "--:"]));
  let baseline = Number.NaN;
  for (const name of Object.keys(CASES) as CaseName[]) {
    const run = await runNode(["--import", "tsx"], "bench/many-days.ts", [name], {});
    const r = JSON.parse(run.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, number>;
    if (name === "one-day") baseline = run.peakRss;
    const mib = (n: number | undefined): string => `${((n ?? Number.NaN) / MiB).toFixed(0)} MiB`;
    console.log(
      line([
        name,
        String(r.events),
        String(r.objects),
        mib(run.peakRss),
        (run.peakRss / baseline).toFixed(2),
        mib(r.heap),
        mib(r.external),
      ]),
    );
  }
}

const arg = process.argv[2];
if (arg === undefined) await main();
else if (arg in CASES) await measureCase(arg as CaseName);
else throw new Error(`unknown case ${arg}: one of ${Object.keys(CASES).join(", ")}`);

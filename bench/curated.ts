/**
 * `npm run bench:curated`: the saved queries over the raw view `events_dedup` (gzipped NDJSON, the
 * baseline: bench/curated-baseline.ts) against the same questions over the curated Iceberg table
 * `events_curated` (infra/saved-queries.ts), on one Trino 476 in the same run, over a caught-up lake
 * of simulated events (bench/curated-lake.ts); plus the merge's time and bytes, OPTIMIZE, and the
 * curated table's size against the raw lake's. Statistics come from Trino's REST API
 * (`/v1/query/<id>`): physical input bytes, and the splits of the table scans (one split per file:
 * a gzip object cannot be split, and every Parquet file here is below Trino's split size).
 * Knobs: BENCH_CURATED_EVENTS (default 1000000), BENCH_CURATED_DAYS (30), BENCH_CURATED_HEAP_GIB (Trino's
 * heap, 10), BENCH_CURATED_NEW (100000:
 * the newest events, merged by the last merge). The lake is merged as it grows, at most 150,000 events
 * a merge.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { cpus, platform, release, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { startTrino, type Trino } from "../dev/trino";
import { createCuratedTable, optimizeCurated, runMerge } from "../dev/trino-iceberg";
import { type TemplateJson, writeGlueCatalog } from "../dev/trino-metastore";
import { buildApp } from "../infra/app";
import { CURATED_TABLE } from "../infra/curated-schema";
import { SAVED_QUERIES } from "../infra/saved-queries";
import { RAW_VIEW_QUERIES } from "./curated-baseline";
import { writeCaughtUpLake } from "./curated-lake";
import { du, type QueryStats, queryStats } from "./trino-stats";

const events = Number(process.env.BENCH_CURATED_EVENTS ?? 1_000_000);
const days = Number(process.env.BENCH_CURATED_DAYS ?? 30);
const newEvents = Number(process.env.BENCH_CURATED_NEW ?? 100_000);
const LOAD_BATCH = 150_000;
const HEAP_GIB = Number(process.env.BENCH_CURATED_HEAP_GIB ?? 10);
const started = performance.now();
const log = (line: string): void => {
  process.stdout.write(`  [${((performance.now() - started) / 1000).toFixed(0).padStart(5)} s] ${line}\n`);
};
const MiB = 1024 ** 2;
const mib = (b: number): string => `${(b / MiB).toFixed(1)} MiB`;

process.stdout.write(
  `monitor-lake bench:curated, ${new Date().toISOString()}\n` +
    `Node.js ${process.version} on ${platform()} ${release()} ${process.arch}, ${cpus().length} x ${cpus()[0]?.model ?? "?"}, ` +
    `${(totalmem() / 1024 ** 3).toFixed(0)} GiB\n` +
    `${events.toLocaleString("en-US")} events over ${days} days, the newest ${newEvents.toLocaleString("en-US")} merged by the last of the merges that follow the lake as it grows\n`,
);

const root = await mkdtemp(join(tmpdir(), "monitor-lake-bench-curated-"));
const lakeDir = join(root, "lake");
let trino: Trino | undefined;
try {
  const now = Date.now();
  const span = days * 86_400_000;
  log("writing the raw lake (staged)...");
  const lake = writeCaughtUpLake(join(root, "staging"), lakeDir, { events, days, now });
  // The lake grows and is merged in steps, as the curation keeps up with it: one merge over all of it
  // at once would hold every line in the merge's dedup window (a Trino of 3 GiB runs out of memory at
  // 1,000,000 events). The load's merges take at most LOAD_BATCH events; the last one the newest events.
  const load = events - newEvents;
  const loadMerges = Math.ceil(load / LOAD_BATCH);
  const boundaries = [
    ...Array.from({ length: loadMerges }, (_, i) => ((i + 1) * load) / loadMerges),
    events,
  ].map((n) => now - span + (span * n) / events);

  const cdkJson = JSON.parse(readFileSync(new URL("../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  };
  const template = Template.fromStack(
    buildApp(
      new App({
        context: {
          ...cdkJson.context,
          integrationKey: "11111111-2222-3333-4444-555555555555",
          userId: "66666666-7777-8888-9999-000000000000",
        },
      }),
    ),
  ).toJSON() as TemplateJson;
  const schema = (await writeGlueCatalog(template, root, "lake"))[0] as string;
  log("starting Trino...");
  // 30 days of the raw view at a million events do not fit the tests' 3 GiB.
  trino = await startTrino(root, { heapGiB: HEAP_GIB });
  const t = trino;
  await createCuratedTable(t, schema, "lake");
  const stats = (queryId: string): Promise<QueryStats> => queryStats(t.url, queryId);

  const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
    const from = performance.now();
    const value = await f();
    return [value, performance.now() - from];
  };
  interface Merged {
    readonly published: number;
    readonly inserted: number;
    readonly ms: number;
    readonly stats: QueryStats;
    readonly fromDay: string;
    /** Raw events in the partitions the merge read. */
    readonly windowEvents: number;
  }
  const merges: Merged[] = [];
  for (const [i, until] of boundaries.entries()) {
    const published = lake.publishUntil(until);
    log(`merge ${i + 1} of ${boundaries.length}: ${published} new events...`);
    const [merged, ms] = await timed(() => runMerge(t, schema));
    const windowEvents = Number(
      (await t.query(`SELECT count(*) FROM events_lines WHERE dt >= '${merged.window.fromDay}'`, schema))
        .rows[0]?.[0],
    );
    merges.push({
      published,
      inserted: merged.inserted,
      ms,
      stats: await stats(merged.queryId),
      fromDay: merged.window.fromDay,
      windowEvents,
    });
    log(
      `  inserted ${merged.inserted} in ${(ms / 1000).toFixed(1)} s (window from ${merged.window.fromDay})`,
    );
  }
  const first = merges[0] as Merged;
  const last = merges.at(-1) as Merged;

  const files = async (): Promise<{ count: number; bytes: number }> => {
    const [count, bytes] = (
      await t.query(`SELECT count(*), sum(file_size_in_bytes) FROM "${CURATED_TABLE}$files"`, schema)
    ).rows[0] as [number, number];
    return { count: Number(count), bytes: Number(bytes) };
  };
  const beforeOptimize = await files();
  log("optimize...");
  const [, optimizeMs] = await timed(() => optimizeCurated(t, schema));
  const afterOptimize = await files();
  const curatedRows = Number((await t.query(`SELECT count(*) FROM ${CURATED_TABLE}`, schema)).rows[0]?.[0]);
  const rawLake = du(join(lakeDir, "events"));
  const rawBytes = rawLake.bytes;

  log("saved queries, raw view then curated table...");
  const rows: string[][] = [];
  const perEvent: { name: string; bytesPerEvent: number }[] = [];
  for (const raw of RAW_VIEW_QUERIES) {
    const curated = SAVED_QUERIES.find((q) => q.name === raw.name);
    if (!curated) throw new Error(`saved query ${raw.name} has no curated version in infra/saved-queries.ts`);
    const run = async (sql: string): Promise<[QueryStats, number]> => {
      const [result, ms] = await timed(() => t.query(sql.replace(/;\s*$/, ""), schema));
      return [await stats(result.queryId), ms];
    };
    const [r, rMs] = await run(raw.sql(schema));
    const [c, cMs] = await run(curated.sql(schema));
    // The widest window the query reads (sign-ins-from-new-countries: 31 days, the last one apart).
    const since = String(
      Math.max(
        ...[...raw.sql(schema).matchAll(/current_date - interval '(\d+)' day/g)].map((m) => Number(m[1])),
      ),
    );
    const inRange = Number(
      (
        await t.query(
          `SELECT count(*) FROM ${CURATED_TABLE} WHERE dt >= date_format(current_date - interval '${since}' day, '%Y-%m-%d')`,
          schema,
        )
      ).rows[0]?.[0],
    );
    perEvent.push({ name: raw.name, bytesPerEvent: c.physicalInputBytes / inRange });
    rows.push([
      raw.name,
      `${since} d`,
      mib(r.physicalInputBytes),
      mib(c.physicalInputBytes),
      (c.physicalInputBytes / r.physicalInputBytes).toFixed(3),
      String(r.splits),
      String(c.splits),
      `${(rMs / 1000).toFixed(1)} s`,
      `${(cMs / 1000).toFixed(1)} s`,
      (c.physicalInputBytes / inRange).toFixed(1),
    ]);
    log(`  ${raw.name}: ${rows.at(-1)?.slice(2).join(", ")}`);
  }

  const table = (head: string[], body: string[][]): string =>
    [
      `| ${head.join(" | ")} |`,
      `| ${head.map((_, i) => (i === 0 ? "---" : "---:")).join(" | ")} |`,
      ...body.map((r) => `| ${r.join(" | ")} |`),
    ].join("\n");
  process.stdout.write(
    `\n## Saved queries: raw view vs curated table (after optimize)\n\n${table(
      [
        "saved query",
        "days",
        "raw bytes read",
        "curated bytes read",
        "ratio",
        "raw files",
        "curated files",
        "raw time",
        "curated time",
        "curated bytes read / event of its days",
      ],
      rows,
    )}\n`,
  );
  const per100k = (ms: number, n: number): string => `${(((ms / n) * 100_000) / 1000).toFixed(1)} s`;
  process.stdout.write(
    `\n## Merge, optimize, storage\n\n${table(
      ["figure", "value"],
      [
        ...merges.map((m, i) => [
          `merge ${i + 1}${i === 0 ? " (empty table: every partition)" : i === merges.length - 1 ? " (the newest events)" : ""}`,
          `${m.inserted} events in ${(m.ms / 1000).toFixed(1)} s: ${per100k(m.ms, m.inserted)} per 100k; read ${mib(m.stats.physicalInputBytes)} (${m.stats.splits} splits) for ${m.windowEvents} raw events from ${m.fromDay}: ${(m.stats.physicalInputBytes / m.windowEvents).toFixed(1)} B per raw event of the window`,
        ]),
        [
          "optimize",
          `${beforeOptimize.count} files -> ${afterOptimize.count} in ${(optimizeMs / 1000).toFixed(1)} s`,
        ],
        [
          "raw lake",
          `${rawLake.files} objects, ${mib(rawBytes)}: ${(rawBytes / curatedRows).toFixed(1)} B per event`,
        ],
        [
          "curated table (live data files)",
          `${afterOptimize.count} files, ${mib(afterOptimize.bytes)}: ${(afterOptimize.bytes / curatedRows).toFixed(1)} B per event, ${(afterOptimize.bytes / rawBytes).toFixed(2)} x raw`,
        ],
        ["curated rows", String(curatedRows)],
      ],
    )}\n`,
  );
  const heaviest = perEvent.reduce((a, b) => (b.bytesPerEvent > a.bytesPerEvent ? b : a));
  // The figures scripts/cost-curation.ts and infra/scan-cutoff.ts use (tests compare them with BENCHMARKS.md).
  process.stdout.write(
    `\n## Figures the cost model and the scan cutoff use\n\n${table(
      ["figure", "value"],
      [
        [
          "merge bytes per raw event of its window",
          `${(last.stats.physicalInputBytes / last.windowEvents).toFixed(1)} B`,
        ],
        [
          "full merge bytes per raw event",
          // The first merge reads every partition into an empty table, as a full merge does.
          `${(first.stats.physicalInputBytes / first.windowEvents).toFixed(1)} B`,
        ],
        ["curated bytes per event", `${(afterOptimize.bytes / curatedRows).toFixed(1)} B`],
        [
          `most curated bytes a saved query reads per event of its days (${heaviest.name})`,
          `${heaviest.bytesPerEvent.toFixed(1)} B`,
        ],
      ],
    )}\n`,
  );
  log("done");
} finally {
  await trino?.stop();
  await rm(root, { recursive: true, force: true });
}

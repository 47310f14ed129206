import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTrino, type Trino } from "../../dev/trino";
import {
  createCuratedTable,
  killMergeMidWay,
  mergeWindow,
  optimizeCurated,
  runMerge,
} from "../../dev/trino-iceberg";
import { type TemplateJson, writeGlueCatalog } from "../../dev/trino-metastore";
import { buildApp } from "../../infra/app";
import { CURATED_TABLE } from "../../infra/curated-schema";
import { DEFAULT_LOOKBACK_DAYS, FULL_WINDOW, mergeSql } from "../../infra/curated-sql";
import { runLocalIngest } from "../../lambda/cli/run";
import { ENV, parseConfig } from "../../lambda/config";
import { parseEventTime, UNTIMED_DAY } from "../../lambda/core/event-time";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { daysBefore } from "../helpers/lake-oracle";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

/**
 * The curation's SQL (infra/curated-sql.ts) on Trino 476's Iceberg connector, over a lake the CLI
 * wrote from the simulator: what the table holds is compared with an oracle computed from the lake's
 * files, line by line.
 */

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
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

let root = "";
let lakeDir = "";
let trino: Trino;
let sim: SimulatorFixture;
let schema = "";
let ingest: () => Promise<void>;

interface StoredLine {
  readonly dt: string;
  readonly stream: string;
  readonly file: string;
  readonly line: string;
}

/** Every stored line of the lake, with its partition and the stream in its object's name. */
async function storedLines(): Promise<StoredLine[]> {
  const lines: StoredLine[] = [];
  const dir = join(lakeDir, "events");
  for (const day of (await readdir(dir)).sort()) {
    const dt = day.slice(3);
    for (const file of (await readdir(join(dir, day))).sort()) {
      const stream = /^(.+)-[0-9a-f]{16}-[0-9]+\.json\.gz$/.exec(file)?.[1] ?? "";
      const text = gunzipSync(await readFile(join(dir, day, file))).toString("utf8");
      for (const line of text.split("\n")) if (line !== "") lines.push({ dt, stream, file, line });
    }
  }
  return lines;
}

/**
 * The oracle, written independently of the SQL: one line per event. An event is its stream, its
 * eventId (its exact text when it has none) and, when its own timestamp puts it in its partition,
 * that day; the first stored copy (by object name) is the one kept.
 */
function distinctEvents(lines: readonly StoredLine[]): string[] {
  const seen = new Set<string>();
  const kept: string[] = [];
  for (const l of [...lines].sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0))) {
    const event = JSON.parse(l.line) as { eventId?: unknown; timestamp?: unknown };
    const ms = parseEventTime(event.timestamp);
    const ownDay =
      ms !== undefined && l.dt !== UNTIMED_DAY && new Date(ms).toISOString().slice(0, 10) === l.dt
        ? l.dt
        : "";
    const id = typeof event.eventId === "string" && event.eventId !== "" ? event.eventId : `text:${l.line}`;
    const key = JSON.stringify([l.stream, ownDay, id]);
    if (seen.has(key)) continue;
    seen.add(key);
    kept.push(l.line);
  }
  return kept.sort();
}

async function curatedRaw(): Promise<string[]> {
  const { rows } = await trino.query(`SELECT raw FROM ${CURATED_TABLE}`, schema);
  return rows.map((r) => String(r[0])).sort();
}

async function writeObject(dt: string, name: string, lines: readonly string[]): Promise<void> {
  await mkdir(join(lakeDir, "events", `dt=${dt}`), { recursive: true });
  await writeFile(join(lakeDir, "events", `dt=${dt}`, name), gzipSync(`${lines.join("\n")}\n`));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "monitor-lake-curated-"));
  lakeDir = join(root, "lake");
  const trinoStarting = startTrino(root);
  trinoStarting.catch(() => undefined);
  sim = await startSimulator({ seed: 22, events: 2500, days: 10, lateShare: 0.02, untimedShare: 0.002 });
  const keyFile = join(root, "key.pem");
  await writeFile(keyFile, sim.keys.pkcs8Pem, { mode: 0o600 });
  const config = parseConfig(
    envForSimulator(sim, {
      [ENV.privateKeyFile]: keyFile,
      [ENV.startCursor]: "2000-01-01T00:00:00Z",
      [ENV.stream]: "demo",
    }),
    "local",
  );
  ingest = async () => {
    await runLocalIngest({ config, out: lakeDir });
  };
  await ingest();
  schema = (await writeGlueCatalog(template, root, "lake"))[0] as string;
  trino = await trinoStarting;
  await createCuratedTable(trino, schema, "lake");
});

afterAll(async () => {
  await trino?.stop();
  await sim?.simulator.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("events_curated on Trino's Iceberg connector", () => {
  it("holds each event of the raw lake once, exactly as stored, replayed objects and events without an eventId included", async () => {
    const today = new Date().toISOString().slice(0, 10);
    const dir = join(lakeDir, "events", `dt=${daysBefore(today, 1)}`);
    const first = (await readdir(dir)).sort()[0] as string;
    // A re-ingest from an older cursor: one object of yesterday stored again under another chunk id.
    await copyFile(join(dir, first), join(dir, "demo-ffffffffffffffff-000.json.gz"));
    // Events without an eventId: two texts, one of them stored twice; one with an empty eventId.
    const noId = [
      `{"timestamp":"${daysBefore(today, 1)}T00:00:01Z","action":"NoId","userId":"u1"}`,
      `{"timestamp":"${daysBefore(today, 1)}T00:00:02Z","eventId":"","action":"EmptyId","userId":"u2"}`,
    ];
    await writeObject(daysBefore(today, 1), "demo-00000000000000aa-000.json.gz", noId);
    await writeObject(daysBefore(today, 1), "demo-00000000000000ab-000.json.gz", [noId[0] as string]);
    // An untimed event DocuSign repeated: filed under two ingestion days by versions before the untimed
    // day, then under the untimed day 1970-01-01 (events_lines_untimed): one event.
    const untimed = `{"timestamp":"","eventId":"untimed-1","action":"Untimed"}`;
    await writeObject(daysBefore(today, 2), "demo-00000000000000ac-000.json.gz", [untimed]);
    await writeObject(daysBefore(today, 1), "demo-00000000000000ad-000.json.gz", [untimed]);
    await writeObject(UNTIMED_DAY, "demo-00000000000000ae-000.json.gz", [untimed]);

    const merged = await runMerge(trino, schema);

    const lines = await storedLines();
    const expected = distinctEvents(lines);
    expect(lines.length).toBeGreaterThan(expected.length);
    expect(merged.window).toEqual(FULL_WINDOW);
    expect(merged.inserted).toBe(expected.length);
    expect(await curatedRaw()).toEqual(expected);
    const { rows } = await trino.query(
      `SELECT event_id, count(*) FROM ${CURATED_TABLE} WHERE event_id IN ('untimed-1', '') OR action = 'NoId' GROUP BY 1`,
      schema,
    );
    expect(rows.map((r) => JSON.stringify(r)).sort()).toEqual(['["",1]', '["untimed-1",1]', "[null,1]"]);
  });

  it("types the top-level fields from the exact line, and keeps the line", async () => {
    const { rows } = await trino.query(
      `SELECT raw, stream, event_id, to_unixtime(event_time), dt, user_id, ip_address, country, browser, data FROM ${CURATED_TABLE}`,
      schema,
    );
    expect(rows.length).toBeGreaterThan(2500);
    for (const [raw, stream, id, seconds, dt, user, ip, country, browser, data] of rows) {
      const e = JSON.parse(String(raw)) as Record<string, unknown> & {
        ipAddressLocation?: { country?: string };
        userAgentClientInfo?: { browser?: { family?: string } };
      };
      const ms = parseEventTime(e.timestamp);
      expect([stream, id, user, ip], String(raw)).toEqual([
        "demo",
        e.eventId ?? null,
        e.userId ?? null,
        e.ipAddress ?? null,
      ]);
      expect(seconds === null ? null : Math.round(Number(seconds) * 1000)).toBe(ms === undefined ? null : ms);
      if (ms !== undefined && e.eventId !== "untimed-1")
        expect(dt).toBe(new Date(ms).toISOString().slice(0, 10));
      expect(country).toBe((e.country as string) || e.ipAddressLocation?.country || null);
      expect(browser).toBe((e.browser as string) || e.userAgentClientInfo?.browser?.family || null);
      expect(data === null ? undefined : JSON.parse(String(data))).toEqual(e.data);
    }
  });

  it("a second ingest with late events for old days: the next merge adds those of the last days, the weekly full merge the older ones, re-runs nothing", async () => {
    const before = await curatedRaw();
    const template = sim.simulator.events()[0];
    const now = Date.now();
    const daysBack = [2, DEFAULT_LOOKBACK_DAYS + 2];
    // New events whose own time is days back, and events DocuSign delivers again.
    sim.simulator.appendRaw([
      ...daysBack.map((d) =>
        JSON.stringify({
          ...template,
          eventId: `late-${d}`,
          timestamp: new Date(now - d * 86_400_000).toISOString(),
        }),
      ),
      ...sim.simulator.eventTexts().slice(10, 20),
      // Untimed: filed under 1970-01-01, before any window, and still merged by the next merge.
      JSON.stringify({ ...template, eventId: "untimed-late", timestamp: "not a time" }),
    ]);
    sim.simulator.appendLive(200);
    await ingest();

    const second = await runMerge(trino, schema);
    const again = await runMerge(trino, schema);
    const lateIds = async () =>
      (
        await trino.query(
          `SELECT event_id, dt FROM ${CURATED_TABLE} WHERE event_id LIKE 'late-%' ORDER BY 1`,
          schema,
        )
      ).rows;
    const afterIncremental = await lateIds();
    const full = await runMerge(trino, schema, true);
    const fullAgain = await runMerge(trino, schema, true);

    const expected = distinctEvents(await storedLines());
    const day = (d: number) => new Date(now - d * 86_400_000).toISOString().slice(0, 10);
    expect(second.window.watermark > FULL_WINDOW.watermark).toBe(true);
    expect(second.window.fromDay).toBe(day(DEFAULT_LOOKBACK_DAYS));
    expect([second.inserted, again.inserted]).toEqual([202, 0]);
    expect(afterIncremental).toEqual([["late-2", day(2)]]);
    expect([full.inserted, fullAgain.inserted]).toEqual([1, 0]);
    expect(expected.length - before.length).toBe(203);
    expect(await curatedRaw()).toEqual(expected);
    expect(await lateIds()).toEqual(daysBack.map((d) => [`late-${d}`, day(d)]));
  });

  it("reads only the raw partitions of its window and the target rows they can match, not the whole lake", async () => {
    sim.simulator.appendLive(50);
    await ingest();
    const lines = await storedLines();
    const window = await mergeWindow(trino, schema);
    // The window's days, and the untimed day that every merge reads.
    const inWindow = lines.filter((l) => l.dt >= window.fromDay || l.dt === UNTIMED_DAY).length;
    const { rows } = await trino.query(
      `SELECT count(*) FILTER (WHERE key_day >= '${window.fromDay}' OR key_day = ''), count(*) FROM ${CURATED_TABLE}`,
      schema,
    );
    const [targetInWindow, target] = rows[0] as [number, number];

    const merged = await runMerge(trino, schema);

    expect(merged.inserted).toBe(50);
    expect(await curatedRaw()).toEqual(distinctEvents(await storedLines()));
    expect(inWindow).toBeLessThan(lines.length * 0.6);
    expect(merged.processedRows).toBeLessThanOrEqual(inWindow + targetInWindow);
    expect(merged.processedRows).toBeLessThan((lines.length + target) * 0.6);
  });

  it("two merges at once (a schedule delivered twice): Iceberg commits one, the other fails, nothing is inserted twice", async () => {
    sim.simulator.appendLive(100);
    await ingest();

    const results = await Promise.allSettled([runMerge(trino, schema), runMerge(trino, schema)]);

    const inserted = results.map((r) => (r.status === "fulfilled" ? r.value.inserted : String(r.reason)));
    expect(inserted.filter((n) => n === 100)).toHaveLength(1);
    expect(inserted.find((n) => n !== 100)).toMatch(/conflict|ICEBERG_COMMIT_ERROR|Failed to commit/i);
    expect(await curatedRaw()).toEqual(distinctEvents(await storedLines()));
  });

  it("a merge killed mid-way leaves the table as it was, and the re-run is exact", async () => {
    sim.simulator.appendLive(3000);
    await ingest();
    const before = await curatedRaw();
    const killed = await killMergeMidWay(trino, mergeSql(schema, await mergeWindow(trino, schema)), schema);

    expect(killed.state).toBe("FAILED");
    expect(await curatedRaw()).toEqual(before);
    const rerun = await runMerge(trino, schema);
    expect(rerun.inserted).toBe(3000);
    expect(await curatedRaw()).toEqual(distinctEvents(await storedLines()));
  });

  it("the README's query runs as pasted and, filtered on event_time, reads the last day's partitions only", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("## The curated table"));
    const sql = /```sql\n([\s\S]*?)```/.exec(section)?.[1]?.trim() ?? "";
    const [total, lastTwoDays] = (
      await trino.query(
        `SELECT count(*), count(*) FILTER (WHERE event_time >= CAST(current_date - interval '1' day AS timestamp)) FROM ${CURATED_TABLE}`,
        schema,
      )
    ).rows[0] as [number, number];

    const result = await trino.query(sql, schema);

    expect(result.columns).toEqual(["event_time", "user_id", "object", "action", "result", "ip_address"]);
    expect(result.rows).toHaveLength(50);
    // Only the partitions of the days the filter touches (today and yesterday, UTC).
    expect(result.processedRows).toBeLessThanOrEqual(lastTwoDays);
    expect(lastTwoDays).toBeLessThan(total);
  });

  it("optimize rewrites the small files of many merges into fewer, and the rows stay exact", async () => {
    const files = async () =>
      Number((await trino.query(`SELECT count(*) FROM "${CURATED_TABLE}$files"`, schema)).rows[0]?.[0]);
    const before = await files();
    const rows = await curatedRaw();

    await optimizeCurated(trino, schema);

    expect(await files()).toBeLessThan(before);
    expect(await curatedRaw()).toEqual(rows);
  });
});

import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTrino, type Trino } from "../../dev/trino";
import { createCuratedTable, runMerge } from "../../dev/trino-iceberg";
import { type TemplateJson, writeGlueCatalog } from "../../dev/trino-metastore";
import { buildApp } from "../../infra/app";
import { runLocalIngest } from "../../lambda/cli/run";
import { ENV, parseConfig } from "../../lambda/config";
import { UNTIMED_DAY } from "../../lambda/core/event-time";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { PLANTED } from "../../lambda/simulator/planted-cases";
import {
  curatedTime,
  daysBefore,
  eventTimeMs,
  type LakeRow,
  readLake,
  readLines,
  rowSet,
  trinoTime,
  unique,
} from "../helpers/lake-oracle";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";
import {
  BEFORE_START_DAY,
  FIXTURES_BEFORE,
  HOSTILE_DAY,
  HOSTILE_EVENTS,
  NO_ID_DAY,
  PROJECTION_START,
  STREAMS_DAY,
  writeFixtureDays,
} from "../helpers/trino-lake-fixtures";

/** The simulator's days only (its untimed events' too): the fixture days are checked on their own. */
const SIMULATED = `(dt >= '${FIXTURES_BEFORE}' OR dt = '${UNTIMED_DAY}')`;

/** Issue 16 item 8: an event stamped 49 hours after the ingest clock, delivered again a day later. */
const AHEAD = { timestamp: "2021-01-05T01:00:00Z", eventId: "ahead-1", action: "StampedAhead", userId: "u9" };
const AHEAD_DAY = "2021-01-05";
const FIRST_INGEST = Date.parse("2021-01-03T00:00:00Z");

/**
 * Ingests AHEAD with the CLI and a simulator on a clock at FIRST_INGEST; a day later (the clock moved
 * on), 4,000 other events (stamped 2021-01-06) push its id out of the recent-id window, and DocuSign
 * delivers AHEAD again: a second copy is stored, as a repeat beyond the window is.
 */
async function ingestAheadTwice(root: string, lakeDir: string): Promise<void> {
  let now = FIRST_INGEST;
  const clock = { now: () => now, monotonic: () => performance.now() };
  const ahead = await startSimulator({ seed: 8, events: 0, days: 1, now: () => now });
  try {
    const keyFile = join(root, "ahead-key.pem");
    await writeFile(keyFile, ahead.keys.pkcs8Pem, { mode: 0o600 });
    const config = parseConfig(
      envForSimulator(ahead, {
        [ENV.privateKeyFile]: keyFile,
        [ENV.startCursor]: "2021-01-01T00:00:00Z",
        // A stream of its own: the lake's "demo" state holds the other simulator's cursor.
        [ENV.stream]: "ahead",
      }),
      "local",
    );
    const run = async (expected: number): Promise<void> => {
      const { events } = await runLocalIngest({ config, out: lakeDir, clock });
      if (events !== expected) throw new Error(`the "ahead" run stored ${events} events, not ${expected}`);
    };
    ahead.simulator.appendRaw([JSON.stringify(AHEAD)]);
    await run(1);
    now += 86_400_000;
    ahead.simulator.appendRaw(
      Array.from({ length: 4000 }, (_, i) =>
        JSON.stringify({ timestamp: "2021-01-06T00:00:00Z", eventId: `filler-${i}`, action: "Filler" }),
      ),
    );
    await run(4000);
    ahead.simulator.appendRaw([JSON.stringify(AHEAD)]);
    await run(1);
  } finally {
    await ahead.simulator.stop();
  }
}

/**
 * The Glue tables, the events_dedup view and every saved query of the synthesized template, loaded
 * as they are into Trino 476 over a lake the CLI writes from the simulator's demo backlog (with its
 * planted cases) plus raw duplicates and the fixture days; the saved queries read events_curated
 * (Trino's Iceberg connector) after one merge of that lake, as the curation runs it. This proves the
 * SQL runs and returns the right rows; what Trino cannot show (Athena's readers, the Glue shape of
 * the view) is pinned by stack.test.ts and athena-view.test.ts.
 */

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const app = new App({
  context: {
    ...cdkJson.context,
    integrationKey: "11111111-2222-3333-4444-555555555555",
    userId: "66666666-7777-8888-9999-000000000000",
    projectionStart: PROJECTION_START,
  },
});
const template = Template.fromStack(buildApp(app)).toJSON() as TemplateJson;
const savedQueries = new Map(
  Object.values(template.Resources)
    .filter((r) => r.Type === "AWS::Athena::NamedQuery")
    .map((r) => [String(r.Properties.Name).replace(/^monitor-lake: /, ""), String(r.Properties.QueryString)]),
);
const WEB = "##DOCUSIGN_INTERNAL_NOT_USED##";

let root = "";
let trino: Trino;
let sim: SimulatorFixture;
let schema = "";
let today = "";
let raw: LakeRow[] = [];
let lake: LakeRow[] = [];
let lines: { dt: string; line: string }[] = [];
const timings: Record<string, number> = {};

/** Runs a saved query from the template (without its `;`, which Trino's REST API rejects). */
async function saved(name: string, edit: (sql: string) => string = (s) => s): Promise<unknown[][]> {
  const sql = savedQueries.get(name);
  if (!sql) throw new Error(`no saved query ${name}`);
  return (await trino.query(edit(sql).replace(/;\s*$/, ""), schema)).rows;
}

const since = (days: number) => (r: LakeRow) => r.dt >= daysBefore(today, days);
const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const country = (e: Record<string, unknown>): string =>
  str(e.country) || str((e.ipAddressLocation as { country?: string } | undefined)?.country);
const timeOf = (e: Record<string, unknown>) => eventTimeMs(e.timestamp);

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "monitor-lake-trino-"));
  const lakeDir = join(root, "lake");
  const trinoStarting = startTrino(root);
  trinoStarting.catch(() => undefined);
  // The demo's backlog: 30,000 events over five days, late and untimed ones, and the planted cases.
  sim = await startSimulator({
    seed: 42,
    events: 30_000,
    days: 5,
    lateShare: 0.01,
    untimedShare: 0.0005,
    plantCases: true,
  });
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
  await runLocalIngest({ config, out: lakeDir });
  await sim.simulator.stop();
  // Raw duplicates, as a re-ingest from an older cursor would leave: one whole object of
  // yesterday's partition stored a second time under another key.
  const yesterdayDir = join(lakeDir, "events", `dt=${daysBefore(new Date().toISOString().slice(0, 10), 1)}`);
  const first = (await readdir(yesterdayDir)).sort()[0] as string;
  await copyFile(join(yesterdayDir, first), join(yesterdayDir, "demo-ffffffffffffffff-000.json.gz"));
  // Events without an eventId, the hostile ones, and one id in two streams, each in a day of their own.
  await writeFixtureDays(lakeDir);
  await ingestAheadTwice(root, lakeDir);
  // What the view can read: every stored line from the projection's first day on, and the untimed day.
  const readable = (dt: string) => dt >= PROJECTION_START || dt === UNTIMED_DAY;
  raw = (await readLake(lakeDir)).filter((r) => readable(r.dt));
  lines = (await readLines(lakeDir)).filter((l) => readable(l.dt));
  lake = unique(raw);
  schema = (await writeGlueCatalog(template, root, "lake"))[0] as string;
  trino = await trinoStarting;
  timings.startMs = trino.startMs;
  // The saved queries read the curated table: one merge of the whole lake, as the first curation run.
  await createCuratedTable(trino, schema, "lake");
  await runMerge(trino, schema);
  today = String((await trino.query("SELECT CAST(current_date AS varchar)")).rows[0]?.[0]);
  timings.checksFrom = Date.now();
});

afterAll(async () => {
  if (timings.checksFrom) {
    process.stderr.write(
      `Trino: started in ${timings.startMs} ms, checks took ${Date.now() - timings.checksFrom} ms\n`,
    );
  }
  await trino?.stop();
  await sim?.simulator.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

describe("the Glue tables and view of the template, on Trino 476", () => {
  it("reads every stored line of the projection's days through the table, per dt partition (projection)", async () => {
    const { rows } = await trino.query("SELECT dt, count(*) FROM events GROUP BY 1", schema);
    const expected = new Map<string, number>();
    for (const r of raw) if (r.dt !== UNTIMED_DAY) expected.set(r.dt, (expected.get(r.dt) ?? 0) + 1);
    expect(rowSet(rows)).toEqual(rowSet([...expected]));
  });

  it("files an event stamped over a day ahead, delivered again a day later, under its own day both times: the view shows it once (issue 16 item 8)", async () => {
    const copies = await trino.query(
      `SELECT dt, count(*) FROM events_lines WHERE json_extract_scalar(line, '$.eventId') = '${AHEAD.eventId}' GROUP BY 1`,
      schema,
    );
    const view = await trino.query(
      `SELECT dt, stream, eventid, action FROM events_dedup WHERE eventid = '${AHEAD.eventId}'`,
      schema,
    );
    const onItsDay = await trino.query(
      `SELECT count(*) FROM events_dedup WHERE dt = '${AHEAD_DAY}' AND eventid = '${AHEAD.eventId}'`,
      schema,
    );

    expect(copies.rows).toEqual([[AHEAD_DAY, 2]]);
    expect(view.rows).toEqual([[AHEAD_DAY, "ahead", AHEAD.eventId, AHEAD.action]]);
    expect(onItsDay.rows).toEqual([[1]]);
    expect(onItsDay.processedRows).toBe(2); // the window still prunes to that day's partition
  });

  it("deduplicates within a stream, not across streams: an id two streams hold is each stream's row", async () => {
    const { rows } = await trino.query(
      `SELECT stream, eventid FROM events_dedup WHERE dt = '${STREAMS_DAY}' ORDER BY stream`,
      schema,
    );
    const stored = await trino.query(`SELECT count(*) FROM events_lines WHERE dt = '${STREAMS_DAY}'`, schema);
    expect(stored.rows).toEqual([[3]]); // demo twice, other once
    expect(rows).toEqual([
      ["demo", "shared-1"],
      ["other", "shared-1"],
    ]);
  });

  it("reads untimed events, filed under 1970-01-01, through events_lines_untimed and the view, and counts them", async () => {
    const untimedIds = sim.simulator
      .events()
      .filter((e) => e.timestamp === "")
      .map((e) => String(e.eventId))
      .sort();
    const stored = lines.filter((l) => l.dt === UNTIMED_DAY).map((l) => l.line);
    const table = await trino.query(`SELECT dt, line FROM events_lines_untimed`, schema);
    const view = await trino.query(
      `SELECT stream, eventid, event_time FROM events_dedup WHERE dt = '${UNTIMED_DAY}' ORDER BY eventid`,
      schema,
    );
    const all = await trino.query("SELECT count(*) FROM events_dedup", schema);

    expect(untimedIds.length).toBeGreaterThan(3);
    expect(rowSet(table.rows)).toEqual(rowSet(stored.map((l) => [UNTIMED_DAY, l])));
    expect(view.rows).toEqual(untimedIds.map((id) => ["demo", id, null]));
    expect((await saved("untimed-events")).map((r) => [r[0], r[1]])).toEqual(
      untimedIds.map((id) => ["demo", id]),
    );
    // No filter: every stored event once per stream and day, the untimed ones included, and each
    // event without an id once per exact line. Ids are unique across the streams but one, "other"'s
    // copy of shared-1. (`raw` is `lines` parsed, in the same order.)
    const hasId = (r: LakeRow) => typeof r.event.eventId === "string" && r.event.eventId !== "";
    const keyed = new Set(raw.filter(hasId).map((r) => `${r.dt} ${String(r.event.eventId)}`));
    const idless = new Set(raw.flatMap((r, i) => (hasId(r) ? [] : [`${r.dt} ${lines[i]?.line}`])));
    expect(all.rows).toEqual([[keyed.size + idless.size + 1]]);
  });

  it("returns each event once although the lake holds raw duplicates", async () => {
    const { rows } = await trino.query(
      `SELECT count(*), count(DISTINCT eventid) FROM events_dedup WHERE ${SIMULATED}`,
      schema,
    );
    const ids = new Set(sim.simulator.events().map((e) => e.eventId));
    expect(raw.length).toBeGreaterThan(ids.size);
    expect(rows).toEqual([[ids.size, ids.size]]);
  });

  it("keeps an event that has no eventId (or an empty one) once per exact line: a line stored twice is one event", async () => {
    const { rows } = await trino.query(
      `SELECT action, userid FROM events_dedup WHERE dt = '${NO_ID_DAY}' ORDER BY userid`,
      schema,
    );
    const raw = await trino.query(`SELECT count(*) FROM events_lines WHERE dt = '${NO_ID_DAY}'`, schema);
    expect(raw.rows).toEqual([[6]]);
    // u1 and u3 stored twice byte for byte: once each. u2's two lines differ (key order): two events,
    // as the ingester's window and the curated table's line_sha256 count them.
    expect(rows).toEqual([
      ["NoId", "u1"],
      ["NoId", "u2"],
      ["NoId", "u2"],
      ["EmptyId", "u3"],
    ]);
  });

  it("names each event's stream from its object's name, so organizations sharing the lake can be told apart", async () => {
    const { rows } = await trino.query(
      `SELECT stream, count(*) FROM events_dedup WHERE ${SIMULATED} GROUP BY 1`,
      schema,
    );
    // The replayed copy ("demo-ffff…") loses to the first stored: ties go to the first object name.
    expect(rows).toEqual([["demo", new Set(sim.simulator.events().map((e) => e.eventId)).size]]);
  });

  it("parses event_time from every timestamp form the simulator emits", async () => {
    const { rows } = await trino.query(
      `SELECT eventid, "timestamp", to_unixtime(event_time) FROM events_dedup WHERE ${SIMULATED}`,
      schema,
    );
    const byId = new Map(lake.map((r) => [r.event.eventId, r.event]));
    const forms = new Set<string>();
    for (const [id, timestamp, seconds] of rows as [string, string, number | null][]) {
      expect(byId.get(id)?.timestamp).toBe(timestamp);
      const expected = eventTimeMs(timestamp);
      expect(seconds === null ? null : Math.round(seconds * 1000), timestamp).toBe(expected);
      forms.add(timestamp === "" ? "empty" : `${/\.(\d+)Z$/.exec(timestamp)?.[1]?.length ?? 0} digits`);
    }
    expect([...forms].sort()).toEqual(["0 digits", "1 digits", "3 digits", "7 digits", "empty"]);
  });

  it("reads only the filtered partition when a query on the view filters on dt", async () => {
    const day = daysBefore(today, 1);
    const onView = await trino.query(`SELECT count(*) FROM events_dedup WHERE dt = '${day}'`, schema);
    const dayRows = raw.filter((r) => r.dt === day).length;
    expect(onView.rows).toEqual([[lake.filter((r) => r.dt === day).length]]);
    expect(onView.processedRows).toBe(dayRows);
    expect(onView.processedRows).toBeLessThan(raw.length / 2);
  });
});

describe("events_lines and the view read the exact line, keys as sent", () => {
  it("events_lines holds every stored line byte for byte, one row per line", async () => {
    const day = daysBefore(today, 1);
    const { rows } = await trino.query(
      `SELECT dt, line FROM events_lines WHERE dt IN ('${day}', '${HOSTILE_DAY}', '${NO_ID_DAY}')`,
      schema,
    );
    const expected = lines.filter((l) => [day, HOSTILE_DAY, NO_ID_DAY].includes(l.dt));
    expect(expected.length).toBeGreaterThan(1000);
    expect(rowSet(rows)).toEqual(rowSet(expected.map((l) => [l.dt, l.line])));
    const perDay = await trino.query("SELECT dt, count(*) FROM events_lines GROUP BY 1", schema);
    const counts = new Map<string, number>();
    for (const l of lines) if (l.dt !== UNTIMED_DAY) counts.set(l.dt, (counts.get(l.dt) ?? 0) + 1);
    expect(rowSet(perDay.rows)).toEqual(rowSet([...counts]));
  });

  it("reads no day before projectionStart, though the lake holds one", async () => {
    for (const table of ["events_lines", "events", "events_dedup"]) {
      const { rows } = await trino.query(
        `SELECT count(*) FROM ${table} WHERE dt = '${BEFORE_START_DAY}' OR (dt < '${PROJECTION_START}' AND dt <> '${UNTIMED_DAY}')`,
        schema,
      );
      expect(rows, table).toEqual([[0]]);
    }
    const everything = await trino.query("SELECT count(*) FROM events_lines", schema);
    expect(everything.rows).toEqual([[lines.filter((l) => l.dt !== UNTIMED_DAY).length]]);
  });

  it("keeps data's keys as sent, colliding mixed-case ones included, and reads text coordinates as NULL or numbers", async () => {
    const { rows } = await trino.query(
      `SELECT eventid, data, latitude, longitude, ipaddresslocation.latitude, ipaddresslocation.longitude,
         ipaddresslocation.country, isusermemberofdomain, useragentclientinfo.browser.version.major,
         useragentclientinfo.os.family, useragentclientinfo.device
       FROM events_dedup WHERE dt = '${HOSTILE_DAY}' ORDER BY eventid`,
      schema,
    );
    expect(rows.map((r) => [r[0], JSON.parse(String(r[1])), ...r.slice(2)])).toEqual([
      ["hostile-1", HOSTILE_EVENTS[0].data, null, null, 12.5, -3.25, "NG", null, null, null, null],
      ["hostile-2", HOSTILE_EVENTS[1].data, 48.1, 11.6, null, null, "DE", true, "120", "Linux", null],
    ]);
  });

  it("keeps the events table readable with coordinates as text: they are strings there", async () => {
    const { rows } = await trino.query(
      `SELECT eventid, latitude, longitude, ipaddresslocation.latitude FROM events
       WHERE dt = '${HOSTILE_DAY}' ORDER BY eventid`,
      schema,
    );
    expect(rows).toEqual([
      ["hostile-1", "", "n/a", "12.5"],
      ["hostile-2", "48.1", "11.6", ""],
    ]);
  });

  it("monitor-alerts reads Severity, Count and EventIds as sent when data also holds severity and count", async () => {
    const rows = await saved("monitor-alerts", (sql) =>
      sql.replace(/dt >= date_format\([^)]*\)/, `dt = '${HOSTILE_DAY}'`),
    );
    expect(rows.map((r) => [r[1], r[2], r[3], JSON.parse(String(r[4])), r[5]])).toEqual([
      ["TooManyLoginFailures", "High", "7", ["e-1", "e-2"], "u-hostile"],
    ]);
  });
});

describe("each saved query finds what it is for", () => {
  it("the README's query runs as pasted: the 50 newest events", async () => {
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const section = readme.slice(readme.indexOf("6. **Query**"));
    const sql = /```sql\n([\s\S]*?)```/.exec(section)?.[1]?.trim() ?? "";
    const { rows, columns } = await trino.query(sql, schema);
    expect(columns).toEqual(["event_time", "userid", "object", "action", "result", "ipaddress"]);
    const newest = lake
      .filter(since(1))
      .map((r) => timeOf(r.event))
      .filter((t): t is number => t !== null)
      .sort((a, b) => b - a)
      .slice(0, 50);
    expect(rows.map((r) => r[0])).toEqual(newest.map(trinoTime));
  });

  it("failed-logins-by-user-and-ip: the user failing from two IPs first, everyone else once", async () => {
    const rows = await saved("failed-logins-by-user-and-ip");
    const groups = new Map<string, { row: unknown[]; last: number }>();
    for (const { event: e } of lake.filter(since(7))) {
      const action = str(e.action).toLowerCase();
      const login =
        action.includes("login") || action.includes("signin") || str(e.object).toLowerCase() === "login";
      if (e.result !== "Failed" || !login) continue;
      const key = JSON.stringify([e.userId, e.ipAddress, country(e)]);
      const g = groups.get(key) ?? { row: [e.userId, e.ipAddress, country(e), 0], last: 0 };
      g.row[3] = (g.row[3] as number) + 1;
      g.last = Math.max(g.last, timeOf(e) ?? 0);
      groups.set(key, g);
    }
    const { userId, ips } = PLANTED.bruteForce;
    expect(rows.slice(0, 2).map((r) => r.slice(0, 4))).toEqual(
      ips.map((ip) => [userId, ip.ipAddress, ip.country, ip.failures]),
    );
    expect(rows.slice(2).every((r) => r[3] === 1)).toBe(true);
    expect(rows).toHaveLength(Math.min(100, groups.size));
    const all = new Set([...groups.values()].map((g) => JSON.stringify([...g.row, curatedTime(g.last)])));
    for (const r of rows) expect(all.has(JSON.stringify(r)), JSON.stringify(r)).toBe(true);
  });

  it.each([
    ["one-user-activity", curatedTime],
    ["one-user-activity-evidence", trinoTime],
  ] as const)("%s: the user's day and the admin adding them, newest first", async (name, time) => {
    const user = PLANTED.oneDay.userId;
    const rows = await saved(name, (sql) => sql.replaceAll("00000000-0000-0000-0000-000000000000", user));
    const expected = lake
      .filter(since(30))
      .map((r) => r.event)
      .filter((e) => e.userId === user || e.referencedUserId === user)
      .sort((a, b) => (timeOf(b) ?? 0) - (timeOf(a) ?? 0))
      .map((e) => [
        time(timeOf(e)),
        e.object,
        e.action,
        e.property,
        e.result,
        e.source,
        e.ipAddress,
        e.userAgent,
        e.data,
      ]);
    expect(rows.map((r) => [...r.slice(0, 8), JSON.parse(String(r[8]))])).toEqual(expected);
    expect(rows).toHaveLength(9);
    expect(rows.at(-1)?.slice(1, 3)).toEqual(["Account", "UserAdded"]);
  });

  it("reads events_curated for every saved query but the two of evidence work, which read the raw view", () => {
    const tables = [...savedQueries].map(([name, sql]) => [name, /FROM "[^"]+"\."(\w+)"/.exec(sql)?.[1]]);
    expect(tables.filter(([, t]) => t !== "events_curated").sort()).toEqual([
      ["one-user-activity-evidence", "events_dedup"],
      ["untimed-events", "events_dedup"],
    ]);
    expect(tables.length).toBeGreaterThan(8);
  });

  it("permission-and-admin-changes: every administration change, the planted admin's and new webhooks, keys and domains included", async () => {
    const rows = await saved("permission-and-admin-changes");
    // The admin-change catalog (monitor-api.md plus the simulator's), written out independently of the SQL.
    const adminObjects = ["Account", "PermissionSet", "Group", "Connect", "IntegratorKey", "Organization"];
    const userChanges = ["Created", "Updated", "Deleted", "Added", "Removed", "Closed"];
    const expected = lake
      .filter(since(30))
      .map((r) => r.event)
      .filter(
        (e) =>
          adminObjects.includes(str(e.object)) ||
          (e.object === "User" && userChanges.some((verb) => str(e.action).includes(verb))),
      )
      .map((e) => [curatedTime(timeOf(e)), e.userId, e.object, e.action, e.property, e.field, e.result]);
    expect(rowSet(rows.map((r) => r.slice(0, 7)))).toEqual(rowSet(expected));
    const kinds = new Set(rows.map((r) => `${r[2]}/${r[3]}`));
    for (const kind of [
      "PermissionSet/Created",
      "Connect/Created",
      "Group/Created",
      "Group/Deleted",
      "IntegratorKey/Created",
      "IntegratorKey/SecretAdded",
      "Organization/DomainClaimed",
      "Organization/AdminAdded",
      "Account/UserRemoved",
      "User/Deleted",
    ])
      expect(kinds.has(kind), kind).toBe(true);
    for (const kind of ["User/Login", "User/Logout", "User/PasswordChanged", "Envelope/Deleted"])
      expect(kinds.has(kind), kind).toBe(false);
    const admin = rows.filter((r) => r[1] === PLANTED.admin.userId).map((r) => `${r[2]} ${r[3]} ${r[4]}`);
    expect(admin.sort()).toEqual([
      "Account UserAdded ",
      "Connect Updated ConnectConfiguration",
      "PermissionSet Updated Permissions",
      "User Updated PermissionProfile",
    ]);
  });

  it("monitor-alerts: every alert with severity, count and triggering events", async () => {
    const rows = await saved("monitor-alerts");
    const expected = lake
      .filter(since(30))
      .map((r) => r.event)
      .filter((e) => e.object === "Alert")
      .map((e) => {
        const d = e.data as { Severity?: string; Count?: string; EventIds?: string[] };
        return [
          curatedTime(timeOf(e)),
          e.action,
          d.Severity ?? null,
          d.Count ?? null,
          JSON.stringify(d.EventIds ?? null),
          e.userId,
          e.ipAddress,
        ];
      });
    expect(
      rowSet(rows.map((r) => [...r.slice(0, 4), JSON.stringify(JSON.parse(String(r[4]))), r[5], r[6]])),
    ).toEqual(rowSet(expected));
    const planted = rows.filter((r) => r[5] === PLANTED.bruteForce.userId);
    expect(planted.map((r) => r[1]).sort()).toEqual([
      "CredentialLeakDetected",
      "IpAddressOutsideAllowedRanges",
      "SameSenderAndSigner",
      "TooManyLoginFailures",
    ]);
    const failures = lake
      .filter((r) => r.event.userId === PLANTED.bruteForce.userId && r.event.result === "Failed")
      .map((r) => r.event.eventId);
    const tooMany = planted.find((r) => r[1] === "TooManyLoginFailures");
    expect([tooMany?.[2], tooMany?.[3], JSON.parse(String(tooMany?.[4]))]).toEqual(["High", "10", failures]);
  });

  it("sign-ins-from-new-countries: the traveller's first sign-in from Nigeria, and no known country", async () => {
    const rows = await saved("sign-ins-from-new-countries");
    const logins = lake
      .filter(since(31))
      .filter((r) => str(r.event.action).toLowerCase().includes("login") && r.event.result === "Success");
    const cut = daysBefore(today, 1);
    const known = new Set(
      logins.filter((r) => r.dt < cut).map((r) => `${r.event.userId} ${country(r.event)}`),
    );
    const fresh = new Map<string, { first: number; ips: Set<unknown> }>();
    for (const { dt, event: e } of logins) {
      const key = `${e.userId} ${country(e)}`;
      if (dt < cut || known.has(key)) continue;
      const f = fresh.get(key) ?? { first: Number.POSITIVE_INFINITY, ips: new Set() };
      f.first = Math.min(f.first, timeOf(e) ?? Number.POSITIVE_INFINITY);
      f.ips.add(e.ipAddress);
      fresh.set(key, f);
    }
    expect(rowSet(rows.map((r) => [r[0], r[1], r[2]]))).toEqual(
      rowSet([...fresh].map(([k, f]) => [...k.split(" "), curatedTime(f.first)])),
    );
    for (const r of rows) expect(fresh.get(`${r[0]} ${r[1]}`)?.ips.has(r[3])).toBe(true);
    const { userId, newCountry, newIpAddress, homeCountry } = PLANTED.traveller;
    expect(rows.filter((r) => r[0] === userId).map((r) => [r[1], r[3]])).toEqual([
      [newCountry, newIpAddress],
    ]);
    expect(rows.some((r) => r[0] === userId && r[1] === homeCountry)).toBe(false);
  });

  it("api-integration-key-activity: each key's volume, users and IPs; the web UI left out", async () => {
    const rows = await saved("api-integration-key-activity");
    const keys = new Map<string, Record<string, unknown>[]>();
    for (const { event: e } of lake.filter(since(7))) {
      const key = str(e.integratorKey);
      if (key === "" || key === WEB) continue;
      keys.set(key, [...(keys.get(key) ?? []), e]);
    }
    const expected = [...keys].map(([key, events]) => {
      const times = events.map(timeOf).filter((t): t is number => t !== null);
      return [
        key,
        events.length,
        new Set(events.map((e) => e.userId)).size,
        new Set(events.map((e) => e.ipAddress)).size,
        curatedTime(Math.min(...times)),
        curatedTime(Math.max(...times)),
      ];
    });
    expect(rowSet(rows)).toEqual(rowSet(expected));
    const { integratorKey, events } = PLANTED.integration;
    expect(rows.find((r) => r[0] === integratorKey)?.slice(1, 4)).toEqual([events, 1, 2]);
  });

  it("envelope-download-volume-by-user: only the day someone downloaded above the threshold", async () => {
    const rows = await saved("envelope-download-volume-by-user");
    const perDay = new Map<string, number>();
    for (const { dt, event: e } of lake.filter(since(14))) {
      if (e.object === "Envelope" && str(e.action).toLowerCase().includes("download")) {
        perDay.set(`${dt} ${e.userId}`, (perDay.get(`${dt} ${e.userId}`) ?? 0) + 1);
      }
    }
    const above = [...perDay].filter(([, n]) => n >= 20).map(([k, n]) => [...k.split(" "), n, 1]);
    expect(rows).toEqual(above);
    expect(rows).toEqual([
      [daysBefore(today, 1), PLANTED.bulkDownloader.userId, PLANTED.bulkDownloader.downloads, 1],
    ]);
  });

  it("event-volume-by-hour: events per hour and object over two days", async () => {
    const rows = await saved("event-volume-by-hour");
    const counts = new Map<string, number>();
    for (const { event: e } of lake.filter(since(2))) {
      const t = timeOf(e);
      const key = JSON.stringify([
        t === null ? null : curatedTime(Math.floor(t / 3_600_000) * 3_600_000),
        e.object,
      ]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(rowSet(rows)).toEqual(rowSet([...counts].map(([k, n]) => [...(JSON.parse(k) as unknown[]), n])));
    expect(rows.length).toBeGreaterThan(40);
  });
});

describe("the README's worked investigation, on events_curated", () => {
  const readme = readFile(new URL("../../README.md", import.meta.url), "utf8");
  const investigation = async (): Promise<string[]> => {
    const text = await readme;
    const section = text.slice(text.indexOf("**A worked investigation.**"), text.indexOf("## OCSF"));
    return [...section.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) =>
      (m[1] ?? "").replace(/^ {3}/gm, "").trim().replace(/;$/, ""),
    );
  };
  const user = PLANTED.bruteForce.userId;
  const weekAgo = () => Date.now() - 7 * 86_400_000;

  it("reads the curated table in both queries", async () => {
    const queries = await investigation();
    expect(queries).toHaveLength(2);
    for (const sql of queries) {
      expect(sql).toContain("FROM events_curated");
      expect(sql).not.toContain("events_dedup");
    }
  });

  it("everything the alerted user did in the last 7 days, newest first", async () => {
    const [sql] = await investigation();
    const { rows } = await trino.query((sql ?? "").replaceAll("<userId>", user), schema);
    const expected = lake
      .map((r) => r.event)
      .filter((e) => e.userId === user && (timeOf(e) ?? 0) >= weekAgo())
      .map((e) => [
        curatedTime(timeOf(e)),
        e.object,
        e.action,
        e.result,
        e.source,
        e.ipAddress,
        country(e),
        e.userAgent,
        e.integratorKey,
      ]);
    expect(expected.length).toBeGreaterThan(10);
    expect(rowSet(rows)).toEqual(rowSet(expected));
    const times = rows.map((r) => String(r[0]));
    expect(times).toEqual([...times].sort().reverse());
  });

  it("the events that triggered the alert: its data.EventIds, each once", async () => {
    const [, sql] = await investigation();
    const alert = lake.find((r) => r.event.userId === user && r.event.action === "TooManyLoginFailures");
    if (!alert) throw new Error("the simulator planted no TooManyLoginFailures alert");
    const ids = (alert.event.data as { EventIds: string[] }).EventIds;
    const { rows } = await trino.query(
      (sql ?? "").replaceAll("<eventId>", String(alert.event.eventId)),
      schema,
    );
    const expected = lake
      .map((r) => r.event)
      .filter((e) => ids.includes(String(e.eventId)))
      .map((e) => [curatedTime(timeOf(e)), e.userId, e.object, e.action, e.result, e.ipAddress]);
    expect(expected).toHaveLength(PLANTED.bruteForce.ips.reduce((n, ip) => n + ip.failures, 0));
    expect(rowSet(rows)).toEqual(rowSet(expected));
  });
});

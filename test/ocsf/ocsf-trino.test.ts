import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTrino, type Trino } from "../../dev/trino";
import { runMerge } from "../../dev/trino-iceberg";
import { OCSF_CLASSES, type OcsfClassName } from "../../infra/ocsf-rules";
import { OCSF_VIEWS } from "../../infra/ocsf-schema";
import { sourceName } from "../../infra/security-lake-export";
import { HOSTILE, HOSTILE_DAY, NO_ID_LINE } from "../fixtures/ocsf-hostile-events";
import { awsClients, createBucket, uniqueName } from "../helpers/aws";
import { type LakeRow, readLake } from "../helpers/lake-oracle";
import { claim, createExportsTable, type ExportRig, exportUnit, pending, type Unit } from "./export-steps";
import { addRawObject, createOcsfTables, writeDemoLake } from "./ocsf-lake";
import { type OcsfRecord, ocsfRecords, validateOcsf } from "./ocsf-records";

/**
 * The OCSF views of infra/ocsf-schema.ts on Trino 476 over the curated table (Iceberg, issue 22's
 * MERGE) of a demo lake the CLI writes from the simulator (plus hostile and extra-family events), each record checked against OCSF 1.1.0's JSON
 * Schema of its class (test/fixtures/ocsf-1.1.0, validated by the jsonschema package).
 */

interface Captions {
  readonly class_name: string;
  readonly category_name: string;
  readonly activity: Record<string, string>;
  readonly severity: Record<string, string>;
  readonly status: Record<string, string>;
  readonly required: string[];
  readonly at_least_one: string[][];
}
const CAPTIONS = JSON.parse(
  await readFile(new URL("../fixtures/ocsf-1.1.0/captions.json", import.meta.url), "utf8"),
) as Record<OcsfClassName, Captions>;

/** OCSF 1.1.0's required attributes per class with the cloud profile, listed here and checked against the schema. */
const BASE_REQUIRED = [
  "activity_id",
  "category_uid",
  "class_uid",
  "cloud",
  "metadata",
  "severity_id",
  "time",
  "type_uid",
];
const REQUIRED: Record<OcsfClassName, string[]> = {
  base_event: BASE_REQUIRED,
  detection_finding: [...BASE_REQUIRED, "finding_info"],
  account_change: [...BASE_REQUIRED, "user"],
  authentication: [...BASE_REQUIRED, "user"],
  entity_management: [...BASE_REQUIRED, "entity"],
  user_access: [...BASE_REQUIRED, "privileges", "user"],
  group_management: [...BASE_REQUIRED, "group"],
  web_resources_activity: [...BASE_REQUIRED, "web_resources"],
};

let root = "";
let trino: Trino;
let curated = 0;
let SCHEMA = "";
const records = new Map<OcsfClassName, OcsfRecord[]>();
const byUid = new Map<string, { class: OcsfClassName; record: OcsfRecord }>();
const raw = new Map<string, Record<string, unknown>>();

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "monitor-lake-ocsf-"));
  const starting = startTrino(root);
  starting.catch(() => undefined);
  await writeDemoLake(root, 6_000);
  await addRawObject(root, HOSTILE_DAY, "demo", [...Object.values(HOSTILE).map((h) => h.line), NO_ID_LINE]);
  trino = await starting;
  SCHEMA = await createOcsfTables(trino, root);
  curated = Number((await trino.query("SELECT count(*) FROM events_curated", SCHEMA)).rows[0]?.[0]);
  for (const view of OCSF_VIEWS) {
    const rows = await ocsfRecords(trino, SCHEMA, view);
    records.set(view.class, rows);
    for (const record of rows) byUid.set(record.metadata.uid, { class: view.class, record });
  }
  for (const row of (await readLake(join(root, "lake"))) as LakeRow[]) {
    if (typeof row.event.eventId === "string" && row.event.eventId !== "")
      raw.set(row.event.eventId, row.event);
  }
}, 600_000);

afterAll(async () => {
  await trino?.stop();
  if (root) await rm(root, { recursive: true, force: true });
});

const all = (): { class: OcsfClassName; record: OcsfRecord }[] =>
  [...records].flatMap(([name, rows]) => rows.map((record) => ({ class: name, record })));

describe("the OCSF views on Trino 476", () => {
  it("emit every curated event exactly once, in one class: the sum over the views is the curated table", async () => {
    const total = all().length;
    expect(curated).toBeGreaterThan(6_000);
    expect(total).toBe(curated);
    expect(byUid.size).toBe(curated);
  });

  it("validate, every record of the demo lake and of the hostile fixtures, against OCSF 1.1.0's JSON Schema of its class", async () => {
    const result = validateOcsf(all());
    expect(result.errors).toEqual([]);
    expect(result.validated).toBe(curated);
  });

  it("the validator would notice: a record without a required attribute, a wrong enum, a coordinate as text", () => {
    const [first] = records.get("authentication") ?? [];
    const { user: _user, ...noUser } = first as OcsfRecord;
    const result = validateOcsf([
      { class: "authentication", record: noUser },
      { class: "authentication", record: { ...first, activity_id: 42 } },
      {
        class: "authentication",
        record: { ...first, src_endpoint: { ip: "198.51.100.1", location: { coordinates: ["", ""] } } },
      },
    ]);
    expect(result.errors.map((e) => e.line)).toEqual(expect.arrayContaining([1, 2, 3]));
  });

  it("count the events no rule maps as Base Events (class 0, activity Other), with the raw line reachable through metadata.uid", async () => {
    const counted = await trino.query("SELECT class_uid, count(*) FROM ocsf_events GROUP BY 1", SCHEMA);
    const perView = Object.fromEntries(
      [...records].map(([name, rows]) => [OCSF_CLASSES[name].uid, rows.length]),
    );
    expect(Object.fromEntries(counted.rows.map(([c, n]) => [Number(c), Number(n)]))).toEqual(perView);
    const base = records.get("base_event") ?? [];
    expect(base.map((r) => r.metadata.uid).sort()).toEqual(["h-envelope-no-id", "h-no-object"]);
    for (const r of base) {
      const { rows } = await trino.query(
        `SELECT raw FROM events_curated WHERE event_id = '${r.metadata.uid}'`,
        SCHEMA,
      );
      expect(rows.length).toBe(1);
    }
  });

  it("put each DocuSign family into its class and activity", () => {
    const families = new Map<string, Set<string>>();
    for (const { class: name, record } of all()) {
      if (record.metadata.uid in HOSTILE) continue;
      const code = String(record.metadata.event_code);
      const seen = families.get(code) ?? new Set<string>();
      seen.add(`${OCSF_CLASSES[name].uid}/${record.activity_id}`);
      families.set(code, seen);
    }
    const expected: Record<string, string> = {
      "Account/UserAdded": "3001/1",
      "Envelope/Created": "6001/1",
      "Envelope/Sent": "6001/8",
      "Envelope/Viewed": "6001/2",
      "Envelope/Downloaded": "6001/7",
      "Envelope/Deleted": "6001/4",
      "Envelope/Completed": "6001/99",
      "Envelope/Corrected": "6001/3",
      "IntegratorKey/Created": "3004/1",
      "Template/Created": "3004/1",
      "Template/Deleted": "3004/4",
      "Group/Deleted": "3004/4",
      "Account/Updated": "3004/3",
      "PermissionSet/Updated": "3004/3",
      "Connect/Created": "3004/1",
      "Alert/IpAddressOutsideAllowedRanges": "2004/1",
      "Alert/SameSenderAndSigner": "2004/1",
      "Alert/TooManyLoginFailures": "2004/1",
      "Alert/CredentialLeakDetected": "2004/1",
      "User/Login": "3002/1",
      "User/SsoLogin": "3002/1",
      "User/TwoFactorFailed": "3002/1",
      "User/Logout": "3002/2",
      "User/PasswordChanged": "3001/3",
      "User/PasswordResetRequested": "3001/4",
      "User/TwoFactorEnabled": "3001/10",
      "User/LockedOut": "3001/9",
      "User/Closed": "3001/5",
      "User/Deleted": "3001/6",
      "Account/UserRemoved": "3001/6",
      "User/Updated": "3005/1",
      "Organization/AdminAdded": "3005/1",
    };
    for (const [code, classActivity] of Object.entries(expected)) {
      expect([...(families.get(code) ?? [])], code).toEqual([classActivity]);
    }
    for (const [uid, h] of Object.entries(HOSTILE)) {
      const found = byUid.get(uid);
      expect(found && `${OCSF_CLASSES[found.class].uid}/${found.record.activity_id}`, uid).toBe(
        `${h.classUid}/${h.activityId}`,
      );
    }
  });

  it("fill each class's required attributes (OCSF 1.1.0 with the cloud profile) in every record", () => {
    for (const [name, list] of Object.entries(REQUIRED) as [OcsfClassName, string[]][]) {
      expect(list.sort(), name).toEqual(CAPTIONS[name].required);
      const rows = records.get(name) ?? [];
      for (const record of rows) {
        for (const attribute of list) expect(record[attribute], `${name}.${attribute}`).not.toBeNull();
        // OCSF's at_least_one constraint (a JSON Schema anyOf of required lists): one list is filled.
        const anyOf = CAPTIONS[name].at_least_one;
        const filled = (a: string): boolean => record[a] !== null && record[a] !== undefined;
        if (anyOf.length > 0)
          expect(
            anyOf.some((list) => list.every(filled)),
            `${name}: ${anyOf}`,
          ).toBe(true);
      }
    }
    for (const name of Object.keys(OCSF_CLASSES) as OcsfClassName[])
      expect(records.get(name)?.length, name).toBeGreaterThan(0);
  });

  it("name classes, categories, activities, severities and statuses with OCSF 1.1.0's captions", () => {
    for (const { class: name, record } of all()) {
      const c = CAPTIONS[name];
      expect(record.class_name).toBe(c.class_name);
      expect(record.category_name).toBe(c.category_name);
      const activity = c.activity[String(record.activity_id)];
      expect(record.type_name).toBe(`${c.class_name}: ${activity}`);
      if (record.activity_id !== 99) expect(record.activity_name).toBe(activity);
      expect(record.severity).toBe(c.severity[String(record.severity_id)]);
      expect(record.status).toBe(c.status[String(record.status_id)]);
      expect(record.type_uid).toBe(OCSF_CLASSES[name].uid * 100 + Number(record.activity_id));
    }
  });
});

const text = (v: unknown): string | undefined =>
  v === undefined || v === null || v === "" ? undefined : String(v);
const location = (e: Record<string, unknown>): Record<string, unknown> =>
  (e.ipAddressLocation as Record<string, unknown> | undefined) ?? {};

describe("what an OCSF record holds", () => {
  it("metadata: OCSF 1.1.0, DocuSign Monitor, uid = eventId, event_code = object/action, the original timestamp; time in epoch ms", () => {
    let checked = 0;
    for (const { record } of all()) {
      const e = raw.get(record.metadata.uid);
      if (!e || e.eventId === "h-untimed") continue;
      const metadata = record.metadata as Record<string, unknown>;
      expect(metadata.version).toBe("1.1.0");
      expect(metadata.product).toEqual({ vendor_name: "DocuSign", name: "Monitor" });
      expect(metadata.event_code).toBe([text(e.object), text(e.action)].filter(Boolean).join("/") || null);
      expect(metadata.original_time).toBe(text(e.timestamp) ?? null);
      const ms = /^(.{19})(\.\d+)?Z$/.exec(String(e.timestamp));
      if (ms)
        expect(record.time).toBe(Date.parse(`${ms[1]}${(ms[2] ?? ".000").padEnd(4, "0").slice(0, 4)}Z`));
      checked++;
    }
    expect(checked).toBeGreaterThan(6_000);
  });

  it("src_endpoint: the IP, and coordinates in GeoJSON order, longitude first", () => {
    let withCoordinates = 0;
    for (const { record } of all()) {
      const endpoint = record.src_endpoint as
        | { ip: string; location?: { coordinates?: number[] } }
        | null
        | undefined;
      const e = raw.get(record.metadata.uid);
      if (!endpoint || !e) continue;
      expect(endpoint.ip).toBe(e.ipAddress);
      const coordinates = endpoint.location?.coordinates;
      if (!coordinates) continue;
      const lon = Number(e.longitude ?? location(e).longitude);
      const lat = Number(e.latitude ?? location(e).latitude);
      expect(coordinates).toEqual([lon, lat]);
      withCoordinates++;
    }
    expect(withCoordinates).toBeGreaterThan(1_000);
  });

  it("the user agent in http_request, the acting user in actor, the target user in user", () => {
    const change = (records.get("account_change") ?? []).find(
      (r) => r.metadata.event_code === "Account/UserAdded",
    );
    const e = raw.get(String(change?.metadata.uid)) as Record<string, unknown>;
    const data = e.data as Record<string, unknown>;
    expect(change?.user).toEqual({
      uid: text(e.affectedUserId) ?? text(data.AffectedUserId) ?? e.referencedUserId,
    });
    expect(change?.actor).toEqual({ user: { uid: e.userId } });
    if (text(e.userAgent)) expect(change?.http_request).toEqual({ user_agent: e.userAgent });
  });

  it("unmapped keeps every field that has no slot, a new DocuSign field included", () => {
    const web = (records.get("web_resources_activity") ?? []).find(
      (r) => !(r.metadata.uid in HOSTILE) && r.src_endpoint,
    ) as OcsfRecord;
    const e = raw.get(web.metadata.uid) as Record<string, unknown>;
    const unmapped = web.unmapped as Record<string, string>;
    // Web Resources Activity has no actor in 1.1.0: the acting user stays in unmapped.
    expect(unmapped.userId).toBe(e.userId);
    expect(JSON.parse(unmapped.data as string)).toEqual(e.data);
    expect(unmapped.site).toBe(e.site);
    expect(unmapped.ipAddress).toBeUndefined();
    const added = byUid.get("h-new-field")?.record.unmapped as Record<string, string>;
    expect(JSON.parse(added.brandNewField as string)).toEqual({ nested: [1, 2] });
    expect(byUid.get("h-new-field")?.record.status_id).toBe(99);
    expect(byUid.get("h-new-field")?.record.status_code).toBe("Partial");
  });

  it("hostile fields: empty or textual coordinates, an invalid IP, a numeric user id, a 70,000-character user agent, an odd alert", () => {
    const get = (id: string): Record<string, unknown> => byUid.get(id)?.record as Record<string, unknown>;
    expect(get("h-coords-empty").src_endpoint).toEqual({ ip: "198.51.100.7", location: null });
    expect(get("h-coords-text").src_endpoint).toEqual({
      ip: "2001:db8::1",
      location: { coordinates: null, country: "GB", region: null, city: null },
    });
    expect(get("h-bad-ip").src_endpoint).toBeNull();
    expect((get("h-bad-ip").unmapped as Record<string, string>).ipAddress).toBe("not-an-ip");
    expect(get("h-numeric-user").user).toEqual({ uid: "12345678901234567890" });
    expect(get("h-numeric-user").status_id).toBe(2);
    expect(String((get("h-long-agent").http_request as { user_agent: string }).user_agent).length).toBe(
      65_535,
    );
    expect(get("h-alert-odd")).toMatchObject({ severity_id: 0, count: null });
    expect((get("h-alert-odd").finding_info as Record<string, unknown>).related_events).toBeNull();
    const signer = get("h-alert-signer");
    expect(signer.severity_id).toBe(4);
    expect(signer.evidences).toEqual([
      { actor: { user: { uid: "user-hostile" } }, src_endpoint: { ip: "198.51.100.8", location: null } },
      { actor: { user: { uid: "signer-1" } }, src_endpoint: { ip: "203.0.113.10", location: null } },
    ]);
    expect(signer.resources).toEqual([{ uid: "env-3", type: "Envelope" }]);
    expect((signer.finding_info as Record<string, unknown>).related_events).toEqual([
      { uid: "e1" },
      { uid: "e2" },
    ]);
  });

  it("an untimed event gets midnight of its dt as time; an event without eventId gets sha256 of its line as uid", async () => {
    const untimed = byUid.get("h-untimed")?.record as OcsfRecord;
    const { rows } = await trino.query("SELECT dt FROM events_curated WHERE event_id = 'h-untimed'", SCHEMA);
    expect(untimed.time).toBe(Date.parse(`${rows[0]?.[0]}T00:00:00Z`));
    expect((untimed.metadata as Record<string, unknown>).original_time).toBe("yesterday");
    const { createHash } = await import("node:crypto");
    const uid = `sha256:${createHash("sha256").update(NO_ID_LINE).digest("hex")}`;
    expect(byUid.get(uid)?.class).toBe("web_resources_activity");
  });
});

describe("the export steps the curation runs (claim, pending units, UNLOAD's SELECT to staging, delivery on moto S3, mark)", () => {
  const s3 = awsClients().s3;
  let rig: ExportRig;
  let securityLake = "";
  const firstRound = new Map<string, number>();
  const delivered: { unit: Unit; uids: string[]; keys: string[] }[] = [];
  let fromDay = "";

  async function bucketKeys(): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: securityLake, ...(token ? { ContinuationToken: token } : {}) }),
      );
      for (const o of page.Contents ?? []) keys.push(o.Key as string);
      token = page.NextContinuationToken;
    } while (token);
    return keys.sort();
  }

  beforeAll(async () => {
    securityLake = `aws-security-data-lake-us-east-1-${uniqueName("t").slice(2)}`;
    await s3.send(new CreateBucketCommand({ Bucket: securityLake }));
    rig = {
      trino,
      schema: SCHEMA,
      root,
      s3,
      stagingBucket: await createBucket(s3),
      location: (name) => `s3://${securityLake}/ext/${sourceName("docusign-monitor", name)}/`,
    };
    await createExportsTable(trino, SCHEMA);
    // Two days keep the test short: the demo's last full day and its newest (every family but the
    // hostile fixtures'). Not the newest alone: the demo's days end at the clock's time, so just after
    // midnight UTC the newest holds a few dozen events, and the test would depend on the hour.
    const days = `SELECT DISTINCT dt FROM events_curated WHERE dt <> '${HOSTILE_DAY}' ORDER BY dt DESC`;
    fromDay = String((await trino.query(`${days} OFFSET 1 LIMIT 1`, SCHEMA)).rows[0]?.[0]);
    await claim(rig, "run-1", fromDay);
    for (const unit of await pending(rig)) {
      const out = await exportUnit(rig, unit);
      delivered.push({ unit, ...out });
      for (const uid of out.uids) firstRound.set(uid, (firstRound.get(uid) ?? 0) + 1);
    }
  }, 600_000);

  it("delivers every event of the window once, in its class's source, under the exact mixed-case partition", async () => {
    const { rows } = await trino.query(
      `SELECT count(*) FROM (SELECT DISTINCT "stream", "dt", "uid" FROM ocsf_events WHERE dt >= '${fromDay}')`,
      SCHEMA,
    );
    expect(firstRound.size).toBe(Number(rows[0]?.[0]));
    expect(firstRound.size).toBeGreaterThan(100);
    expect([...firstRound.values()].every((n) => n === 1)).toBe(true);
    const keys = await bucketKeys();
    expect(keys).toEqual(delivered.flatMap((d) => d.keys).sort());
    const layout =
      /^ext\/docusign-monitor-(\d+)\/region=us-east-1\/accountId=123456789012\/eventDay=(\d{8})\/run-1-[^/]+\.parquet$/;
    for (const d of delivered) {
      expect(d.keys.length, `${d.unit.classUid}/${d.unit.day}`).toBeGreaterThan(0);
      for (const key of d.keys) {
        const m = layout.exec(key);
        expect(m, key).not.toBeNull();
        expect(m?.[1]).toBe(d.unit.classUid);
        expect(m?.[2]).toBe(d.unit.day.replaceAll("-", ""));
        const object = await s3.send(new GetObjectCommand({ Bucket: securityLake, Key: key }));
        const bytes = await object.Body?.transformToByteArray();
        expect(
          Buffer.from(bytes ?? [])
            .subarray(0, 4)
            .toString("latin1"),
        ).toBe("PAR1");
      }
    }
    expect(await pending(rig)).toEqual([]);
  });

  it("a later run claims only new events (late ones for a delivered day), and a unit repeated after a failure adds no copy", async () => {
    const { rows } = await trino.query(
      `SELECT raw FROM events_curated WHERE dt = '${fromDay}' LIMIT 3`,
      SCHEMA,
    );
    const late = (rows as [string][]).map(([line], i) => {
      const event = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify({ ...event, eventId: `late-${i}` });
    });
    await addRawObject(root, fromDay, "late", late);
    await runMerge(trino, SCHEMA);
    await claim(rig, "run-2", fromDay);
    const units = await pending(rig);
    expect(units.length).toBeGreaterThan(0);
    expect(units.every((u) => u.batch === "run-2")).toBe(true);
    const before = await bucketKeys();
    // The first attempt fails after delivering, before its mark: the unit stays pending.
    const failed = await exportUnit(rig, units[0] as Unit, false);
    expect(await pending(rig)).toContainEqual(units[0]);
    const uids: string[] = [];
    const last: string[] = [];
    for (const unit of await pending(rig)) {
      const out = await exportUnit(rig, unit);
      uids.push(...out.uids);
      last.push(...out.keys);
    }
    expect(uids.sort()).toEqual(["late-0", "late-1", "late-2"]);
    const after = await bucketKeys();
    // The earlier objects stay as they were; what is new is each unit's last attempt only.
    expect(after.filter((k) => before.includes(k))).toEqual(before);
    expect(after.filter((k) => !before.includes(k))).toEqual(last.sort());
    expect(failed.keys.length).toBeGreaterThan(0);
    expect(await pending(rig)).toEqual([]);
  });
});

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

/**
 * Days of hand-written events the Athena tests add to the simulator's lake, each in a day of its own
 * (inside the partition projection's range) so that no other check counts them.
 */

/** The test's projectionStart: days before it exist in the lake but are never read. */
export const PROJECTION_START = "2021-01-01";

/** A day before PROJECTION_START, with one event that no query may return. */
export const BEFORE_START_DAY = "2020-12-31";

/**
 * Events without an eventId: the view keeps each once per exact line. One line is stored again in a
 * second object (a re-read across a recovery), and one event comes again with its keys in another order.
 */
export const NO_ID_DAY = "2021-01-01";

/**
 * What Athena's OpenX reader gets wrong and Trino's does not: keys inside `data` that differ only in
 * case (nested too), numbers sent as text, empty or `"n/a"`, and a struct to read field by field.
 */
export const HOSTILE_DAY = "2021-01-02";

/**
 * One eventId stored by two streams ("demo" twice, "other" once): the view deduplicates within a
 * stream, so it keeps one row per stream.
 */
export const STREAMS_DAY = "2021-01-08";

/** Fixture days are all before this; the simulator's are after it (and the untimed day, 1970-01-01). */
export const FIXTURES_BEFORE = "2022-01-01";

export const HOSTILE_EVENTS = [
  {
    timestamp: `${HOSTILE_DAY}T00:00:01Z`,
    eventId: "hostile-1",
    object: "Alert",
    action: "TooManyLoginFailures",
    userId: "u-hostile",
    ipAddress: "198.51.100.7",
    latitude: "",
    longitude: "n/a",
    ipAddressLocation: { latitude: "12.5", longitude: -3.25, country: "NG" },
    data: { Severity: "High", severity: "low", Count: "7", count: "1", EventIds: ["e-1", "e-2"] },
  },
  {
    timestamp: `${HOSTILE_DAY}T00:00:02Z`,
    eventId: "hostile-2",
    object: "User",
    action: "Updated",
    userId: "u-hostile",
    latitude: 48.1,
    longitude: "11.6",
    ipAddressLocation: { latitude: "", longitude: "n/a", country: "DE" },
    isUserMemberOfDomain: "true",
    userAgentClientInfo: {
      browser: { family: "Firefox", version: { major: "120", minor: "0", patch: "1" } },
      os: { family: "Linux" },
    },
    data: { Nested: { Key: "Upper", key: "lower" }, Value: 1, value: 2 },
  },
] as const;

/** Writes the fixture days into `<lakeDir>/events/` as the stream "demo" would store them. */
export async function writeFixtureDays(lakeDir: string): Promise<void> {
  const write = async (dt: string, chunk: string, lines: string[]): Promise<void> => {
    await mkdir(join(lakeDir, "events", `dt=${dt}`), { recursive: true });
    await writeFile(
      join(lakeDir, "events", `dt=${dt}`, `demo-${chunk}-000.json.gz`),
      gzipSync(`${lines.join("\n")}\n`),
    );
  };
  await write(BEFORE_START_DAY, "00000000000000cc", [
    `{"timestamp":"${BEFORE_START_DAY}T00:00:01Z","eventId":"before-start","action":"Hidden","userId":"u0"}`,
  ]);
  await write(NO_ID_DAY, "00000000000000aa", [
    `{"timestamp":"${NO_ID_DAY}T00:00:01Z","action":"NoId","userId":"u1"}`,
    `{"timestamp":"${NO_ID_DAY}T00:00:02Z","action":"NoId","userId":"u2"}`,
    `{"timestamp":"${NO_ID_DAY}T00:00:03Z","eventId":"","action":"EmptyId","userId":"u3"}`,
  ]);
  await write(NO_ID_DAY, "00000000000000ab", [
    `{"timestamp":"${NO_ID_DAY}T00:00:01Z","action":"NoId","userId":"u1"}`,
    `{"timestamp":"${NO_ID_DAY}T00:00:03Z","eventId":"","action":"EmptyId","userId":"u3"}`,
    `{"action":"NoId","timestamp":"${NO_ID_DAY}T00:00:02Z","userId":"u2"}`,
  ]);
  const shared = `{"timestamp":"${STREAMS_DAY}T10:00:00Z","eventId":"shared-1","action":"Shared"}`;
  await write(STREAMS_DAY, "00000000000000dd", [shared]);
  await write(STREAMS_DAY, "00000000000000de", [shared]);
  await mkdir(join(lakeDir, "events", `dt=${STREAMS_DAY}`), { recursive: true });
  await writeFile(
    join(lakeDir, "events", `dt=${STREAMS_DAY}`, "other-00000000000000df-000.json.gz"),
    gzipSync(`${shared}\n`),
  );
  await write(
    HOSTILE_DAY,
    "00000000000000bb",
    HOSTILE_EVENTS.map((e) => JSON.stringify(e)),
  );
}

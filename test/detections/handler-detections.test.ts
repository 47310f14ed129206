import { readFile } from "node:fs/promises";
import { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import { parseEventTime } from "../../lambda/core/event-time";
import { DETECTION_ERRORS_METRIC, METRIC_MAX_AGE_MS } from "../../lambda/detections/emit";
import {
  DEFAULT_RULES,
  DETECTION_ENV,
  DETECTION_LOG_MESSAGE,
  DETECTION_METRIC,
} from "../../lambda/detections/rules";
import { ConfigError, StorageError } from "../../lambda/errors";
import { createHandler } from "../../lambda/handler/handler";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { awsClients, createBucket, createSecret, createStateTable } from "../helpers/aws";
import { lambdaContext as context } from "../helpers/lambda-context";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";
import { HOSTILE_IDS, hostileEventTexts } from "./hostile-events";

const clients = awsClients();
let fixture: SimulatorFixture | undefined;
afterEach(async () => {
  await fixture?.simulator.stop();
  fixture = undefined;
});

async function setup(
  simulator: Parameters<typeof startSimulator>[0],
  extraEnv: Record<string, string> = {},
): Promise<{ f: SimulatorFixture; env: Record<string, string> }> {
  fixture = await startSimulator(simulator);
  const f = fixture;
  const env = envForSimulator(f, {
    [ENV.privateKeySecret]: await createSecret(clients.secrets, f.keys.pkcs1Pem),
    [ENV.bucket]: await createBucket(clients.s3),
    [ENV.stateTable]: await createStateTable(clients.dynamo),
    [ENV.startCursor]: "2000-01-01T00:00:00Z",
    [ENV.stream]: "org1",
    ...extraEnv,
  });
  return { f, env };
}

/** The JSON lines Powertools writes to stdout and stderr (logs and EMF; warnings go to stderr) while `fn` runs. */
async function captureJson(fn: () => Promise<unknown>): Promise<Record<string, unknown>[]> {
  const chunks: string[] = [];
  const streams = [process.stdout, process.stderr];
  const writes = streams.map((s) => s.write.bind(s));
  for (const s of streams)
    s.write = ((chunk: string | Uint8Array) => {
      chunks.push(String(chunk));
      return true;
    }) as typeof s.write;
  try {
    await fn();
  } finally {
    streams.forEach((s, i) => {
      s.write = writes[i] as typeof s.write;
    });
  }
  return chunks
    .join("")
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

interface Emf {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  readonly [key: string]: unknown;
}
const ruleDataPoints = (lines: Record<string, unknown>[]): Emf[] =>
  lines.filter((l) => "_aws" in l && DETECTION_METRIC in l) as unknown as Emf[];
const detectionLogs = (lines: Record<string, unknown>[]): Record<string, unknown>[] =>
  lines.filter((l) => l.message === DETECTION_LOG_MESSAGE);
const minute = (ms: number): number => Math.floor(ms / 60_000) * 60_000;

describe("Lambda detections against moto and the simulator", () => {
  it("writes one log line per match and RuleMatches EMF data points at the event's own minute", async () => {
    const { f, env } = await setup(
      { events: 4000, days: 3 },
      { [DETECTION_ENV.allowedCountries]: "US,GB,DE,FR" },
    );
    const handler = createHandler({ env, ...clients });

    const lines = await captureJson(() => handler({}, context(60_000)));

    // Expected, computed from the simulator's own events with plain predicates (not the matcher).
    const source = f.simulator.events();
    const leaks = source.filter((e) => e.object === "Alert" && e.action === "CredentialLeakDetected");
    const foreign = source.filter(
      (e) =>
        !["US", "GB", "DE", "FR"].includes(String((e.ipAddressLocation as { country?: string }).country)),
    );
    expect(leaks.length).toBeGreaterThan(0);
    expect(foreign.length).toBeGreaterThan(0);

    const logs = detectionLogs(lines);
    const leakLogs = logs.filter((l) => l.rule === "alert-credential-leak");
    expect(leakLogs.map((l) => l.eventId).sort()).toEqual(leaks.map((e) => e.eventId).sort());
    expect(logs.filter((l) => l.rule === "activity-outside-allowed-countries")).toHaveLength(foreign.length);
    const leak = leaks[0] as Record<string, unknown>;
    expect(leakLogs.find((l) => l.eventId === leak.eventId)).toMatchObject({
      level: "INFO",
      message: "detection",
      stream: "org1",
      rule: "alert-credential-leak",
      severity: "High",
      eventTime: leak.timestamp,
      userId: leak.userId,
      ipAddress: leak.ipAddress,
      object: "Alert",
      action: "CredentialLeakDetected",
    }); // (Powertools leaves out empty values: an alert's `result` is "")

    const points = ruleDataPoints(lines);
    for (const p of points) {
      expect(p._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: "MonitorLake",
          Dimensions: [["stream", "rule"]],
          Metrics: [{ Name: "RuleMatches", Unit: "Count" }],
        },
      ]);
      expect(p.stream).toBe("org1");
    }
    // Per rule, the data points sum to its log lines, each at the minute of a matched event's own time.
    const leakPoints = points.filter((p) => p.rule === "alert-credential-leak");
    expect(leakPoints.reduce((s, p) => s + (p.RuleMatches as number), 0)).toBe(leaks.length);
    const leakMinutes = new Set(leaks.map((e) => minute(parseEventTime(e.timestamp) as number)));
    for (const p of leakPoints) expect(leakMinutes.has(p._aws.Timestamp)).toBe(true);
    expect(new Set(leakPoints.map((p) => p._aws.Timestamp)).size).toBeGreaterThan(1); // not one ingest-time burst

    // The run's own metrics are still published, once, without a rule dimension.
    const run = lines.filter((l) => "_aws" in l && "EventsIngested" in l);
    expect(run).toHaveLength(1);
    expect(run[0]?.rule).toBeUndefined();
  });

  it("a 20-day backlog drained at once puts only the last hour's matches in the alarms' window", async () => {
    const { f, env } = await setup(
      { events: 6000, days: 20, lateShare: 0 },
      { [DETECTION_ENV.allowedCountries]: "US,GB,DE,FR" },
    );
    const handler = createHandler({ env, ...clients });
    const started = Date.now();

    const lines = await captureJson(() => handler({}, context(60_000)));

    const logs = detectionLogs(lines);
    const points = ruleDataPoints(lines);
    const total = points.reduce((s, p) => s + (p.RuleMatches as number), 0);
    const tooOld = logs.filter((l) => (parseEventTime(l.eventTime) as number) < started - METRIC_MAX_AGE_MS);
    expect(logs.length).toBeGreaterThan(500);
    expect(tooOld.length).toBeGreaterThan(0);
    // Every match is logged; those CloudWatch would drop (over 14 days) are not counted.
    expect(total).toBe(logs.length - tooOld.length);
    expect(lines.some((l) => l.tooOld === tooOld.length)).toBe(true);
    for (const p of points)
      expect(p._aws.Timestamp).toBeGreaterThanOrEqual(minute(started - METRIC_MAX_AGE_MS));
    // An alarm's window is its last hour (infra/detection-alarms.ts): only recent events land there.
    const recent = points
      .filter((p) => p._aws.Timestamp >= started - 3600_000)
      .reduce((s, p) => s + (p.RuleMatches as number), 0);
    const recentEvents = logs.filter(
      (l) => (parseEventTime(l.eventTime) as number) >= minute(started - 3600_000),
    );
    expect(recent).toBe(recentEvents.length);
    expect(recent).toBeLessThan(total / 50);
    expect(f.simulator.events().length).toBe(6000);
  });

  for (const warmth of ["warm", "cold"] as const)
    it(`counts a match once when a failed run's pages are fetched again by the next, ${warmth} invocation`, async () => {
      const { f, env } = await setup(
        { events: 3000 },
        { [ENV.pageLimit]: "500", [ENV.chunkMaxBytes]: "400000" },
      );
      let commits = 0;
      const flaky = {
        send: (command: { input: { ConditionExpression?: string } }, options?: unknown) => {
          if (command.input.ConditionExpression?.includes("version = :version") && commits++ === 1)
            return Promise.reject(
              Object.assign(new Error("injected: network down"), { name: "NetworkingError" }),
            );
          return (clients.dynamo.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
        },
      } as unknown as DynamoDBClient;
      const handler = createHandler({ env, ...clients, dynamo: flaky });

      const lines = await captureJson(async () => {
        await expect(handler({}, context(60_000))).rejects.toBeInstanceOf(StorageError);
        await (warmth === "warm" ? handler : createHandler({ env, ...clients }))({}, context(60_000));
      });

      const expected = f.simulator.events().filter((e) => e.object === "Group" && e.action === "Deleted");
      const logged = detectionLogs(lines).filter((l) => l.rule === "group-deleted");
      expect(f.simulator.stats.pagesServed).toBeGreaterThan(6); // pages of the failed chunk were served twice
      expect(logged.map((l) => l.eventId).sort()).toEqual(expected.map((e) => e.eventId).sort());
      const points = ruleDataPoints(lines).filter((p) => p.rule === "group-deleted");
      expect(points.reduce((n, p) => n + (p.RuleMatches as number), 0)).toBe(expected.length);
    });

  it('crafted events (userId {"toString":0}, 100,000 nested arrays, escapes) are stored and reported; the run succeeds, cold and warm', async () => {
    const { f, env } = await setup({ events: 300 });
    f.simulator.appendRaw(hostileEventTexts(new Date(Date.now() - 60_000).toISOString()));
    const total = f.simulator.events().length;
    const lines = await captureJson(async () => {
      const first = await createHandler({ env, ...clients })({}, context(60_000));
      expect(first).toMatchObject({ events: total, caughtUp: true });
      // A new (cold) container and the warm one: nothing to fetch again, nothing fails.
      expect(await createHandler({ env, ...clients })({}, context(60_000))).toMatchObject({ events: 0 });
    });
    const leaks = detectionLogs(lines).filter((l) => l.rule === "alert-credential-leak");
    for (const id of Object.values(HOSTILE_IDS))
      expect(leaks.filter((l) => l.eventId === id)).toHaveLength(1);
    expect(leaks.find((l) => l.eventId === HOSTILE_IDS.toStringUser)?.userId).toBeUndefined(); // "" is left out
    expect(lines.some((l) => l.message === "run failed")).toBe(false);
    expect(lines.some((l) => String(l.message).startsWith("detection failed"))).toBe(false);
  });

  it("a detection failure (its log line cannot be written) is counted and logged; every event is stored", async () => {
    const { f, env } = await setup({ events: 2000 }, { [ENV.pageLimit]: "500" });
    class FailingLogger extends Logger {
      override info(message: string, ...extra: Record<string, unknown>[]): void {
        if (message === DETECTION_LOG_MESSAGE) throw new Error("injected: log sink down");
        super.info(message, ...extra);
      }
    }
    let result: unknown;
    const lines = await captureJson(async () => {
      // Built inside the capture: Powertools binds its output stream when the logger is made.
      const logger = new FailingLogger({ serviceName: "monitor-lake" });
      result = await createHandler({ env, ...clients, logger })({}, context(60_000));
    });
    expect(result).toMatchObject({ events: f.simulator.events().length, caughtUp: true });
    const failures = lines.filter(
      (l) => l.message === "detection failed; the events are stored, ingestion goes on",
    );
    expect(failures.length).toBeGreaterThan(0);
    expect(failures[0]).toMatchObject({
      level: "WARN",
      stream: "org1",
      stage: "report",
      error: "Error: injected: log sink down",
    });
    const errors = lines.filter((l) => "_aws" in l && DETECTION_ERRORS_METRIC in l);
    expect(errors.reduce((n, l) => n + (l[DETECTION_ERRORS_METRIC] as number), 0)).toBe(failures.length);
    expect(errors[0]).toMatchObject({ stream: "org1" });
  });

  it("over the demo's events, logs and counts per rule what the README's worked example shows", async () => {
    const { env } = await setup(
      {
        seed: 42,
        events: 30_000,
        days: 5,
        lateShare: 0.01,
        untimedShare: 0.0005,
        plantCases: true,
        faults: { duplicateEvery: 3 },
      },
      { [DETECTION_ENV.allowedCountries]: "US,GB,DE,FR" },
    );
    const lines = await captureJson(async () => {
      expect(await createHandler({ env, ...clients })({}, context(120_000))).toMatchObject({
        caughtUp: true,
      });
    });
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const block = /<!-- detect-demo -->\n```\n([\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const expected = Object.fromEntries(
      [...block.matchAll(/^ {2}\w+ +([a-z-]+) +(\d+) match/gm)].map((m) => [m[1] as string, Number(m[2])]),
    );
    expect(Object.keys(expected)).toHaveLength(DEFAULT_RULES.length);
    const logged: Record<string, number> = {};
    for (const l of detectionLogs(lines)) logged[String(l.rule)] = (logged[String(l.rule)] ?? 0) + 1;
    expect(logged).toEqual(expected);
  }, 120_000);

  it("fails every invocation with a ConfigError naming a bad detection setting", async () => {
    const { env } = await setup({ events: 10 }, { [DETECTION_ENV.allowedCountries]: "USA" });
    const handler = createHandler({ env, ...clients });
    const error = await handler({}, context(10_000)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/DETECTION_ALLOWED_COUNTRIES: "USA" is not .*two-letter/);
  });
});

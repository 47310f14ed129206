import { execFile } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { App, Duration, Stack } from "aws-cdk-lib";
import { describe, expect, it } from "vitest";
import { buildApp, propsFromContext } from "../../infra/app";
import { unknownContextKeys } from "../../infra/context-keys";
import { MonitorLake } from "../../infra/monitor-lake";
import { parseSchedule } from "../../infra/schedule-expression";
import { functionStreamTable, resolveStreams } from "../../infra/stream-settings";
import { ConfigError } from "../../lambda/errors";

const root = fileURLToPath(new URL("../..", import.meta.url));
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};

function problemsOf(build: () => unknown): readonly string[] {
  try {
    build();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe("settings checked at synth", () => {
  it("lists every bad context value of the issue at once, and the misspelt key with its nearest name", () => {
    const problems = problemsOf(() =>
      buildApp(
        new App({
          context: {
            integrationKey: "abc",
            userId: "bob",
            alarmEmail: "nope",
            schedule: "every 5 min",
            alarmemail: "secops@example.com",
          },
        }),
      ),
    );
    expect(problems).toEqual([
      "-c alarmemail is not a monitor-lake setting: did you mean -c alarmEmail?",
      expect.stringMatching(/^-c integrationKey "abc" is not a GUID/),
      expect.stringMatching(/^-c userId "bob" is not a GUID/),
      expect.stringMatching(
        /^-c schedule "every 5 min" is not an EventBridge Scheduler expression: use e\.g\. "rate\(5 minutes\)"/,
      ),
      '-c alarmEmail "nope" is not an email address: use e.g. secops@example.com.',
    ]);
  });

  it("checks each stream of -c streams and the other context values", () => {
    const streams = JSON.stringify([
      { id: "org-a", organizationId: "acme", schedule: "rate(1 minutes)" },
      { id: "org-b", userId: required.userId, schedule: "cron(0 9 ? * MON-FRI *)", redirectUri: "nowhere" },
    ]);
    const problems = problemsOf(() =>
      buildApp(
        new App({ context: { integrationKey: required.integrationKey, streams, retentionDays: "0" } }),
      ),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        '-c retentionDays=<whole number of days> (got "0")',
        'stream "org-a" has no userId: set -c streams[0].userId or -c userId.',
        expect.stringMatching(/^-c streams\[0\]\.organizationId "acme" is not a GUID/),
        '-c streams[0].schedule "rate(1 minutes)" has "1 minutes": write "rate(1 minute)".',
        expect.stringMatching(
          /^-c streams\[1\]\.schedule "cron\(0 9 \? \* MON-FRI \*\)" runs up to 72 hours apart/,
        ),
        '-c streams[1].redirectUri "nowhere" must be an http(s) URL registered on the integration key.',
      ]),
    );
    expect(problems).toHaveLength(6);
  });

  it("takes -c streamApi for the one stream and streamApi in each -c streams entry, into the function's table", () => {
    const organizationId = "0a0a0a0a-2222-4000-8000-00000000000a";
    const props = propsFromContext((key) => ({ ...required, streamApi: "lens" })[key]);
    const fromFile = propsFromContext(
      (key) =>
        ({
          ...required,
          streams: JSON.stringify([
            { id: "old", streamApi: "lens" },
            { id: "new", organizationId, streamApi: "organization" },
          ]),
        })[key],
    );

    expect(props.streams).toEqual([{ id: "default", streamApi: "lens" }]);
    expect(functionStreamTable(resolveStreams(props.streams ?? [], props), new Map())).toEqual([
      { id: "default", streamApi: "lens" },
    ]);
    expect(functionStreamTable(resolveStreams(fromFile.streams ?? [], fromFile), new Map())).toEqual([
      { id: "old", streamApi: "lens" },
      { id: "new", organizationId, streamApi: "organization" },
    ]);
  });

  it("refuses a bad streamApi, lens with an organization, and -c streamApi beside -c streams, at synth", () => {
    const organizationId = "0a0a0a0a-2222-4000-8000-00000000000a";
    const problems = (context: Record<string, unknown>) =>
      problemsOf(() => buildApp(new App({ context: { ...required, ...context } })));

    expect(problems({ streamApi: "v2" })).toEqual([
      '-c streamApi=lens or -c streamApi=organization, or leave it out to read the organization userinfo names (got "v2")',
    ]);
    expect(problems({ streamApi: "lens", organizationId })).toEqual([
      "-c streamApi=lens and -c organizationId: the lens stream has no organization. Remove one of them",
    ]);
    expect(problems({ streamApi: "lens", streams: JSON.stringify([{ id: "a" }]) })).toEqual([
      "-c organizationId, -c streamApi and -c streamId are for one stream: with -c streams set them in each stream",
    ]);
    expect(
      problems({
        streams: JSON.stringify([
          { id: "a", streamApi: "lens", organizationId },
          { id: "b", streamApi: "Lens" },
        ]),
      }),
    ).toEqual([
      expect.stringMatching(
        /^-c streams\[0\]\.streamApi is "lens" and -c streams\[0\]\.organizationId is set \(stream "a"\)/,
      ),
      expect.stringMatching(/^-c streams\[1\]\.streamApi is "Lens" \(stream "b"\): use "lens"/),
    ]);
    expect(problems({ streamapi: "lens" })).toEqual([
      "-c streamapi is not a monitor-lake setting: did you mean -c streamApi?",
    ]);
    expect(unknownContextKeys(["streamApi"])).toEqual([]);
    // The construct's own props, for apps that embed it.
    expect(
      problemsOf(
        () =>
          new MonitorLake(new Stack(new App(), "Embedded"), "Lake", {
            ...required,
            streams: [
              { id: "a", streamApi: "lens", organizationId },
              { id: "b", streamApi: "v2" as never },
            ],
          }),
      ),
    ).toEqual([
      "streams[0].streamApi is lens and streams[0].organizationId is set: the lens stream has no organization. Remove one of them.",
      'streams[1].streamApi "v2" must be lens or organization (or unset: the organization userinfo names, else lens).',
    ]);
  });

  it("passes CDK's own context keys (feature flags, aws:cdk:*) and the app's known keys", () => {
    expect(
      unknownContextKeys([
        "@aws-cdk/aws-s3:createDefaultLoggingPolicy",
        "aws:cdk:version-reporting",
        "stackName",
      ]),
    ).toEqual([]);
    expect(unknownContextKeys(["streamz", "zzzzzzzzzzzz"])).toEqual([
      "-c streamz is not a monitor-lake setting: did you mean -c streams?",
      expect.stringMatching(
        /^-c zzzzzzzzzzzz is not a monitor-lake setting: the settings are integrationKey, userId/,
      ),
    ]);
  });

  it("validates the construct's props the same way, named as props, for apps that embed it", () => {
    const problems = problemsOf(
      () =>
        new MonitorLake(new Stack(new App(), "Embedded"), "Lake", {
          ...required,
          alarmEmail: "secops",
          memorySize: 64,
          timeout: Duration.minutes(20),
          keyPrefix: "/lake",
          streams: [{ id: "a", schedule: "rate(5 minute)" }, { id: "a" }],
          detections: { rules: { "no-such-rule": { threshold: 1 } } },
        }),
    );
    expect(problems).toEqual([
      'alarmEmail "secops" is not an email address: use e.g. secops@example.com.',
      expect.stringMatching(/^keyPrefix "\/lake" must be empty or S3-safe segments each ending in "\/"/),
      "memorySize 64 must be a whole number of MB from 128 to 10240.",
      "timeout of 1200 s must be from 30 seconds to Lambda's 15 minutes.",
      'streams[0].schedule "rate(5 minute)" has "5 minute": write "rate(5 minutes)".',
      'stream id "a" is used twice: each stream needs its own id.',
      expect.stringMatching(/^detections: unknown detection rule "no-such-rule"/),
    ]);
  });

  it("prints the list without a stack trace and exits 1 when run as the CDK app", async () => {
    const context = { integrationKey: "abc", userId: required.userId, schedule: "every 5 min" };
    const result = await promisify(execFile)(join(root, "node_modules/.bin/tsx"), ["infra/app.ts"], {
      cwd: root,
      env: { ...process.env, CDK_CONTEXT_JSON: JSON.stringify(context), CDK_OUTDIR: "/nonexistent" },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("monitor-lake cannot synthesize: Invalid configuration (2 problems):");
    expect(result.stderr).toContain('  - -c integrationKey "abc" is not a GUID');
    expect(result.stderr).toContain(
      '  - -c schedule "every 5 min" is not an EventBridge Scheduler expression',
    );
    expect(result.stderr).not.toMatch(/^\s+at /m);
  });
});

describe("schedule expressions", () => {
  it("counts the runs a day", () => {
    expect(parseSchedule("rate(5 minutes)")).toMatchObject({ runsPerDay: 288 });
    expect(parseSchedule("cron(0/15 * * * ? *)")).toMatchObject({ runsPerDay: 96 });
    expect(parseSchedule("cron(*/10 8-17 * * ? *)")).toMatchObject({ runsPerDay: 60 });
  });

  it.each([
    ["rate(5 minutes)", 300],
    ["rate(1 minute)", 60],
    ["rate(2 hours)", 7200],
    ["rate(1 day)", 86400],
    ["cron(0/15 * * * ? *)", 900],
    ["cron(*/10 8-17 * * ? *)", 14 * 3600 + 600],
    ["cron(0 2 * * ? *)", 86400],
  ])("%s runs at most %i s apart", (expression, gap) => {
    expect(parseSchedule(expression)).toMatchObject({ ok: true, gapSeconds: gap });
  });

  it.each([
    ["every 5 min", /not an EventBridge Scheduler expression/],
    ["rate(0 minutes)", /rate\(\) of 0/],
    ["rate(2 days)", /runs up to 48 hours apart/],
    ["cron(0 9 * *)", /4 fields: it needs 6/],
    ["cron(0 9 * * * *)", /exactly one of day-of-month and day-of-week must be \?/],
    ["cron(61 * * * ? *)", /invalid cron\(\) minutes field "61"/],
    ["cron(0 9 L * ? *)", /runs up to 168 hours apart/],
    ["at(2026-01-01T00:00:00)", /one-time at\(\) schedule/],
  ])("refuses %s", (expression, problem) => {
    const parsed = parseSchedule(expression);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.problem).toMatch(problem);
  });
});

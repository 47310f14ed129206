import { readFile } from "node:fs/promises";
import { App, type Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, inject, it } from "vitest";
import { buildApp } from "../../infra/app";
import { cfnLint } from "../helpers/cfn-lint";

const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};

interface AlarmProps {
  readonly MetricName: string;
  readonly Statistic?: string;
  readonly Period: number;
  readonly EvaluationPeriods: number;
  readonly DatapointsToAlarm?: number;
  readonly Threshold: number;
  readonly ComparisonOperator: string;
  readonly TreatMissingData: string;
  readonly AlarmDescription: string;
  /** Metric math alarms (the detections' per-severity ones): the period is on each metric. */
  readonly Metrics?: readonly { readonly MetricStat?: { readonly Period: number } }[];
}

type Resources = Record<string, { Type: string; Properties: AlarmProps & Record<string, unknown> }>;

let lastStack: Stack | undefined;
let lastTemplate: unknown;

function resourcesOf(context: Record<string, unknown>): Resources {
  lastStack = buildApp(new App({ context: { ...cdkJson.context, ...required, ...context } }));
  lastTemplate = Template.fromStack(lastStack).toJSON();
  return (lastTemplate as { Resources: Resources }).Resources;
}

function alarmsOf(context: Record<string, unknown>): AlarmProps[] {
  return Object.values(resourcesOf(context))
    .filter((r) => r.Type === "AWS::CloudWatch::Alarm")
    .map((r) => r.Properties);
}

const TIMEOUT = 300;
/** Seconds in which a healthy stream on this schedule reports at least one finished run. */
const runWindow = (gap: number): number => gap + TIMEOUT;

/**
 * Every alarm checked against the schedule: time-based alarms by their periods and thresholds, count
 * alarms (any one error, throttle or failed run pages) by being exactly that. An alarm of a metric not
 * listed here fails the test, so that a new alarm gets its check.
 */
function checkAgainstSchedule(a: AlarmProps, gap: number): void {
  // The curation's alarms follow curationPeriodMinutes, not a stream's schedule (curated-stack.test.ts).
  if (String(a.AlarmDescription).includes("curation")) return;
  if (a.MetricName === undefined && JSON.stringify(a.Metrics).includes('"RuleMatches"')) {
    // Detections per severity: metric math over the rules' RuleMatches, checked like a rule's alarm.
    const period = Math.max(...(a.Metrics ?? []).map((m) => m.MetricStat?.Period ?? 0));
    // At most the day CloudWatch evaluates (infra/alarm-timing.ts, detectionLookbackMinutes).
    expect(period * a.EvaluationPeriods, a.AlarmDescription).toBeGreaterThanOrEqual(
      Math.min(runWindow(gap), 86_400),
    );
    return;
  }
  const window = a.Period * a.EvaluationPeriods;
  const datapoints = a.DatapointsToAlarm ?? a.EvaluationPeriods;
  // Missing data breaches only where every period holds a healthy run's data point.
  if (a.TreatMissingData === "breaching")
    expect(a.Period, a.AlarmDescription).toBeGreaterThanOrEqual(runWindow(gap));
  switch (a.MetricName) {
    case "EventsIngested": // no successful run: every run, idle or not, reports it once
      expect(a.Statistic).toBe("SampleCount");
      expect([a.Threshold, a.ComparisonOperator, a.TreatMissingData]).toEqual([
        1,
        "LessThanThreshold",
        "breaching",
      ]);
      expect(datapoints).toBe(a.EvaluationPeriods);
      expect(window).toBeGreaterThanOrEqual(3 * gap);
      break;
    case "IngestLagSeconds": // lag: an idle, caught-up stream reports 0
      expect(a.TreatMissingData).toBe("notBreaching");
      expect(a.Period).toBeGreaterThanOrEqual(runWindow(gap));
      expect(a.Threshold).toBeGreaterThanOrEqual(2 * gap);
      break;
    case "LeaseHeld": // every run in the period found the lease held: reachable on this schedule
      expect(a.Threshold).toBeGreaterThanOrEqual(1);
      expect(a.Threshold).toBeLessThanOrEqual(Math.floor(a.Period / gap));
      break;
    case "AuthFailures":
    case "DetectionErrors": // published only on a failure: one in a period pages, and stays until a run without
      expect([a.Threshold, a.EvaluationPeriods, a.TreatMissingData]).toEqual([1, 1, "notBreaching"]);
      expect(a.Period).toBeGreaterThanOrEqual(runWindow(gap));
      break;
    case "StreamNotAdvancing": // every run reports it: a run in each of three periods could not advance
      expect([a.Statistic, a.Threshold, a.TreatMissingData]).toEqual(["Maximum", 1, "notBreaching"]);
      expect(a.Period).toBeGreaterThanOrEqual(runWindow(gap));
      expect(datapoints).toBe(a.EvaluationPeriods);
      expect(window).toBeGreaterThanOrEqual(3 * gap);
      break;
    case "Duration": // two slow runs: the window holds two runs
      expect(datapoints).toBe(2);
      expect(window).toBeGreaterThanOrEqual(2 * gap + TIMEOUT);
      break;
    case "RuleMatches": // detections: data points carry the events' times, up to a gap and a run late
      expect(window).toBeGreaterThanOrEqual(runWindow(gap));
      break;
    case "Errors":
    case "Throttles":
    case "ApproximateNumberOfMessagesVisible":
      expect([a.Threshold, a.EvaluationPeriods, a.TreatMissingData]).toEqual([1, 1, "notBreaching"]);
      break;
    default:
      throw new Error(`alarm on ${a.MetricName} has no schedule check: ${a.AlarmDescription}`);
  }
}

describe("alarms fit the schedule", () => {
  it("derives every alarm of a rate(2 hours) stream from its schedule and timeout", () => {
    const alarms = alarmsOf({ schedule: "rate(2 hours)" });
    for (const a of alarms) checkAgainstSchedule(a, 7200);
    const stalled = alarms.find((a) => a.MetricName === "EventsIngested");
    expect(stalled?.AlarmDescription).toContain("no successful run for 6 h 15 min"); // 3 periods of 125 min
    expect(alarms.find((a) => a.MetricName === "IngestLagSeconds")?.Threshold).toBe(2 * 7200 + TIMEOUT);
  });

  it("keeps the default 5-minute schedule's alarms as they were: 15-minute periods, 2 h of lag", () => {
    const alarms = alarmsOf({});
    for (const a of alarms) checkAgainstSchedule(a, 300);
    const byMetric = (m: string) => alarms.find((a) => a.MetricName === m);
    expect(byMetric("EventsIngested")).toMatchObject({ Period: 900, EvaluationPeriods: 3 });
    expect(byMetric("IngestLagSeconds")).toMatchObject({ Period: 900, Threshold: 7200 });
    expect(byMetric("LeaseHeld")).toMatchObject({ Period: 900, Threshold: 3, EvaluationPeriods: 3 });
    expect(byMetric("Duration")).toMatchObject({ Period: 900, EvaluationPeriods: 2, Threshold: 240_000 });
  });

  it("times each stream of several by its own schedule", () => {
    const streams = JSON.stringify([
      { id: "fast", schedule: "rate(5 minutes)" },
      { id: "daily", schedule: "cron(0 3 * * ? *)" },
    ]);
    const alarms = alarmsOf({ streams });
    const ofStream = (id: string) => alarms.filter((a) => a.AlarmDescription.startsWith(`Stream ${id}:`));
    for (const a of ofStream("fast")) checkAgainstSchedule(a, 300);
    for (const a of ofStream("daily")) checkAgainstSchedule(a, 86400);
    // Function-wide and detection alarms hold for the slowest stream.
    for (const a of alarms.filter(
      (x) => !x.AlarmDescription.startsWith("Stream ") && x.MetricName !== "RuleMatches",
    ))
      checkAgainstSchedule(a, 86400);
  });
});

describe("alarms on a stream that cannot advance and on detection failures", () => {
  const streams = JSON.stringify([{ id: "org-a" }, { id: "org-b", schedule: "rate(2 hours)" }]);

  it("pages per stream when its cursor does not advance for three periods, saying what to do", () => {
    const alarms = alarmsOf({ streams }).filter((a) => a.MetricName === "StreamNotAdvancing");
    expect(alarms.map((a) => a.AlarmDescription.split(":")[0])).toEqual(["Stream org-a", "Stream org-b"]);
    const [fast, slow] = alarms;
    expect(fast).toMatchObject({ Period: 900, EvaluationPeriods: 3, DatapointsToAlarm: 3, Threshold: 1 });
    expect(slow).toMatchObject({ Period: 7500, EvaluationPeriods: 3 });
    expect(fast?.AlarmDescription).toContain("for 45 min DocuSign answered the stream's cursor");
    expect(fast?.AlarmDescription).toContain('"is not advancing"'); // the log warning to look for
    expect(fast?.AlarmDescription).toContain("report it to DocuSign support");
  });

  it("pages per stream when detection fails on stored events, on the health topic, saying what to do", () => {
    const resources = resourcesOf({ streams });
    const alarms = Object.values(resources).filter(
      (r) => r.Type === "AWS::CloudWatch::Alarm" && r.Properties.MetricName === "DetectionErrors",
    );
    expect(alarms.map((a) => a.Properties.Dimensions)).toEqual([
      [{ Name: "stream", Value: "org-a" }],
      [{ Name: "stream", Value: "org-b" }],
    ]);
    const [healthTopic] = Object.entries(resources)
      .filter(([id, r]) => r.Type === "AWS::SNS::Topic" && id.startsWith("MonitorLakeAlarms"))
      .map(([id]) => id);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: healthTopic }]);
      expect(a.Properties.AlarmDescription).toContain("Ingestion is unaffected");
      expect(a.Properties.AlarmDescription).toContain('"detection failed; the events are stored');
    }
    expect(alarms.map((a) => a.Properties.Period)).toEqual([900, 7500]);
    // Without detections nothing can fail, and nothing alarms.
    expect(alarmsOf({ streams, detections: "false" }).some((a) => a.MetricName === "DetectionErrors")).toBe(
      false,
    );
  });
});

describe("the README's alarm table", () => {
  it("names every ingestion and health alarm of the template, and no other", () => {
    const start = readme.indexOf("**What each alarm means and what to do.**");
    const table = readme.slice(start).split("\n\n")[1] ?? "";
    const documented = [...table.matchAll(/^\| ([A-Z][A-Za-z]+(?:-<stream>)?) /gm)].map((m) => m[1]);
    // Logical ids are MonitorLake[Detections]<construct id without "-"><8 hex>; the stream id is "default".
    const inTemplate = Object.entries(resourcesOf({}))
      .filter(([, r]) => r.Type === "AWS::CloudWatch::Alarm")
      .map(([id]) => id.replace(/^MonitorLake(Detections)?/, "").replace(/[0-9A-F]{8}$/, ""))
      .filter((name) => !/^(Curation|Severity)/.test(name)) // in "The curated table" and "Detections"
      .map((name) => name.replace(/default$/, "-<stream>"));
    expect(documented.length).toBeGreaterThan(8);
    expect(documented.sort()).toEqual(inTemplate.sort());
  });
});

describe("alarm notifications", () => {
  const streams = JSON.stringify([{ id: "org-a" }, { id: "org-b" }]);

  it("notifies every alarm's recovery (OK) to the topics it notifies when it goes off", () => {
    const alarms = Object.values(resourcesOf({ streams, alarmEmail: "secops@example.com" })).filter(
      (r) => r.Type === "AWS::CloudWatch::Alarm",
    );
    expect(alarms.length).toBeGreaterThan(10);
    for (const a of alarms) {
      expect(a.Properties.AlarmActions, a.Properties.AlarmDescription).toHaveLength(1);
      expect(a.Properties.OKActions, a.Properties.AlarmDescription).toEqual(a.Properties.AlarmActions);
    }
  });

  it("offers one summary alarm per stream, over its own and the function's alarms, on its own topic", async () => {
    expect(
      Object.values(resourcesOf({ streams })).some((r) => r.Type === "AWS::CloudWatch::CompositeAlarm"),
    ).toBe(false);
    const resources = resourcesOf({ streams, summaryAlarms: "true", alarmEmail: "secops@example.com" });
    const logicalIdOf = (predicate: (id: string, r: Resources[string]) => boolean) =>
      Object.entries(resources)
        .filter(([id, r]) => predicate(id, r))
        .map(([id]) => id);
    const [summaryTopic] = logicalIdOf(
      (id, r) => r.Type === "AWS::SNS::Topic" && id.startsWith("MonitorLakeSummaryAlarms"),
    );
    const composites = Object.values(resources).filter((r) => r.Type === "AWS::CloudWatch::CompositeAlarm");
    expect(composites).toHaveLength(2);
    const alarmIds = logicalIdOf((_, r) => r.Type === "AWS::CloudWatch::Alarm");
    const streamOf = (id: string) =>
      ((resources[id]?.Properties.Dimensions ?? []) as Array<{ Name: string; Value: string }>).find(
        (d) => d.Name === "stream",
      )?.Value;
    for (const [i, stream] of ["org-a", "org-b"].entries()) {
      const c = composites[i]?.Properties as Record<string, unknown>;
      expect(String(c.AlarmDescription)).toMatch(new RegExp(`^Stream ${stream}:`));
      const rule = JSON.stringify(c.AlarmRule);
      const members = alarmIds.filter((id) => rule.includes(`"${id}"`));
      expect(members.sort()).toEqual(
        alarmIds.filter((id) => [stream, undefined].includes(streamOf(id))).sort(),
      );
      expect(c.AlarmActions).toEqual([{ Ref: summaryTopic }]);
      expect(c.OKActions).toEqual([{ Ref: summaryTopic }]);
    }
    // The email goes to the summary topic only: one page per stream.
    const subscriptions = Object.values(resources).filter((r) => r.Type === "AWS::SNS::Subscription");
    expect(subscriptions.map((r) => r.Properties.TopicArn)).toEqual([{ Ref: summaryTopic }]);
    const nag = Annotations.fromStack(lastStack as Stack).findError(
      "*",
      Match.stringLikeRegexp("AwsSolutions-.*"),
    );
    expect(nag.map((e) => e.entry.data)).toEqual([]);
    const lint = await cfnLint(lastTemplate, inject("venvBin"));
    expect(lint.code & 3, lint.out).toBe(0);
  }, 180_000);
});

import { readFile } from "node:fs/promises";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import {
  DetectionAlarms,
  type DetectionOptions,
  deployedRules,
  detectionOptionsFromContext,
} from "../../infra/detection-alarms";
import { DEFAULT_RULES, DETECTION_ENV } from "../../lambda/detections/rules";

interface Resource {
  readonly Type: string;
  readonly Properties: Record<string, unknown>;
}

function resourcesOf(template: Template, type: string): [string, Resource][] {
  const json = template.toJSON() as { Resources: Record<string, Resource> };
  return Object.entries(json.Resources).filter(([, r]) => r.Type === type);
}

const ruleAlarms = (template: Template) =>
  resourcesOf(template, "AWS::CloudWatch::Alarm")
    .map(([, r]) => r.Properties)
    .filter((p) => p.MetricName === "RuleMatches");
const dimension = (alarm: Record<string, unknown>, name: string): unknown =>
  (alarm.Dimensions as { Name: string; Value: unknown }[]).find((d) => d.Name === name)?.Value;
/** The per-severity alarms: metric math (no MetricName) over RuleMatches. */
const severityAlarms = (template: Template) =>
  resourcesOf(template, "AWS::CloudWatch::Alarm")
    .map(([, r]) => r.Properties)
    .filter((p) => JSON.stringify(p.Metrics ?? []).includes('"RuleMatches"'));
interface MetricQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly MetricStat?: {
    Metric: { MetricName: string; Dimensions: { Name: string; Value: string }[] };
    Period: number;
  };
}
/** The alarm's expression and the rule metrics it reads. */
function mathOf(alarm: Record<string, unknown>) {
  const queries = alarm.Metrics as MetricQuery[];
  const stats = queries.filter((q) => q.MetricStat);
  const dim = (q: MetricQuery, name: string) =>
    q.MetricStat?.Metric.Dimensions.find((d) => d.Name === name)?.Value;
  return {
    expression: queries.find((q) => q.Expression)?.Expression ?? "",
    metrics: stats.map((q) => ({ id: q.Id, rule: String(dim(q, "rule")), stream: String(dim(q, "stream")) })),
    periods: new Set(stats.map((q) => q.MetricStat?.Period)),
  };
}
/** The logical id of the topic an alarm notifies. */
const topicOf = (alarm: Record<string, unknown>): string =>
  ((alarm.AlarmActions as { Ref: string }[])[0] as { Ref: string }).Ref;

/** A small stack with only the detections construct, for the variants (no bundling). */
function synthDetections(options: DetectionOptions, streams = ["default"]): Template {
  const stack = new Stack(new App(), "T");
  const fn = new lambda.Function(stack, "Fn", {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: "index.handler",
    code: lambda.Code.fromInline("exports.handler = async () => {}"),
  });
  const logGroup = new logs.LogGroup(stack, "Logs");
  const dashboard = new cloudwatch.Dashboard(stack, "Dashboard");
  new DetectionAlarms(stack, "Detections", { ...options, function: fn, logGroup, dashboard, streams });
  return Template.fromStack(stack);
}

const envOf = (template: Template): Record<string, string> => {
  const fn = resourcesOf(template, "AWS::Lambda::Function")[0]?.[1];
  return (fn?.Properties.Environment as { Variables?: Record<string, string> } | undefined)?.Variables ?? {};
};

describe("detection alarms in the deployed stack", async () => {
  const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
    context: Record<string, unknown>;
  };
  const baseContext = {
    ...cdkJson.context,
    integrationKey: "11111111-2222-3333-4444-555555555555",
    userId: "66666666-7777-8888-9999-000000000000",
    alarmEmail: "secops@example.com",
  };
  const app = new App({ context: baseContext });
  const template = Template.fromStack(buildApp(app));
  const perRuleTemplate = Template.fromStack(
    buildApp(new App({ context: { ...baseContext, detectionAlarms: "per-rule" } })),
  );

  it("pages with one alarm per severity: metric math over every enabled rule's RuleMatches, to its topic", () => {
    const alarms = severityAlarms(template);
    expect(alarms).toHaveLength(3);
    expect(ruleAlarms(template)).toHaveLength(0);
    const topics = Object.fromEntries(
      resourcesOf(template, "AWS::SNS::Topic").map(([id, r]) => [id, String(r.Properties.DisplayName)]),
    );
    const enabled = DEFAULT_RULES.filter((r) => r.id !== "activity-outside-allowed-countries");
    const covered: string[] = [];
    for (const severity of ["High", "Medium", "Low"] as const) {
      const alarm = alarms.find((a) => String(a.AlarmDescription).startsWith(`[${severity}] `));
      expect(alarm, severity).toBeDefined();
      expect(topics[topicOf(alarm ?? {})]).toBe(`monitor-lake detections: ${severity}`);
      const m = mathOf(alarm ?? {});
      const rules = enabled.filter((r) => r.severity === severity);
      expect(m.metrics.map((x) => x.rule).sort()).toEqual(rules.map((r) => r.id).sort());
      for (const x of m.metrics) {
        const rule = rules.find((r) => r.id === x.rule);
        expect(x.stream).toBe("default");
        expect(m.expression).toContain(`IF(FILL(${x.id}, 0) >= ${rule?.threshold}, 1, 0)`);
        covered.push(x.rule);
      }
      const shortest = Math.min(...rules.map((r) => r.periodMinutes));
      expect(m.periods).toEqual(new Set([shortest * 60]));
      expect(alarm).toMatchObject({
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        DatapointsToAlarm: 1,
        TreatMissingData: "notBreaching",
      });
      // The window is the last hour (lookback and default quiet time): older matches cannot page.
      expect((alarm?.EvaluationPeriods as number) * shortest * 60).toBe(3600);
    }
    expect(covered.sort()).toEqual(enabled.map((r) => r.id).sort());
    // As the README's worked investigation quotes it.
    const high = alarms.find((a) => String(a.AlarmDescription).startsWith("[High] "));
    expect(high?.AlarmDescription).toMatch(
      /^\[High\] High-severity detections \(stream default\): fires when a rule reaches its threshold .* Rules \(threshold\): alert-too-many-login-failures \(1\), alert-credential-leak \(1\), .*Logs Insights queries "monitor-lake\/MonitorLake\/detections\/<rule>"\.$/,
    );
  });

  it("with -c detectionAlarms=per-rule has an alarm per default rule, each notifying the SNS topic of its severity", () => {
    const alarms = ruleAlarms(perRuleTemplate);
    // Without an allow-list the country rule is off; every other default rule has its alarm.
    const expected = DEFAULT_RULES.filter((r) => r.id !== "activity-outside-allowed-countries");
    expect(alarms.map((a) => dimension(a, "rule")).sort()).toEqual(expected.map((r) => r.id).sort());
    const topics = Object.fromEntries(
      resourcesOf(perRuleTemplate, "AWS::SNS::Topic").map(([id, r]) => [
        id,
        String(r.Properties.DisplayName),
      ]),
    );
    for (const alarm of alarms) {
      const rule = DEFAULT_RULES.find((r) => r.id === dimension(alarm, "rule"));
      expect(alarm.AlarmActions).toHaveLength(1);
      expect(topics[topicOf(alarm)]).toBe(`monitor-lake detections: ${rule?.severity}`);
      expect(alarm).toMatchObject({
        Namespace: "MonitorLake",
        Statistic: "Sum",
        Threshold: rule?.threshold,
        Period: (rule?.periodMinutes ?? 0) * 60,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        DatapointsToAlarm: 1,
        TreatMissingData: "notBreaching",
      });
      expect(dimension(alarm, "stream")).toBe("default");
      expect(alarm.AlarmDescription).toMatch(
        new RegExp(
          `^\\[${rule?.severity}\\] .*stays quiet until 60 min pass without\\. .*detections/${rule?.id}"\\.$`,
        ),
      );
      // The window an alarm evaluates is the last hour: older matches (a drained backlog) cannot page.
      expect((alarm.EvaluationPeriods as number) * (alarm.Period as number)).toBe(3600);
    }
    const subscriptions = resourcesOf(perRuleTemplate, "AWS::SNS::Subscription").map(([, r]) => r.Properties);
    for (const topic of ["High", "Medium", "Low"]) {
      const id = Object.entries(topics).find(([, name]) => name.endsWith(topic))?.[0];
      expect(subscriptions.some((s) => (s.TopicArn as { Ref: string }).Ref === id)).toBe(true);
    }
  });

  it("saves a Logs Insights query per rule over the function's log group, and tells the Lambda what is off", async () => {
    const queries = resourcesOf(template, "AWS::Logs::QueryDefinition").map(([, r]) => r.Properties);
    expect(queries).toHaveLength(DEFAULT_RULES.length - 1);
    const leak = queries.find((q) => String(q.Name).endsWith("/detections/alert-credential-leak"));
    expect(leak?.QueryString).toMatch(/filter message = "detection" and rule = "alert-credential-leak"/);
    expect(leak?.QueryString).toMatch(/fields @timestamp, stream, severity, eventTime, userId, ipAddress/);
    expect(leak?.LogGroupNames).toHaveLength(1);
    // The README's worked investigation shows this query as it is saved.
    const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
    const shown = /```\n\s*(fields @timestamp[\s\S]*?)```/.exec(readme)?.[1] ?? "";
    const squash = (q: unknown) => String(q).replace(/\s+/g, " ").trim();
    expect(squash(shown)).toBe(squash(leak?.QueryString));
    expect(envOf(template)[DETECTION_ENV.disabledRules]).toBe("activity-outside-allowed-countries");
    const dashboard = resourcesOf(template, "AWS::CloudWatch::Dashboard")[0]?.[1];
    expect(JSON.stringify(dashboard?.Properties.DashboardBody)).toContain("Detections: High rule matches");
  });
});

describe("detection options", () => {
  it("context switches rules off, sets thresholds, periods, severities and the allow-list", () => {
    const context: Record<string, unknown> = {
      allowedCountries: "us, gb",
      detectionsOff: "users-added",
      detectionRules:
        '{"group-changed":{"threshold":7,"periodMinutes":15,"severity":"High","suppressMinutes":30},"users-added":{"threshold":2}}',
      detectionLookbackMinutes: "30",
      detectionAlarms: "per-rule",
    };
    const template = synthDetections(
      detectionOptionsFromContext((k) => context[k]),
      ["a", "b"],
    );

    const alarms = ruleAlarms(template);
    expect(alarms).toHaveLength((DEFAULT_RULES.length - 1) * 2); // every rule but users-added, per stream
    expect(alarms.some((a) => dimension(a, "rule") === "users-added")).toBe(false);
    const group = alarms.find(
      (a) => dimension(a, "rule") === "group-changed" && dimension(a, "stream") === "b",
    );
    expect(group).toMatchObject({ Threshold: 7, Period: 900, EvaluationPeriods: 2 }); // 2 x 15 min = 30 min
    // Another rule keeps the default quiet time, 60 min, over the 30-min lookback.
    const leakB = alarms.find(
      (a) => dimension(a, "rule") === "alert-credential-leak" && dimension(a, "stream") === "b",
    );
    expect(leakB).toMatchObject({ Period: 900, EvaluationPeriods: 4 });
    const leak = alarms.find((a) => dimension(a, "rule") === "alert-credential-leak");
    expect(topicOf(group ?? {})).toBe(topicOf(leak ?? {})); // both on the High topic
    expect(envOf(template)).toMatchObject({
      [DETECTION_ENV.allowedCountries]: "US,GB",
      [DETECTION_ENV.disabledRules]: "users-added",
    });
  });

  it("detections=false leaves no rule alarm, topic or query and turns every rule off in the Lambda", () => {
    const template = synthDetections(
      detectionOptionsFromContext((k) => (k === "detections" ? "false" : undefined)),
    );
    expect(ruleAlarms(template)).toHaveLength(0);
    expect(severityAlarms(template)).toHaveLength(0);
    template.resourceCountIs("AWS::Logs::QueryDefinition", 0);
    expect(envOf(template)[DETECTION_ENV.disabledRules]?.split(",")).toHaveLength(DEFAULT_RULES.length);
  });

  it("lists every invalid setting with its fix", () => {
    expect(() =>
      deployedRules({
        allowedCountries: ["Germany"],
        rules: {
          "no-such-rule": { threshold: 1 },
          "users-added": { threshold: 0, periodMinutes: 7 },
        },
      }),
    ).toThrow(
      /unknown detection rule "no-such-rule"[\s\S]*allowedCountries: "GERMANY"[\s\S]*threshold 0 must be[\s\S]*periodMinutes 7 must be 1, 5, 10, 15, 30/,
    );
    expect(() => detectionOptionsFromContext((k) => (k === "detectionRules" ? "{oops" : undefined))).toThrow(
      /-c detectionRules='\{"<rule id>":\{"threshold":5/,
    );
  });
});

describe("alarm shapes and quiet time", () => {
  const enabled = DEFAULT_RULES.filter((r) => r.id !== "activity-outside-allowed-countries");
  for (const streams of [["default"], ["org-a", "org-b", "org-c"]]) {
    it(`per-severity (default): 3 alarms for ${streams.length} stream(s), each rule in its stream's severity alarm`, () => {
      const template = synthDetections({}, streams);
      const alarms = severityAlarms(template);
      expect(alarms).toHaveLength(3 * streams.length);
      expect(ruleAlarms(template)).toHaveLength(0);
      for (const stream of streams) {
        const mine = alarms.filter((a) => String(a.AlarmDescription).includes(`(stream ${stream})`));
        expect(mine).toHaveLength(3);
        const rules = mine.flatMap((a) => mathOf(a).metrics.map((m) => `${m.stream} ${m.rule}`));
        expect(rules.sort()).toEqual(enabled.map((r) => `${stream} ${r.id}`).sort());
      }
      // Per-rule visibility stays: a query per rule, and the dashboard's rows name every rule.
      template.resourceCountIs("AWS::Logs::QueryDefinition", enabled.length);
      const body = JSON.stringify(resourcesOf(template, "AWS::CloudWatch::Dashboard")[0]?.[1].Properties);
      for (const r of enabled) expect(body).toContain(r.id);
    });

    it(`per-rule: one alarm per enabled rule for each of ${streams.length} stream(s)`, () => {
      const template = synthDetections({ alarms: "per-rule" }, streams);
      expect(ruleAlarms(template)).toHaveLength(enabled.length * streams.length);
      expect(severityAlarms(template)).toHaveLength(0);
    });
  }

  it("a severity with more than 10 rules is split: CloudWatch's metric-math alarms read at most 10 metrics", () => {
    const rules = Object.fromEntries(DEFAULT_RULES.map((r) => [r.id, { severity: "High" as const }]));
    const template = synthDetections({ rules, allowedCountries: ["US"] });
    const alarms = severityAlarms(template);
    expect(alarms).toHaveLength(2);
    expect(alarms.map((a) => mathOf(a).metrics.length).sort()).toEqual([10, DEFAULT_RULES.length - 10]);
  });

  it("suppressMinutes (default 60) is the quiet time: the alarm evaluates that window, so it fires once while matches go on", () => {
    const context: Record<string, unknown> = {
      detectionRules: '{"alert-credential-leak":{"suppressMinutes":180}}',
    };
    const options = detectionOptionsFromContext((k) => context[k]);
    const leak = deployedRules(options).find((d) => d.rule.id === "alert-credential-leak");
    expect(leak).toMatchObject({ suppressMinutes: 180, periodMinutes: 15, evaluationPeriods: 12 });
    expect(deployedRules({}).every((d) => d.suppressMinutes === 60)).toBe(true);

    const perRule = ruleAlarms(synthDetections({ ...options, alarms: "per-rule" }));
    const alarm = perRule.find((a) => dimension(a, "rule") === "alert-credential-leak");
    expect((alarm?.EvaluationPeriods as number) * (alarm?.Period as number)).toBe(180 * 60);
    expect(alarm?.AlarmDescription).toContain("stays quiet until 180 min pass without");
    const other = perRule.find((a) => dimension(a, "rule") === "alert-too-many-login-failures");
    expect((other?.EvaluationPeriods as number) * (other?.Period as number)).toBe(3600);

    // The High alarm holds the credential-leak rule: it evaluates its longest rule's window.
    const high = severityAlarms(synthDetections(options)).find((a) =>
      String(a.AlarmDescription).startsWith("[High]"),
    );
    expect(high).toMatchObject({ EvaluationPeriods: 12 });
    expect([...mathOf(high ?? {}).periods]).toEqual([900]);
    expect(() => deployedRules({ rules: { "users-added": { suppressMinutes: 2000 } } })).toThrow(
      /rule "users-added": suppressMinutes 2000 must be whole minutes from 1 to 1440/,
    );
    expect(() => deployedRules({ alarms: "per-page" as "per-rule" })).toThrow(
      /alarms "per-page": use per-severity or per-rule/,
    );
  });
});

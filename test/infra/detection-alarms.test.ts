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
  const app = new App({
    context: {
      ...cdkJson.context,
      integrationKey: "11111111-2222-3333-4444-555555555555",
      userId: "66666666-7777-8888-9999-000000000000",
      alarmEmail: "secops@example.com",
    },
  });
  const template = Template.fromStack(buildApp(app));

  it("has an alarm per default rule, each notifying the SNS topic of its severity", () => {
    const alarms = ruleAlarms(template);
    // Without an allow-list the country rule is off; every other default rule has its alarm.
    const expected = DEFAULT_RULES.filter((r) => r.id !== "activity-outside-allowed-countries");
    expect(alarms.map((a) => dimension(a, "rule")).sort()).toEqual(expected.map((r) => r.id).sort());
    const topics = Object.fromEntries(
      resourcesOf(template, "AWS::SNS::Topic").map(([id, r]) => [id, String(r.Properties.DisplayName)]),
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
        new RegExp(`^\\[${rule?.severity}\\] .*detections/${rule?.id}"\\.$`),
      );
      // The window an alarm evaluates is the last hour: older matches (a drained backlog) cannot page.
      expect((alarm.EvaluationPeriods as number) * (alarm.Period as number)).toBe(3600);
    }
    const subscriptions = resourcesOf(template, "AWS::SNS::Subscription").map(([, r]) => r.Properties);
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
      detectionRules: '{"group-changed":{"threshold":7,"periodMinutes":15,"severity":"High"}}',
      detectionLookbackMinutes: "30",
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

import { App, Aspects, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import * as glue from "aws-cdk-lib/aws-glue";
import * as s3 from "aws-cdk-lib/aws-s3";
import * as sns from "aws-cdk-lib/aws-sns";
import { AwsSolutionsChecks, NagSuppressions } from "cdk-nag";
import { describe, expect, inject, it } from "vitest";
import { buildApp } from "../../infra/app";
import { CURATED_COLUMNS, CURATED_PARTITIONING } from "../../infra/curated-schema";
import {
  FULL_WINDOW,
  MERGE_PLACEHOLDERS,
  mergeSqlTemplate,
  optimizeSql,
  vacuumSql,
  watermarkSql,
} from "../../infra/curated-sql";
import { type CurationPeriod, createCuration, curationScheduleExpression } from "../../infra/curation";
import { cfnLint } from "../helpers/cfn-lint";

const DB = "monitor_lake_test";

/** The curation alone in a stack, beside the parts of the lake it uses. */
function synth(periodMinutes?: CurationPeriod) {
  const app = new App();
  const stack = new Stack(app, "CurationTest", { env: { account: "123456789012", region: "eu-west-1" } });
  const bucket = new s3.Bucket(stack, "Lake", {
    enforceSSL: true,
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
  });
  NagSuppressions.addResourceSuppressions(bucket, [
    {
      id: "AwsSolutions-S1",
      reason: "Test stack: the lake bucket's access logs are the storage construct's.",
    },
  ]);
  const topic = new sns.Topic(stack, "Alarms", { enforceSSL: true });
  NagSuppressions.addResourceSuppressions(topic, [{ id: "AwsSolutions-SNS2", reason: "Test stack." }]);
  const database = new glue.Database(stack, "Database", { databaseName: DB });
  const curation = createCuration(stack, {
    bucket,
    prefix: "lake/",
    databaseName: DB,
    database,
    workgroupName: "monitor-lake-test",
    alarmTopic: topic,
    ...(periodMinutes ? { periodMinutes } : {}),
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { stack, template: Template.fromStack(stack), curation };
}

const { stack, template } = synth();
const json = template.toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
const of = (type: string) => Object.values(json.Resources).filter((r) => r.Type === type);
const definition = JSON.parse(
  JSON.stringify((of("AWS::StepFunctions::StateMachine")[0]?.Properties.DefinitionString as unknown) ?? ""),
) as string;
const asl = JSON.parse(definition) as {
  QueryLanguage: string;
  States: Record<
    string,
    { Type: string; Resource?: string; Arguments?: { QueryString?: string }; Assign?: Record<string, string> }
  >;
};

describe("the curation in the MonitorLake stack", () => {
  const lake = (context: Record<string, unknown>) =>
    Template.fromStack(
      buildApp(
        new App({
          context: {
            integrationKey: "11111111-2222-3333-4444-555555555555",
            userId: "66666666-7777-8888-9999-000000000000",
            ...context,
          },
        }),
      ),
    );

  it("keeps events_curated in the lake's database with the lake's workgroup, every 15 minutes with -c curationPeriodMinutes=15", () => {
    const t = lake({ curationPeriodMinutes: "15" });
    t.hasResourceProperties("AWS::Glue::Table", {
      DatabaseName: "monitor_lake_monitorlake",
      TableInput: Match.objectLike({ Name: "events_curated" }),
    });
    t.hasResourceProperties("AWS::Scheduler::Schedule", { ScheduleExpression: "cron(0/15 * * * ? *)" });
    const [machine] = Object.values(t.findResources("AWS::StepFunctions::StateMachine"));
    const states = (JSON.parse(String(machine?.Properties.DefinitionString)) as typeof asl).States;
    expect(states.Plan?.Assign?.mergeSql).toBe(mergeSqlTemplate("monitor_lake_monitorlake"));
    expect(JSON.stringify(states.Merge?.Arguments)).toContain('"WorkGroup":"monitor-lake-MonitorLake"');
  });

  it("refuses another period, naming the ones it takes", () => {
    expect(() => lake({ curationPeriodMinutes: "10" })).toThrow(
      /-c curationPeriodMinutes=15 \| 20 \| 30 \| 60 \(got "10"\)/,
    );
  });
});

describe("the curation in the template", () => {
  it("declares events_curated as a Glue Iceberg v2 table with the curated columns, partitioned by day(event_time) and stream, ZSTD Parquet", () => {
    const table = of("AWS::Glue::Table")[0]?.Properties as {
      TableInput: { Name: string; StorageDescriptor: { Location: unknown } };
      OpenTableFormatInput: {
        IcebergInput: {
          MetadataOperation: string;
          Version: string;
          IcebergTableInput: {
            Schema: { Fields: { Id: number; Name: string; Type: string }[] };
            PartitionSpec: { Fields: { SourceId: number; Transform: string }[] };
            Properties: Record<string, string>;
          };
        };
      };
    };
    expect(table.TableInput.Name).toBe("events_curated");
    const iceberg = table.OpenTableFormatInput.IcebergInput;
    expect([iceberg.MetadataOperation, iceberg.Version]).toEqual(["CREATE", "2"]);
    const fields = iceberg.IcebergTableInput.Schema.Fields;
    expect(fields.map((f) => [f.Name, f.Type])).toEqual(CURATED_COLUMNS.map((c) => [c.name, c.type]));
    const byId = new Map(fields.map((f) => [f.Id, f.Name]));
    expect(
      iceberg.IcebergTableInput.PartitionSpec.Fields.map((p) => [byId.get(p.SourceId), p.Transform]),
    ).toEqual(CURATED_PARTITIONING.map((p) => [p.column, p.transform]));
    expect(iceberg.IcebergTableInput.Properties).toMatchObject({
      "write.format.default": "parquet",
      "write.parquet.compression-codec": "zstd",
    });
    expect(JSON.stringify(table.TableInput.StorageDescriptor.Location)).toContain("/lake/curated/");
  });

  it("runs the window query, the merge, OPTIMIZE and VACUUM through Step Functions' Athena integration, with the SQL of curated-sql.ts", () => {
    expect(asl.QueryLanguage).toBe("JSONata");
    const s = asl.States;
    for (const name of ["Window", "Merge", "Optimize", "Vacuum"]) {
      expect(s[name]?.Resource).toBe("arn:aws:states:::athena:startQueryExecution.sync");
    }
    expect(s.WindowResult?.Resource).toBe("arn:aws:states:::athena:getQueryResults");
    expect(s.Window?.Arguments?.QueryString).toBe(watermarkSql(DB));
    expect(s.Plan?.Assign?.mergeSql).toBe(mergeSqlTemplate(DB));
    expect(s.Merge?.Arguments?.QueryString).toContain(`'${MERGE_PLACEHOLDERS.watermark}', $watermark`);
    expect(s.Merge?.Arguments?.QueryString).toContain(`'${MERGE_PLACEHOLDERS.fromDay}', $fromDay`);
    expect(s.FullWindow?.Assign).toEqual({ watermark: FULL_WINDOW.watermark, fromDay: FULL_WINDOW.fromDay });
    expect(s.Optimize?.Arguments?.QueryString).toBe(optimizeSql(DB));
    expect(s.Optimize?.Arguments?.QueryString).toMatch(/^OPTIMIZE .* REWRITE DATA USING BIN_PACK$/);
    expect(s.Vacuum?.Arguments?.QueryString).toBe(vacuumSql(DB));
  });

  it("optimizes on the run scheduled at 00:00 UTC, and merges everything and vacuums on the one of a Sunday", () => {
    // The Plan state's JSONata conditions use only $toMillis, $floor, %, /, = and `and`, which mean
    // the same in JavaScript: evaluated here on the tick's time.
    const evaluate = (expression: string | undefined, tick: string): boolean =>
      new Function(
        `return ${String(expression)
          .replace(/^\{% | %\}$/g, "")
          .replaceAll("$toMillis($states.input.scheduledTime)", String(Date.parse(tick)))
          .replaceAll("$floor", "Math.floor")
          .replaceAll(" and ", " && ")
          .replaceAll(" = ", " === ")};`,
      )() as boolean;
    const plan = (tick: string) => [
      evaluate(asl.States.Plan?.Assign?.daily, tick),
      evaluate(asl.States.Plan?.Assign?.weekly, tick),
    ];
    expect(plan("2026-12-06T00:00:00Z")).toEqual([true, true]); // a Sunday
    expect(plan("2026-12-07T00:00:00Z")).toEqual([true, false]);
    expect(plan("2026-12-06T00:15:00Z")).toEqual([false, false]);
    expect(plan("2026-12-05T23:00:00Z")).toEqual([false, false]);
    expect(asl.States.FullOrIncremental).toMatchObject({
      Choices: [{ Condition: "{% $weekly %}", Next: "FullWindow" }],
    });
    expect(asl.States.OptimizeToday).toMatchObject({
      Choices: [{ Condition: "{% $daily %}", Next: "Optimize" }],
    });
    expect(asl.States.VacuumThisWeek).toMatchObject({
      Choices: [{ Condition: "{% $weekly %}", Next: "Vacuum" }],
    });
  });

  it("starts it hourly with EventBridge Scheduler, passing the tick's time; 15 minutes when configured", () => {
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(0 * * * ? *)",
      Target: Match.objectLike({
        Input: JSON.stringify({ scheduledTime: "<aws.scheduler.scheduled-time>" }),
      }),
    });
    synth(15).template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "cron(0/15 * * * ? *)",
    });
    expect(curationScheduleExpression(30)).toBe("cron(0/30 * * * ? *)");
    expect(() => synth(7 as CurationPeriod)).toThrow(/curationPeriodMinutes must be one of 15, 20, 30, 60/);
  });

  it("alarms to the topic when a run fails and when no run succeeded in two periods", () => {
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: "failed + timedOut + aborted" })]),
      Threshold: 1,
      AlarmActions: [Match.anyValue()],
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ExecutionsSucceeded",
      Period: 3600,
      EvaluationPeriods: 2,
      ComparisonOperator: "LessThanThreshold",
      TreatMissingData: "breaching",
      AlarmActions: [Match.anyValue()],
    });
    synth(15).template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "ExecutionsSucceeded",
      Period: 900,
    });
  });

  it("grants the state machine only its workgroup, its tables and the lake's prefixes: no wildcard action or resource", () => {
    const policy = Object.values(json.Resources).find(
      (r) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties.Roles).includes("CurationRole"),
    );
    const all = (
      (policy?.Properties.PolicyDocument ?? { Statement: [] }) as {
        Statement: { Action: string | string[]; Resource: unknown }[];
      }
    ).Statement;
    const statements = all;
    const text = JSON.stringify(statements);
    expect(text).not.toMatch(/"(\w+:)?\*"/);
    expect(text).toContain(`table/${DB}/events_curated`);
    expect(text).toContain("workgroup/monitor-lake-test");
    for (const s of statements) {
      const resources = JSON.stringify(s.Resource);
      if (resources.includes("/*")) expect(resources).toMatch(/lake\/(events|curated|athena-results)\/\*/);
    }
    const writes = statements.filter((s) => [s.Action].flat().includes("s3:PutObject"));
    expect(JSON.stringify(writes)).not.toContain("/lake/events/");
  });

  it("has no unsuppressed cdk-nag AwsSolutions findings", () => {
    const errors = Annotations.fromStack(stack).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    const warnings = Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect([...errors, ...warnings].map((f) => `${f.id}: ${String(f.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  it("passes cfn-lint with zero errors and warnings", async () => {
    const result = await cfnLint(template.toJSON(), inject("venvBin"));
    expect(result.out).toBe("");
    expect(result.code).toBe(0);
  });
});

import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { App, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import * as kms from "aws-cdk-lib/aws-kms";
import { describe, expect, inject, it } from "vitest";
import { buildApp } from "../../infra/app";
import { SAVED_QUERIES } from "../../infra/athena-schema";
import { MonitorLakeStack } from "../../infra/monitor-lake-stack";
import { DEFAULT_BYTES_SCANNED_CUTOFF } from "../../infra/scan-cutoff";
import { ENV } from "../../lambda/config";
import { rateLimitItemKey, rateLimitScope } from "../../lambda/docusign/rate-limit-scope";
import { RUN_METRICS } from "../../lambda/handler/run-metrics";
import { cfnLint } from "../helpers/cfn-lint";

const run = promisify(execFile);
const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkJson.context, ...required, ...context } });
  const stack = buildApp(app);
  const template = Template.fromStack(stack);
  return { app, stack, template };
}

const { stack, template } = synth({ alarmEmail: "secops@example.com" });
const json = template.toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
  Outputs: Record<string, { Value: unknown }>;
};
const resources = (type: string) => Object.values(json.Resources).filter((r) => r.Type === type);

describe("MonitorLake stack", () => {
  it("has a private, TLS-only, encrypted, versioned lake bucket with lifecycle and access logs, retained", () => {
    template.hasResource("AWS::S3::Bucket", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
        },
        VersioningConfiguration: { Status: "Enabled" },
        LoggingConfiguration: Match.objectLike({ LogFilePrefix: "lake/" }),
        LifecycleConfiguration: {
          Rules: Match.arrayWith([
            Match.objectLike({
              Prefix: "events/",
              NoncurrentVersionExpiration: { NoncurrentDays: 30 },
              Transitions: [{ StorageClass: "INTELLIGENT_TIERING", TransitionInDays: 30 }],
            }),
            // The files OPTIMIZE and VACUUM replace are kept as old versions no longer than a week.
            Match.objectLike({ Prefix: "curated/", NoncurrentVersionExpiration: { NoncurrentDays: 7 } }),
            Match.objectLike({ Prefix: "athena-results/", ExpirationInDays: 30 }),
          ]),
        },
      }),
    });
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
        ]),
      },
    });
  });

  it("adds Object Lock, expiry and a KMS option only when asked", () => {
    const locked = synth({ objectLock: "COMPLIANCE:365", retentionDays: "400" }).template;
    locked.hasResourceProperties("AWS::S3::Bucket", {
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: "Enabled",
        Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 365 } },
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Prefix: "events/", ExpirationInDays: 400 })]),
      },
    });
    expect(JSON.stringify(json)).not.toContain("ObjectLockEnabled");

    const app = new App({ context: cdkJson.context });
    const keyed = new Stack(app, "Keyed");
    const key = new kms.Key(keyed, "Key", { enableKeyRotation: true });
    const kmsTemplate = Template.fromStack(
      new MonitorLakeStack(app, "KmsLake", { lake: { ...required, encryptionKey: key } }),
    );
    kmsTemplate.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: "aws:kms" }),
          }),
        ],
      },
    });
    kmsTemplate.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Action: Match.arrayWith(["kms:GenerateDataKey*"]) })]),
      },
    });
  });

  it("keeps state in an on-demand table with point-in-time recovery, retained", () => {
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({
        BillingMode: "PAY_PER_REQUEST",
        KeySchema: [{ AttributeName: "streamId", KeyType: "HASH" }],
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    });
  });

  it("creates the key secret empty with instructions, or imports one by name", () => {
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      Description: Match.stringLikeRegexp("RSA private key.*put-secret-value"),
      GenerateSecretString: Match.absent(),
      SecretString: Match.absent(),
    });
    const imported = synth({ keySecretName: "existing/docusign-key" }).template;
    imported.resourceCountIs("AWS::SecretsManager::Secret", 0);
    expect(JSON.stringify(imported.toJSON())).toContain("secret:existing/docusign-key-??????");
  });

  it("runs the ingester on Node.js 24 arm64 with reserved concurrency 1, no async retries and an on-failure queue", () => {
    template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      Timeout: 300,
      MemorySize: 512,
      ReservedConcurrentExecutions: 1,
      Handler: "index.handler",
      Environment: {
        Variables: Match.objectLike({
          [ENV.docusignEnv]: "demo",
          [ENV.integrationKey]: required.integrationKey,
          [ENV.userId]: required.userId,
          [ENV.privateKeySecret]: Match.anyValue(),
          [ENV.bucket]: Match.anyValue(),
          [ENV.stateTable]: Match.anyValue(),
          [ENV.keyPrefix]: "",
        }),
      },
    });
    template.hasResourceProperties("AWS::Lambda::EventInvokeConfig", {
      MaximumRetryAttempts: 0,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
    template.hasResourceProperties("AWS::SQS::Queue", { SqsManagedSseEnabled: true });
    template.hasResourceProperties("AWS::Logs::LogGroup", { RetentionInDays: 30 });
  });

  it("bundles a handler that loads on its own and reports configuration errors by name", async () => {
    const assembly = synth().app.synth();
    const fn = resources("AWS::Lambda::Function").find((r) => r.Properties.Runtime === "nodejs24.x");
    const key = (fn!.Properties.Code as { S3Key: string }).S3Key.replace(/\.zip$/, "");
    const bundle = join(assembly.directory, `asset.${key}`, "index.js");
    const script = `require(${JSON.stringify(bundle)}).handler({}, { awsRequestId: "t", getRemainingTimeInMillis: () => 10000 })
      .then(() => console.log("RESULT resolved"), (e) => console.log("RESULT " + e.name + " " + e.code))`;
    // The AWS SDK is provided by the Lambda runtime, not bundled: resolve it from this project.
    const { stdout } = await run(process.execPath, ["-e", script], {
      env: {
        PATH: process.env.PATH ?? "",
        NODE_PATH: join(process.cwd(), "node_modules"),
        AWS_REGION: "us-east-1",
      },
    });
    expect(stdout).toContain("RESULT ConfigError CONFIG_INVALID");
  });

  it("can leave reserved concurrency off for small accounts", () => {
    const app = new App({ context: cdkJson.context });
    const s = new MonitorLakeStack(app, "NoReserve", { lake: { ...required, reservedConcurrency: false } });
    Template.fromStack(s).hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      ReservedConcurrentExecutions: Match.absent(),
    });
  });

  it("schedules each stream with EventBridge Scheduler, a retry policy and a dead-letter queue", () => {
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "rate(5 minutes)",
      Target: Match.objectLike({
        Input: JSON.stringify({ stream: "default" }),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
        DeadLetterConfig: { Arn: Match.anyValue() },
      }),
    });
    const custom = synth({
      organizationId: "0a0a0a0a-2222-4000-8000-000000000001",
      schedule: "rate(10 minutes)",
      redirectUri: "https://example.com/cb",
    });
    custom.template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: { Variables: Match.objectLike({ [ENV.redirectUri]: "https://example.com/cb" }) },
    });
    expect(JSON.stringify(custom.template.toJSON().Outputs)).toContain(
      "redirect_uri=https%3A%2F%2Fexample.com%2Fcb",
    );
    // The payload names the stream only; its organization is in the function's stream table.
    custom.template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "rate(10 minutes)",
      Target: Match.objectLike({ Input: JSON.stringify({ stream: "default" }) }),
    });
    custom.template.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          [ENV.stream]: "default",
          [ENV.streams]: JSON.stringify([
            { id: "default", organizationId: "0a0a0a0a-2222-4000-8000-000000000001" },
          ]),
        }),
      },
    });
  });

  it("grants least privilege: no wildcard actions, no unscoped resources", () => {
    const statements = resources("AWS::IAM::Policy").flatMap(
      (p) =>
        (p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] })
          .Statement,
    );
    expect(statements.length).toBeGreaterThan(0);
    for (const s of statements) {
      for (const action of [s.Action].flat()) expect(action).not.toContain("*");
      expect(s.Resource).not.toBe("*");
    }
    const ingester = statements.filter(
      (s) =>
        JSON.stringify(s.Action).includes("s3:PutObject") &&
        !JSON.stringify(s.Resource).includes("/curated/"),
    );
    expect(ingester).toHaveLength(1);
    expect([ingester[0]?.Action].flat().sort()).toEqual(["s3:DeleteObject", "s3:GetObject", "s3:PutObject"]);
    expect(JSON.stringify(ingester[0]?.Resource)).toContain("/events/*");
    const dynamo = statements.find((s) =>
      JSON.stringify(s.Action).includes("dynamodb:UpdateItem"),
    ) as unknown as {
      Condition: unknown;
    };
    // Its stream's item and its account's rate-limit item (the reset every stream of the account honours).
    const rateLimitItem = rateLimitItemKey(
      rateLimitScope({ oauthUrl: "https://account-d.docusign.com", ...required }),
    );
    expect(dynamo.Condition).toEqual({
      "ForAllValues:StringEquals": { "dynamodb:LeadingKeys": ["default", rateLimitItem] },
    });
    expect(statements.some((s) => s.Action === "secretsmanager:GetSecretValue")).toBe(true);
  });

  it("declares the Athena table with OpenX JSON, every field and partition projection on dt", () => {
    template.hasResourceProperties("AWS::Glue::Table", {
      TableInput: Match.objectLike({
        Name: "events",
        PartitionKeys: [{ Name: "dt", Type: "string" }],
        Parameters: Match.objectLike({
          "projection.enabled": "true",
          "projection.dt.type": "date",
          "projection.dt.format": "yyyy-MM-dd",
          "projection.dt.range": "2020-01-01,NOW",
        }),
        StorageDescriptor: Match.objectLike({
          SerdeInfo: Match.objectLike({ SerializationLibrary: "org.openx.data.jsonserde.JsonSerDe" }),
          Columns: Match.arrayWith([
            { Name: "eventid", Type: "string" },
            {
              Name: "ipaddresslocation",
              Type: "struct<latitude:string,longitude:string,country:string,state:string,city:string>",
            },
            { Name: "data", Type: "string" },
          ]),
        }),
      }),
    });
  });

  it("creates the events_dedup view, a workgroup with a scan cutoff, and the saved queries", () => {
    template.hasResourceProperties("AWS::Glue::Table", {
      TableInput: Match.objectLike({
        Name: "events_dedup",
        TableType: "VIRTUAL_VIEW",
        ViewOriginalText: Match.stringLikeRegexp("^/\\* Presto View: "),
      }),
    });
    const view = resources("AWS::Glue::Table").find(
      (r) => (r.Properties.TableInput as { Name: string }).Name === "events_dedup",
    )!.Properties.TableInput as {
      ViewOriginalText: string;
      StorageDescriptor: { Columns: { Name: string; Type: string }[] };
    };
    const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.ViewOriginalText)?.[1] ?? "";
    const presto = JSON.parse(Buffer.from(encoded, "base64").toString("utf8")) as {
      originalSql: string;
      catalog: string;
      schema: string;
      columns: { name: string; type: string }[];
    };
    const database = (
      resources("AWS::Glue::Database")[0]?.Properties.DatabaseInput as { Name: string } | undefined
    )?.Name;
    expect(database).toBe("monitor_lake_monitorlake");
    expect(presto.catalog).toBe("awsdatacatalog");
    expect(presto.schema).toBe(database);
    expect(presto.originalSql).toContain(`FROM "${database}"."events_lines"`);
    expect(presto.originalSql).toContain(`FROM "${database}"."events_lines_untimed"`);
    // dt in the window's partition lets a dt filter on the view prune (athena-trino.test.ts measures it);
    // stream in it deduplicates within a stream, as the curated table does, by eventId or else the line.
    expect(presto.originalSql).toContain(
      `row_number() OVER (PARTITION BY "dt", "stream", coalesce(nullif("eventid", ''), lower(to_hex(sha256(to_utf8("line"))))) `,
    );
    expect(presto.columns.map((c) => c.name)).toEqual(view.StorageDescriptor.Columns.map((c) => c.Name));
    expect(presto.columns).toContainEqual({ name: "event_time", type: "timestamp(3) with time zone" });
    expect(view.StorageDescriptor.Columns).toContainEqual({
      Name: "useragentclientinfo",
      Type: expect.stringMatching(/^struct<browser:struct<family:string,version:struct<major:string/),
    });
    template.hasResourceProperties("AWS::Athena::WorkGroup", {
      WorkGroupConfiguration: Match.objectLike({
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: DEFAULT_BYTES_SCANNED_CUTOFF,
        EngineVersion: { SelectedEngineVersion: "Athena engine version 3" },
        ResultConfiguration: Match.objectLike({ EncryptionConfiguration: { EncryptionOption: "SSE_S3" } }),
      }),
    });
    expect(SAVED_QUERIES.length).toBeGreaterThanOrEqual(8);
    template.resourceCountIs("AWS::Athena::NamedQuery", SAVED_QUERIES.length);
  });

  it("leaves no unresolved CDK token in the template, the decoded view and the saved queries included", () => {
    const strings: string[] = [];
    const walk = (value: unknown): void => {
      if (typeof value === "string") {
        strings.push(value);
        const view = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(value)?.[1];
        if (view) strings.push(Buffer.from(view, "base64").toString("utf8"));
      } else if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
    };
    walk(json);
    expect(strings.some((s) => s.includes("awsdatacatalog"))).toBe(true);
    expect(strings.filter((s) => s.includes("${Token["))).toEqual([]);
    const queries = resources("AWS::Athena::NamedQuery").map((q) => q.Properties.QueryString);
    for (const q of queries) expect(q).toMatch(/"monitor_lake_monitorlake"\."(events_curated|events_dedup)"/);
  });

  it("alarms on errors, throttles, duration, failed runs, no successful run, lag, auth failures, lease conflicts, not advancing and detection errors, to SNS", () => {
    // Detection rules and the curation (test/infra/curated-stack.test.ts) have alarms of their own.
    const alarms = resources("AWS::CloudWatch::Alarm").filter(
      // Detection alarms (per rule, or metric math per severity) are tested in detection-alarms.test.ts.
      (a) =>
        a.Properties.MetricName !== "RuleMatches" &&
        !JSON.stringify(a.Properties).includes('"RuleMatches"') &&
        !String(a.Properties.AlarmDescription).includes("curation"),
    );
    // 4 of the function, 5 of the stream, DetectionErrors.
    expect(alarms).toHaveLength(10);
    for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "EventsIngested",
      Statistic: "SampleCount",
      Namespace: "MonitorLake",
      Dimensions: [{ Name: "stream", Value: "default" }],
      TreatMissingData: "breaching",
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", {
      MetricName: "IngestLagSeconds",
      Namespace: "MonitorLake",
      Dimensions: [{ Name: "stream", Value: "default" }],
      Threshold: 7200,
      TreatMissingData: "notBreaching",
    });
    template.hasResourceProperties("AWS::CloudWatch::Alarm", { MetricName: "Duration", Threshold: 240_000 });
    template.hasResourceProperties("AWS::SNS::Subscription", {
      Protocol: "email",
      Endpoint: "secops@example.com",
    });
    template.resourceCountIs("AWS::CloudWatch::Dashboard", 1);
  });

  it("shows every run metric the function publishes on each stream's dashboard row", () => {
    const streams = JSON.stringify([{ id: "org-a" }, { id: "org-b" }]);
    const two = synth({ streams }).template.toJSON() as typeof json;
    const dashboard = Object.values(two.Resources).find((r) => r.Type === "AWS::CloudWatch::Dashboard") as {
      Properties: Record<string, unknown>;
    };
    // The body is a Fn::Join of JSON text and references: the text alone, references as "ref", parses.
    const parts = (dashboard.Properties.DashboardBody as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1];
    const body = JSON.parse(parts.map((p) => (typeof p === "string" ? p : "ref")).join("")) as {
      widgets: { properties: { metrics?: unknown[][] } }[];
    };
    const shown = new Set(
      body.widgets.flatMap((w) => (w.properties.metrics ?? []).map((m) => m.slice(0, 4).join(" "))),
    );
    for (const stream of ["org-a", "org-b"])
      for (const metric of RUN_METRICS)
        expect(shown.has(`MonitorLake ${metric} stream ${stream}`), `${metric} of ${stream}`).toBe(true);
  });

  it("outputs what the README's deploy steps need", () => {
    const outputs = Object.entries(json.Outputs);
    const names = outputs.map(([k]) => k).join(" ");
    for (const name of [
      "BucketName",
      "StateTableName",
      "PrivateKeySecretArn",
      "StorePrivateKeyCommand",
      "ConsentUrl",
      "AthenaWorkGroup",
      "AthenaDatabase",
      "DashboardUrl",
    ]) {
      expect(names).toContain(name);
    }
    const consent = outputs.find(([k]) => k.includes("ConsentUrl"))?.[1].Value;
    expect(consent).toBe(
      `https://account-d.docusign.com/oauth/auth?response_type=code&scope=signature%20impersonation&client_id=${required.integrationKey}&redirect_uri=https%3A%2F%2Fdevelopers.docusign.com%2Fplatform%2Fauth%2Fconsent`,
    );
  });

  it("has no unsuppressed cdk-nag AwsSolutions findings", () => {
    const errors = Annotations.fromStack(stack).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    const warnings = Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect(errors.map((e) => e.entry.data)).toEqual([]);
    expect(warnings.map((e) => e.entry.data)).toEqual([]);
  });

  it("passes cfn-lint with zero errors", async () => {
    const result = await cfnLint(template.toJSON(), inject("venvBin"));
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational (1: it failed to run).
    expect(result.code & 3, result.out).toBe(0);
    expect(result.out).not.toMatch(/:E\d{4}:/);
  });

  it("fails synth with the -c flags to pass when required context is missing", () => {
    const app = new App({ context: cdkJson.context });
    expect(() => buildApp(app)).toThrow(/-c integrationKey=.*\n.*-c userId=/s);
    expect(() =>
      buildApp(new App({ context: { ...required, environment: "prod", objectLock: "forever" } })),
    ).toThrow(/-c environment=demo or -c environment=production[\s\S]*-c objectLock=GOVERNANCE:<days>/);
  });
});

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { afterAll, describe, expect, inject, it } from "vitest";
import { buildApp } from "../../infra/app";
import { MonitorLakeStack } from "../../infra/monitor-lake-stack";
import { functionStreamTable, type ResolvedStream } from "../../infra/stream-settings";
import { ENV } from "../../lambda/config";
import { DEFAULT_REDIRECT_URI } from "../../lambda/docusign/docusign-endpoints";
import { rateLimitItemKey, rateLimitScope } from "../../lambda/docusign/rate-limit-scope";
import { ConfigError } from "../../lambda/errors";
import { createHandler } from "../../lambda/handler/handler";
import { cfnLint } from "../helpers/cfn-lint";

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const A = {
  integrationKey: "aaaaaaaa-0000-4000-8000-00000000000a",
  userId: "aaaaaaaa-1111-4000-8000-00000000000a",
};
const B = {
  integrationKey: "bbbbbbbb-0000-4000-8000-00000000000b",
  userId: "bbbbbbbb-1111-4000-8000-00000000000b",
};
const twoStreams = [
  { id: "org-a", organizationId: "0a0a0a0a-2222-4000-8000-00000000000a", ...A, environment: "demo" },
  {
    id: "org-b",
    organizationId: "0b0b0b0b-2222-4000-8000-00000000000b",
    streamApi: "organization",
    ...B,
    environment: "production",
    schedule: "rate(15 minutes)",
    keyFile: "./org-b.pem",
  },
];

const dir = await mkdtemp(join(tmpdir(), "monitor-lake-streams-"));
afterAll(() => rm(dir, { recursive: true, force: true }));
const streamsFile = join(dir, "streams.json");
await writeFile(streamsFile, JSON.stringify(twoStreams));

type Json = Record<string, unknown>;
interface Resource {
  readonly Type: string;
  readonly Properties: Json;
}

function synth(context: Json) {
  const stack = buildApp(new App({ context: { ...cdkJson.context, ...context } }));
  const template = Template.fromStack(stack);
  const json = template.toJSON() as { Resources: Record<string, Resource>; Outputs: Record<string, Json> };
  return { stack, template, json };
}

/** A value with its Refs written as `<Ref:LogicalId>`, so a joined string reads as text. */
function text(value: unknown): string {
  if (typeof value === "string") return value;
  const v = value as Json;
  if (v.Ref) return `<Ref:${String(v.Ref)}>`;
  const join = v["Fn::Join"] as [string, unknown[]] | undefined;
  if (join) return join[1].map(text).join(join[0]);
  return JSON.stringify(value);
}

const { stack, template, json } = synth({ streams: streamsFile, alarmEmail: "secops@example.com" });
const fn = Object.values(json.Resources).find(
  (r) => r.Type === "AWS::Lambda::Function" && (r.Properties.Runtime as string) === "nodejs24.x",
) as Resource;
const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
const secretIds = Object.entries(json.Resources)
  .filter(([, r]) => r.Type === "AWS::SecretsManager::Secret")
  .map(([id]) => id);

describe("two streams, different integration keys and environments (-c streams=<file>)", () => {
  it("creates one secret per stream and lets the function read exactly those two", () => {
    expect(secretIds).toHaveLength(2);
    const reads = Object.values(json.Resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement)
      .filter((s) => JSON.stringify(s.Action).includes("secretsmanager:"));
    expect(reads).toHaveLength(1);
    expect(reads[0]?.Action).toBe("secretsmanager:GetSecretValue");
    expect(([reads[0]?.Resource].flat() as unknown[]).map(text).sort()).toEqual(
      secretIds.map((id) => `<Ref:${id}>`).sort(),
    );
    // The first stream keeps the one-stream deployment's secret (construct id "PrivateKey").
    expect(secretIds.some((id) => /^MonitorLakePrivateKey[0-9A-F]{8}$/.test(id))).toBe(true);
  });

  it("schedules each stream on its own with the payload {stream} only", () => {
    // Beside the curation's schedule (test/infra/curated-stack.test.ts).
    const schedules = Object.values(json.Resources).filter(
      (r) => r.Type === "AWS::Scheduler::Schedule" && String(r.Properties.Description).includes("ingest"),
    );
    expect(schedules).toHaveLength(2);
    const byInput = Object.fromEntries(
      schedules.map((s) => [(s.Properties.Target as Json).Input as string, s.Properties.ScheduleExpression]),
    );
    expect(byInput).toEqual({
      [JSON.stringify({ stream: "org-a" })]: "rate(5 minutes)",
      [JSON.stringify({ stream: "org-b" })]: "rate(15 minutes)",
    });
  });

  it("gives the function the stream table with each stream's key, user, environment, stream API and secret", () => {
    expect(variables[ENV.integrationKey]).toBe(A.integrationKey);
    expect(variables[ENV.userId]).toBe(A.userId);
    expect(variables[ENV.docusignEnv]).toBe("demo");
    expect(variables[ENV.stream]).toBe("org-a");
    const secretA = text(variables[ENV.privateKeySecret]);
    const table = JSON.parse(text(variables[ENV.streams])) as Json[];
    expect(table).toEqual([
      { id: "org-a", organizationId: twoStreams[0]?.organizationId },
      {
        id: "org-b",
        organizationId: twoStreams[1]?.organizationId,
        streamApi: "organization",
        ...B,
        environment: "production",
        keySecret: expect.stringMatching(/^<Ref:MonitorLakePrivateKeyorgb/),
      },
    ]);
    expect(table[1]?.keySecret).not.toBe(secretA);
    // One concurrent execution per stream: a long run of one never throttles the other.
    expect(fn.Properties.ReservedConcurrentExecutions).toBe(2);
    template.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Condition: {
              "ForAllValues:StringEquals": {
                "dynamodb:LeadingKeys": [
                  "org-a",
                  "org-b",
                  // Each account's rate-limit item: org-a on demo, org-b on production.
                  rateLimitItemKey(rateLimitScope({ oauthUrl: "https://account-d.docusign.com", ...A })),
                  rateLimitItemKey(rateLimitScope({ oauthUrl: "https://account.docusign.com", ...B })),
                ],
              },
            },
          }),
        ]),
      },
    });
  });

  it("outputs a store-key command and a consent URL per stream, each for its key and environment", () => {
    const out = (prefix: string) =>
      Object.entries(json.Outputs)
        // Fixed output ids (infra/outputs.ts, stableOutputIds): the stream id is the suffix.
        .filter(([k]) => k.startsWith(prefix))
        .map(([, v]) => ({ value: text(v.Value), description: String(v.Description) }));
    const consent = out("ConsentUrl");
    expect(consent).toHaveLength(2);
    expect(consent.map((c) => c.value).sort()).toEqual([
      expect.stringMatching(
        `^https://account-d\\.docusign\\.com/oauth/auth\\?.*client_id=${A.integrationKey}`,
      ),
      expect.stringMatching(`^https://account\\.docusign\\.com/oauth/auth\\?.*client_id=${B.integrationKey}`),
    ]);
    expect(consent.find((c) => c.value.includes(B.integrationKey))?.description).toContain(
      `Stream org-b: open once, signed in as user ${B.userId}`,
    );
    const store = out("StorePrivateKeyCommand");
    expect(store.map((s) => s.value.match(/--secret-id (<Ref:\w+>)/)?.[1]).sort()).toEqual(
      secretIds.map((id) => `<Ref:${id}>`).sort(),
    );
  });

  it("alarms per stream (no successful run, lag, auth failures, lease conflicts, not advancing) and draws one dashboard row per stream", () => {
    for (const stream of ["org-a", "org-b"]) {
      for (const [name, metric] of [
        ["IngestionStalled", "EventsIngested"],
        ["IngestLag", "IngestLagSeconds"],
        ["AuthFailures", "AuthFailures"],
        ["LeaseConflicts", "LeaseHeld"],
        ["StreamNotAdvancing", "StreamNotAdvancing"],
      ]) {
        template.hasResourceProperties("AWS::CloudWatch::Alarm", {
          AlarmDescription: Match.stringLikeRegexp(`^Stream ${stream}:`),
          MetricName: metric,
          Dimensions: [{ Name: "stream", Value: stream }],
        });
        expect(
          Object.keys(json.Resources).some((k) =>
            k.startsWith(`MonitorLake${name}${stream.replace("-", "")}`),
          ),
        ).toBe(true);
      }
    }
    const body = text(
      (Object.values(json.Resources).find((r) => r.Type === "AWS::CloudWatch::Dashboard") as Resource)
        .Properties.DashboardBody,
    );
    for (const stream of ["org-a", "org-b"]) {
      for (const title of [
        "events, objects and bytes stored",
        "ingest lag (s) and share of runs caught up",
        "auth failures, lease conflicts, runs not advancing",
        "DocuSign pages, retries and throttles",
      ])
        expect(body).toContain(`"title":"${stream}: ${title}"`);
    }
  });

  it("has no unsuppressed cdk-nag finding and passes cfn-lint", async () => {
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    expect(annotations.findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    const result = await cfnLint(json, inject("venvBin"));
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational (1: it failed to run).
    expect(result.code & 3, result.out).toBe(0);
  });

  it("builds a function that refuses a payload carrying userId", async () => {
    // The synthesized environment (tokens replaced), in the real handler: configuration is all it needs here.
    const env = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, text(v)]));
    const handler = createHandler({ env, s3: {}, dynamo: {}, secrets: {} } as never);
    const error = await handler(
      { stream: "org-b", userId: A.userId },
      {
        awsRequestId: "t",
        getRemainingTimeInMillis: () => 10_000,
      },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain('"userId", which is refused');
  });
});

describe("stream settings", () => {
  it("a one-stream deployment the old way keeps its names: secret, outputs, STREAM_ID, payload", () => {
    const { json: one } = synth({ integrationKey: A.integrationKey, userId: A.userId });
    const oneFn = Object.values(one.Resources).find(
      (r) => r.Type === "AWS::Lambda::Function" && r.Properties.Runtime === "nodejs24.x",
    ) as Resource;
    expect((oneFn.Properties.Environment as { Variables: Json }).Variables).toMatchObject({
      [ENV.stream]: "default",
      [ENV.streams]: JSON.stringify([{ id: "default" }]),
      [ENV.integrationKey]: A.integrationKey,
      [ENV.userId]: A.userId,
    });
    const schedule = Object.values(one.Resources).find((r) => r.Type === "AWS::Scheduler::Schedule");
    expect((schedule?.Properties.Target as Json | undefined)?.Input).toBe(
      JSON.stringify({ stream: "default" }),
    );
    const outputs = Object.keys(one.Outputs).join(" ");
    // Fixed output ids since issue 20 (infra/outputs.ts, stableOutputIds): the names the README gives.
    for (const name of ["PrivateKeySecretArn", "StorePrivateKeyCommand", "ConsentUrl"])
      expect(outputs.split(" ")).toContain(name);
    expect(
      Object.keys(one.Resources).filter((k) => /^MonitorLakePrivateKey[0-9A-F]{8}$/.test(k)),
    ).toHaveLength(1);
  });

  it("imports a secret a stream names, shares it between streams naming it, and reads it by name", () => {
    const app = new App({ context: cdkJson.context });
    const stack = new MonitorLakeStack(app, "Shared", {
      lake: {
        ...A,
        streams: [
          { id: "org-a" },
          { id: "org-b", ...B, keySecretName: "clients/b-key" },
          { id: "org-c", userId: B.userId, integrationKey: B.integrationKey, keySecretName: "clients/b-key" },
        ],
      },
    });
    const t = Template.fromStack(stack).toJSON() as { Resources: Record<string, Resource> };
    expect(Object.values(t.Resources).filter((r) => r.Type === "AWS::SecretsManager::Secret")).toHaveLength(
      1,
    );
    const read = Object.values(t.Resources)
      .filter((r) => r.Type === "AWS::IAM::Policy")
      .flatMap((p) => (p.Properties.PolicyDocument as { Statement: Json[] }).Statement)
      .find((s) => s.Action === "secretsmanager:GetSecretValue");
    const resources = ([read?.Resource].flat() as unknown[]).map(text);
    expect(resources).toHaveLength(2);
    expect(resources.filter((r) => r.endsWith(":secret:clients/b-key-??????"))).toHaveLength(1);
  });

  it("fails the synth past Lambda's 4 KB environment, naming the fix", () => {
    const many = Array.from({ length: 20 }, (_, i) => ({
      id: `client-${i}`,
      organizationId: B.userId,
      integrationKey: `${B.integrationKey.slice(0, -2)}${String(i).padStart(2, "0")}`,
      userId: A.userId,
    }));
    expect(() => synth({ streams: JSON.stringify(many) }).template).toThrow(
      /environment would be about \d+ bytes with 20 streams, over Lambda's 4096: deploy the streams in several stacks/,
    );
    // Ten fit.
    expect(() => synth({ streams: JSON.stringify(many.slice(0, 10)) }).template).not.toThrow();
  });

  it("lists every problem of -c streams with its fix", () => {
    const bad = JSON.stringify([
      { id: "org a", userId: "u" },
      { id: "org-b", integrationKey: "k", userId: "u", region: "eu" },
      { id: "org-b", userId: "u", integrationKey: "k" },
      { id: "org-c", integrationKey: "k" },
    ]);
    let message = "";
    try {
      synth({ streams: bad });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toContain('-c streams[0].id is "org a": use 1-64 letters');
    expect(message).toContain("-c streams[1].region is not a stream setting here");
    expect(message).toContain('-c streams[2].id "org-b" is used twice');
    expect(() => synth({ streams: JSON.stringify([{ id: "org-c", integrationKey: "k" }]) })).toThrow(
      "-c userId=<the impersonated admin's user GUID ('API Username')>",
    );
    expect(() => synth({ ...A, streams: JSON.stringify([{ id: "org-a" }, { id: "org_a" }]) })).toThrow(
      'stream ids "org-a" and "org_a" differ only in',
    );
    expect(() => synth({ streams: join(dir, "missing.json") })).toThrow(/cannot read ".*missing\.json"/);
    expect(() => synth({ ...A, streams: streamsFile, organizationId: "o" })).toThrow(
      "with -c streams set them in each stream",
    );
  });
});

describe("the function's stream table", () => {
  it("gives a stream without a redirect URI DocuSign's page, not the first stream's own URI", () => {
    const stream = (id: string, redirectUri?: string): ResolvedStream => ({
      id,
      integrationKey: `key-${id}`,
      userId: "u",
      environment: "demo",
      schedule: "rate(5 minutes)",
      ...(redirectUri === undefined ? {} : { redirectUri }),
    });

    const table = functionStreamTable(
      [stream("a", "https://a.example/callback"), stream("b"), stream("c", "https://a.example/callback")],
      new Map(),
    );

    expect(table.map((e) => e.redirectUri)).toEqual([undefined, DEFAULT_REDIRECT_URI, undefined]);
  });
});

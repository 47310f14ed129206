import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import { DEFAULT_PROJECTION_START, projectionStart } from "../../infra/projection-start";

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};
type Resource = { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string };

function synth(context: Record<string, unknown> = {}): Record<string, Resource> {
  const app = new App({ context: { ...cdkJson.context, ...required, ...context } });
  return (Template.fromStack(buildApp(app)).toJSON() as { Resources: Record<string, Resource> }).Resources;
}
const byType = (resources: Record<string, Resource>, type: string) =>
  Object.entries(resources).filter(([, r]) => r.Type === type);
const tableInput = (resources: Record<string, Resource>, name: string) =>
  byType(resources, "AWS::Glue::Table")
    .map(([, r]) => r.Properties.TableInput as { Name: string; Parameters: Record<string, unknown> })
    .find((t) => t.Name === name);

/** Properties that give a resource a fixed physical name, by type. */
const NAME_PROPERTIES: Record<string, (p: Record<string, unknown>) => unknown> = {
  "AWS::S3::Bucket": (p) => p.BucketName,
  "AWS::DynamoDB::Table": (p) => p.TableName,
  "AWS::SecretsManager::Secret": (p) => p.Name,
  "AWS::KMS::Key": () => undefined,
  "AWS::KMS::Alias": (p) => p.AliasName,
  "AWS::Glue::Database": (p) => (p.DatabaseInput as { Name?: string }).Name,
  "AWS::Logs::LogGroup": (p) => p.LogGroupName,
};

describe("destroy, then deploy again", () => {
  for (const [label, context] of [
    ["default", {}],
    ["with a customer key and Object Lock", { encryptionKey: "new", objectLock: "GOVERNANCE:30" }],
  ] as const) {
    it(`retains only resources with generated names, so a new stack of the same name can be created (${label})`, () => {
      const resources = synth(context);
      const retained = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === "Retain");
      for (const [id, r] of retained) {
        const name = NAME_PROPERTIES[r.Type];
        expect(name, `${id}: a retained ${r.Type} this test does not know`).toBeDefined();
        expect(name?.(r.Properties), `${id} is retained with a fixed name`).toBeUndefined();
      }
      // What stays: the lake and its access logs, the state table, the key secret, the key, the results.
      expect(retained.map(([, r]) => r.Type).sort()).toEqual(
        [
          "AWS::DynamoDB::Table",
          "AWS::S3::Bucket",
          "AWS::S3::Bucket",
          "AWS::S3::Bucket",
          "AWS::SecretsManager::Secret",
          ...(label === "default" ? [] : ["AWS::KMS::Key"]),
        ].sort(),
      );
    });
  }

  it("deletes the Glue database (fixed name) with its tables and view, and the workgroup with its history", () => {
    const resources = synth();
    const [[, database] = []] = byType(resources, "AWS::Glue::Database");
    const deleted = [undefined, "Delete"];
    expect((database?.Properties.DatabaseInput as { Name: string } | undefined)?.Name).toBe(
      "monitor_lake_monitorlake",
    );
    expect(deleted).toContain(database?.DeletionPolicy);
    for (const [id, t] of byType(resources, "AWS::Glue::Table"))
      expect(deleted, id).toContain(t.DeletionPolicy);
    const [[, workgroup] = []] = byType(resources, "AWS::Athena::WorkGroup");
    expect(workgroup?.Properties.RecursiveDeleteOption).toBe(true);
    expect(deleted).toContain(workgroup?.DeletionPolicy);
  });
});

describe("query results", () => {
  const results = (resources: Record<string, Resource>) =>
    Object.entries(resources).find(([id]) => /^MonitorLakeQueryResults[0-9A-F]{8}$/.test(id)) ?? [];

  it("go to a bucket of their own that expires them, older versions included, never under Object Lock", () => {
    const resources = synth({ objectLock: "COMPLIANCE:365" });
    const [id, bucket] = results(resources);
    expect(bucket?.Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: "expire-results",
          Status: "Enabled",
          ExpirationInDays: 7,
          NoncurrentVersionExpiration: { NoncurrentDays: 1 },
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
    expect(bucket?.Properties.ObjectLockEnabled).toBeUndefined();
    expect(bucket?.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicAcls: true });
    const [[, workgroup] = []] = byType(resources, "AWS::Athena::WorkGroup");
    const configuration = workgroup?.Properties.WorkGroupConfiguration as {
      ResultConfiguration: { OutputLocation: unknown; EncryptionConfiguration: unknown };
    };
    expect(configuration.ResultConfiguration.OutputLocation).toEqual({
      "Fn::Join": ["", ["s3://", { Ref: id }, "/"]],
    });
    expect(configuration.ResultConfiguration.EncryptionConfiguration).toEqual({ EncryptionOption: "SSE_S3" });
    // Results written to the lake by an older version still expire there, old versions too.
    const [, lake] = Object.entries(resources).find(([k]) => /^MonitorLake[0-9A-F]{8}$/.test(k)) ?? [];
    expect(
      (lake?.Properties.LifecycleConfiguration as { Rules: unknown[] } | undefined)?.Rules,
    ).toContainEqual(
      expect.objectContaining({
        Prefix: "athena-results/",
        ExpirationInDays: 30,
        NoncurrentVersionExpiration: { NoncurrentDays: 1 },
      }),
    );
  });

  it("are encrypted with the customer key when one is given, by the bucket and by the workgroup", () => {
    const resources = synth({ encryptionKey: "new" });
    const [, bucket] = results(resources);
    expect(bucket?.Properties.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [
        {
          BucketKeyEnabled: true,
          ServerSideEncryptionByDefault: {
            SSEAlgorithm: "aws:kms",
            KMSMasterKeyID: { "Fn::GetAtt": ["LakeKey09476F72", "Arn"] },
          },
        },
      ],
    });
    const [[, workgroup] = []] = byType(resources, "AWS::Athena::WorkGroup");
    expect(workgroup?.Properties.WorkGroupConfiguration).toMatchObject({
      ResultConfiguration: {
        EncryptionConfiguration: {
          EncryptionOption: "SSE_KMS",
          KmsKey: { "Fn::GetAtt": ["LakeKey09476F72", "Arn"] },
        },
      },
    });
  });
});

describe("projectionStart: the first dt of the partition projection", () => {
  const range = (resources: Record<string, Resource>, table: string) =>
    tableInput(resources, table)?.Parameters["projection.dt.range"];

  it("is -c projectionStart on both tables", () => {
    const resources = synth({ projectionStart: "2025-03-01" });
    expect(range(resources, "events")).toBe("2025-03-01,NOW");
    expect(range(resources, "events_lines")).toBe("2025-03-01,NOW");
  });

  it("starts at the earliest stream's startCursor day when every stream sets one, else at the default", () => {
    const streams = JSON.stringify([
      { id: "a", startCursor: "2025-06-10T08:00:00Z" },
      { id: "b", startCursor: "2025-05-02T23:59:59Z" },
    ]);
    expect(range(synth({ streams }), "events_lines")).toBe("2025-05-02,NOW");
    expect(range(synth(), "events_lines")).toBe(`${DEFAULT_PROJECTION_START},NOW`);
    expect(projectionStart(undefined, [{ startCursor: "2025-05-02T00:00:00Z" }, {}])).toBe(
      DEFAULT_PROJECTION_START,
    );
    expect(projectionStart(undefined, [{ startCursor: "opaque-cursor-value" }])).toBe(
      DEFAULT_PROJECTION_START,
    );
    expect(projectionStart("2024-02-29", [{ startCursor: "2025-05-02T00:00:00Z" }])).toBe("2024-02-29");
  });

  it("never covers the untimed day 1970-01-01, which events_lines_untimed alone reads (an enum of that one day)", () => {
    const untimed = tableInput(synth(), "events_lines_untimed")?.Parameters;
    expect(untimed).toMatchObject({
      "projection.enabled": "true",
      "projection.dt.type": "enum",
      "projection.dt.values": "1970-01-01",
    });
    for (const early of ["1970-01-01", "1969-07-20"])
      expect(() => synth({ projectionStart: early }), early).toThrow(
        new RegExp(`projectionStart "${early}" is not after 1970-01-01, the untimed day`),
      );
    expect(projectionStart(undefined, [{ startCursor: "1960-01-01T00:00:00Z" }])).toBe("1970-01-02");
  });

  it("refuses a value that is not a day, with the fix", () => {
    for (const bad of ["2025-02-30", "2025-1-01", "yesterday", "2025-01-01T00:00:00Z"])
      expect(() => synth({ projectionStart: bad }), bad).toThrow(
        new RegExp(`projectionStart "${bad}" is not a date: give the first day to query as yyyy-MM-dd`),
      );
  });
});

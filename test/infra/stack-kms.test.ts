import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, inject, it } from "vitest";
import { buildApp } from "../../infra/app";
import { cfnLint } from "../helpers/cfn-lint";

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};
const IMPORTED_KEY = "arn:aws:kms:eu-west-1:123456789012:key/0b7d0c5e-1111-4c3b-9e55-6c2c1c7a9a01";

function synth(context: Record<string, unknown>) {
  const app = new App({ context: { ...cdkJson.context, ...required, ...context } });
  const stack = buildApp(app);
  return { stack, template: Template.fromStack(stack) };
}

const keyed = synth({ encryptionKey: "new" });
const keyRef = () => {
  const [id] = Object.keys(keyed.template.findResources("AWS::KMS::Key"));
  return { "Fn::GetAtt": [id, "Arn"] };
};

describe("MonitorLake with a customer-managed KMS key (-c encryptionKey)", () => {
  it("creates one rotated, retained key and uses it for bucket, table, secret, log group and topic", () => {
    const t = keyed.template;
    t.resourceCountIs("AWS::KMS::Key", 1);
    t.hasResource("AWS::KMS::Key", {
      DeletionPolicy: "Retain",
      Properties: Match.objectLike({ EnableKeyRotation: true }),
    });
    t.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          {
            BucketKeyEnabled: true,
            ServerSideEncryptionByDefault: { SSEAlgorithm: "aws:kms", KMSMasterKeyID: keyRef() },
          },
        ],
      },
    });
    t.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: keyRef() },
    });
    t.hasResourceProperties("AWS::SecretsManager::Secret", { KmsKeyId: keyRef() });
    t.hasResourceProperties("AWS::Logs::LogGroup", { KmsKeyId: keyRef() });
    t.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: keyRef() });
    const queues = Object.values(t.findResources("AWS::SQS::Queue"));
    expect(queues).toHaveLength(2); // on-failure destination and the schedule's dead letters
    for (const q of queues) expect(q.Properties.KmsMasterKeyId).toEqual(keyRef());
    t.hasResourceProperties("AWS::Lambda::Function", { KmsKeyArn: keyRef() });
  });

  it("lets the scheduler write its encrypted dead-letter queue", () => {
    const [roleId] = Object.keys(
      keyed.template.findResources("AWS::IAM::Role", {
        Properties: { Description: Match.stringLikeRegexp("EventBridge Scheduler invoke") },
      }),
    );
    keyed.template.hasResourceProperties("AWS::IAM::Policy", {
      Roles: [{ Ref: roleId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          // In any order (@aws-cdk/aws-iam:minimizePolicies sorts actions).
          Match.objectLike({
            Action: Match.arrayWith(["kms:Decrypt", "kms:GenerateDataKey"]),
            Resource: keyRef(),
          }),
        ]),
      },
    });
  });

  it("keeps the access-log bucket on SSE-S3 (the only encryption log delivery supports) and versioned", () => {
    keyed.template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      },
      VersioningConfiguration: { Status: "Enabled" },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({ ExpirationInDays: 365, NoncurrentVersionExpiration: { NoncurrentDays: 30 } }),
        ],
      },
    });
  });

  it("lets CloudWatch Logs and CloudWatch alarms use the key, and the function encrypt and decrypt with it", () => {
    const t = keyed.template;
    t.hasResourceProperties("AWS::KMS::Key", {
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: "MonitorLakeCloudWatchLogs",
            Principal: { Service: Match.anyValue() },
            Action: Match.arrayWith(["kms:Encrypt*", "kms:GenerateDataKey*"]),
            Condition: { ArnLike: { "kms:EncryptionContext:aws:logs:arn": Match.anyValue() } },
          }),
          Match.objectLike({
            Sid: "MonitorLakeCloudWatchAlarmsToSns",
            Principal: { Service: "cloudwatch.amazonaws.com" },
            Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          }),
        ]),
      },
    });
    t.hasResourceProperties("AWS::IAM::Policy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*"]),
            Resource: keyRef(),
          }),
        ]),
      },
    });
  });

  it("has no unsuppressed cdk-nag findings with the key", () => {
    const annotations = Annotations.fromStack(keyed.stack);
    expect(annotations.findError("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
    expect(annotations.findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"))).toEqual([]);
  });

  it("passes cfn-lint with the key policy", async () => {
    const result = await cfnLint(keyed.template.toJSON(), inject("venvBin"));
    expect(result.code & 3, result.out).toBe(0);
    expect(result.out).not.toMatch(/:E\d{4}:/);
  });

  it("uses an imported key by ARN everywhere and warns that its key policy needs the service statements", () => {
    const { stack, template } = synth({ encryptionKey: IMPORTED_KEY });
    template.resourceCountIs("AWS::KMS::Key", 0);
    template.hasResourceProperties("AWS::DynamoDB::Table", {
      SSESpecification: { SSEEnabled: true, SSEType: "KMS", KMSMasterKeyId: IMPORTED_KEY },
    });
    template.hasResourceProperties("AWS::Logs::LogGroup", { KmsKeyId: IMPORTED_KEY });
    template.hasResourceProperties("AWS::SNS::Topic", { KmsMasterKeyId: IMPORTED_KEY });
    const warnings = Annotations.fromStack(stack).findWarning(
      "*",
      Match.stringLikeRegexp("key policy cannot be extended"),
    );
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]?.entry.data)).toContain("cloudwatch.amazonaws.com");
  });

  it("refuses an encryptionKey context value that is neither new nor a key ARN", () => {
    expect(() => synth({ encryptionKey: "alias/my-key" })).toThrow(
      /-c encryptionKey=new .* or -c encryptionKey=<a KMS key ARN> \(got "alias\/my-key"\)/,
    );
  });
});

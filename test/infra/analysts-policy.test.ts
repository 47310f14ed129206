import { readFile } from "node:fs/promises";
import { App, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import * as iam from "aws-cdk-lib/aws-iam";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import { dedupViewSql } from "../../infra/athena-schema";
import { MonitorLake } from "../../infra/monitor-lake";
import { SAVED_QUERIES } from "../../infra/saved-queries";
import { allows, PSEUDO, type Statement } from "../helpers/iam-policy";

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};
type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function synth(context: Record<string, unknown> = {}) {
  const app = new App({ context: { ...cdkJson.context, ...required, ...context } });
  const template = Template.fromStack(buildApp(app)).toJSON() as {
    Resources: Resources;
    Outputs: Record<string, { Value: unknown }>;
  };
  const ids = Object.keys(template.Resources);
  const id = (re: RegExp): string => ids.find((i) => re.test(i)) ?? `<none ${re}>`;
  const policies = Object.values(template.Resources).filter((r) => r.Type === "AWS::IAM::ManagedPolicy");
  const document = policies[0]?.Properties.PolicyDocument as { Statement: Statement[] } | undefined;
  const statements = document?.Statement ?? [];
  return {
    template,
    policies,
    statements,
    lake: id(/^MonitorLake[0-9A-F]{8}$/),
    results: id(/^MonitorLakeQueryResults[0-9A-F]{8}$/),
    state: id(/^MonitorLakeState[0-9A-F]{8}$/),
    secret: id(/^MonitorLakePrivateKey[0-9A-F]{8}$/),
  };
}

const db = "monitor_lake_monitorlake";
const { account, region } = { account: PSEUDO["AWS::AccountId"], region: PSEUDO["AWS::Region"] };
const glueArn = (resource: string) => `arn:aws:glue:${region}:${account}:${resource}`;
const workgroupArn = `arn:aws:athena:${region}:${account}:workgroup/monitor-lake-MonitorLake`;

/** The tables a query reads, views expanded: events_dedup reads events_lines. */
function tablesRead(sql: string, seen = new Set<string>()): Set<string> {
  for (const [, table] of sql.matchAll(new RegExp(`"${db}"\\."(\\w+)"`, "g"))) {
    if (!table || seen.has(table)) continue;
    seen.add(table);
    if (table === "events_dedup") tablesRead(dedupViewSql(db), seen);
  }
  return seen;
}

describe("the analysts' managed policy", () => {
  const { template, policies, statements, lake, results, state, secret } = synth();
  const object = (bucket: string, key: string) => `<${bucket}.Arn>/${key}`;

  it("is one managed policy whose ARN is the stack output AnalystsPolicyArn", () => {
    expect(policies).toHaveLength(1);
    // Outputs have fixed logical ids (infra/outputs.ts, stableOutputIds).
    expect(template.Outputs.AnalystsPolicyArn?.Value).toEqual({
      Ref: expect.stringMatching(/^MonitorLakeAnalystsPolicy/),
    });
  });

  it("allows every read the saved queries make: the workgroup, the tables behind them, the events and the results", () => {
    const tables = new Set<string>();
    for (const q of SAVED_QUERIES) for (const t of tablesRead(q.sql(db))) tables.add(t);
    expect([...tables].sort()).toEqual([
      "events_curated",
      "events_dedup",
      "events_lines",
      "events_lines_untimed",
    ]);
    for (const action of ["athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults"])
      expect(allows(statements, action, workgroupArn), action).toBe(true);
    expect(allows(statements, "athena:GetNamedQuery", workgroupArn)).toBe(true);
    expect(allows(statements, "glue:GetDatabase", glueArn(`database/${db}`))).toBe(true);
    for (const t of [...tables, "events"])
      expect(allows(statements, "glue:GetTable", glueArn(`table/${db}/${t}`)), t).toBe(true);
    const key = "events/dt=2026-01-02/default-0123456789abcdef-0.json.gz";
    expect(allows(statements, "s3:GetObject", object(lake, key))).toBe(true);
    expect(
      allows(statements, "s3:ListBucket", `<${lake}.Arn>`, { "s3:prefix": "events/dt=2026-01-02/" }),
    ).toBe(true);
    // The curated Iceberg table: its data and metadata files, and listing its prefix.
    for (const key of [
      "curated/data/event_time_day=2026-01-02/stream=default/00000-0-abc.parquet",
      "curated/metadata/00003-abc.metadata.json",
      "curated/metadata/snap-123-1-abc.avro",
    ])
      expect(allows(statements, "s3:GetObject", object(lake, key)), key).toBe(true);
    expect(allows(statements, "s3:ListBucket", `<${lake}.Arn>`, { "s3:prefix": "curated/metadata/" })).toBe(
      true,
    );
    for (const action of ["s3:PutObject", "s3:GetObject"])
      expect(allows(statements, action, object(results, "abc-123.csv")), action).toBe(true);
    expect(allows(statements, "s3:GetBucketLocation", `<${results}.Arn>`)).toBe(true);
  });

  it("allows nothing else: no other prefix, no writes to the lake, no other database or workgroup", () => {
    for (const key of ["state/default.json", ".meta/events/x.json", "athena-results/old.csv", "other/x"])
      expect(allows(statements, "s3:GetObject", object(lake, key)), key).toBe(false);
    expect(allows(statements, "s3:ListBucket", `<${lake}.Arn>`, { "s3:prefix": "" })).toBe(false);
    for (const action of ["s3:PutObject", "s3:DeleteObject"]) {
      expect(allows(statements, action, object(lake, "events/dt=2026-01-02/x.json.gz")), action).toBe(false);
      expect(allows(statements, action, object(lake, "curated/metadata/x.metadata.json")), action).toBe(
        false,
      );
      expect(allows(statements, action, object(lake, "curated/data/x.parquet")), action).toBe(false);
    }
    for (const action of ["glue:UpdateTable", "glue:DeleteTable", "glue:CreateTable"])
      expect(allows(statements, action, glueArn(`table/${db}/events_curated`)), action).toBe(false);
    expect(allows(statements, "s3:DeleteObject", object(results, "abc.csv"))).toBe(false);
    expect(allows(statements, "glue:GetTable", glueArn("table/other_db/events"))).toBe(false);
    expect(allows(statements, "glue:UpdateTable", glueArn(`table/${db}/events`))).toBe(false);
    expect(allows(statements, "glue:DeleteTable", glueArn(`table/${db}/events`))).toBe(false);
    const otherWorkgroup = `arn:aws:athena:${region}:${account}:workgroup/primary`;
    expect(allows(statements, "athena:StartQueryExecution", otherWorkgroup)).toBe(false);
    expect(allows(statements, "athena:DeleteWorkGroup", workgroupArn)).toBe(false);
  });

  it("allows nothing on the state table or the key secret", () => {
    for (const action of ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"])
      expect(allows(statements, action, `<${state}.Arn>`), action).toBe(false);
    expect(allows(statements, "secretsmanager:GetSecretValue", `<${secret}>`)).toBe(false);
    const everything = JSON.stringify(statements);
    expect(everything).not.toMatch(/dynamodb:|secretsmanager:|kms:/);
    expect(everything).not.toContain(state);
    expect(everything).not.toContain(secret);
  });

  it("with a customer key: decrypt and generate data keys through S3 only", () => {
    const kms = synth({ encryptionKey: "new" });
    const keyArn = "<LakeKey09476F72.Arn>";
    const viaS3 = { "kms:ViaService": `s3.${region}.amazonaws.com` };
    expect(allows(kms.statements, "kms:Decrypt", keyArn, viaS3)).toBe(true);
    expect(allows(kms.statements, "kms:GenerateDataKey", keyArn, viaS3)).toBe(true);
    expect(allows(kms.statements, "kms:Decrypt", keyArn)).toBe(false);
    expect(allows(kms.statements, "kms:Decrypt", keyArn, { "kms:ViaService": "secretsmanager.x" })).toBe(
      false,
    );
    expect(
      allows(kms.statements, "kms:Decrypt", keyArn, { "kms:ViaService": `dynamodb.${region}.amazonaws.com` }),
    ).toBe(false);
  });

  it("adds Lake Formation grants only when principals are given, and refuses what is not an IAM ARN", () => {
    const analyst = "arn:aws:iam::123456789012:role/SecurityAnalyst";
    const lf = synth({ analystLakeFormationPrincipals: analyst });
    const grants = Object.values(lf.template.Resources).filter(
      (r) => r.Type === "AWS::LakeFormation::PrincipalPermissions",
    );
    expect(grants.map((g) => g.Properties.Permissions)).toEqual([
      ["DESCRIBE"],
      ...Array.from({ length: 5 }, () => ["SELECT", "DESCRIBE"]),
    ]);
    expect(grants.map((g) => g.Properties.Resource)).toEqual([
      { Database: { CatalogId: { Ref: "AWS::AccountId" }, Name: db } },
      ...["events", "events_lines", "events_lines_untimed", "events_dedup", "events_curated"].map((t) => ({
        Table: { CatalogId: { Ref: "AWS::AccountId" }, DatabaseName: db, Name: t },
      })),
    ]);
    for (const g of grants) expect(g.Properties.Principal).toEqual({ DataLakePrincipalIdentifier: analyst });
    expect(allows(lf.statements, "lakeformation:GetDataAccess", "*")).toBe(true);
    expect(allows(statements, "lakeformation:GetDataAccess", "*")).toBe(false);
    expect(
      Object.values(template.Resources).some((r) => r.Type === "AWS::LakeFormation::PrincipalPermissions"),
    ).toBe(false);
    expect(() => synth({ analystLakeFormationPrincipals: "SecurityAnalyst" })).toThrow(
      /"SecurityAnalyst" is not an IAM role or user ARN: give arn:aws:iam::<account>:role\/<name>/,
    );
  });

  it("grantQuery attaches it to a role, an imported role, a user, a group or a function's role, and refuses anything else", () => {
    const stack = new Stack(new App(), "Grant");
    const lake = new MonitorLake(stack, "Lake", { ...required, detections: { enabled: false } });
    lake.grantQuery(new iam.Role(stack, "Analyst", { assumedBy: new iam.AccountRootPrincipal() }));
    lake.grantQuery(iam.Role.fromRoleName(stack, "Imported", "ExistingAnalyst"));
    lake.grantQuery(new iam.User(stack, "Person"));
    lake.grantQuery(new iam.Group(stack, "Team"));
    lake.grantQuery(lake.function);
    expect(() => lake.grantQuery(new iam.AccountRootPrincipal())).toThrow(
      /grantQuery needs a role, user or group .*: attach the policy of the output AnalystsPolicyArn/,
    );
    const t = Template.fromStack(stack).toJSON() as { Resources: Resources };
    const [policyId, policy] =
      Object.entries(t.Resources).find(([, r]) => r.Type === "AWS::IAM::ManagedPolicy") ?? [];
    expect(policyId).toMatch(/^LakeAnalystsPolicy/);
    const ref = (prefix: string) => ({ Ref: expect.stringMatching(new RegExp(`^${prefix}`)) });
    expect(policy?.Properties.Roles).toEqual([ref("Analyst"), "ExistingAnalyst", ref("LakeFunctionRole")]);
    expect(policy?.Properties.Users).toEqual([ref("Person")]);
    expect(policy?.Properties.Groups).toEqual([ref("Team")]);
  });
});

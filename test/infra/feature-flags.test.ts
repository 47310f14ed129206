import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { CURRENTLY_RECOMMENDED_FLAGS } from "aws-cdk-lib/cx-api";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";

const run = promisify(execFile);
const root = new URL("../..", import.meta.url).pathname;
const cdkJson = JSON.parse(await readFile(join(root, "cdk.json"), "utf8")) as {
  context: Record<string, unknown>;
};
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};
/** The flags cdk.json set before it set every recommended one: what deployed stacks were made with. */
const DEPLOYED_BEFORE = {
  "@aws-cdk/aws-lambda-nodejs:useLatestRuntimeVersion": true,
  "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": true,
};

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * A template with each IAM or key policy as the set of its (effect, sid, principal, condition, action,
 * resource) permissions: `@aws-cdk/aws-iam:minimizePolicies` merges statements and sorts actions, which
 * grants exactly the same.
 */
function canonical(value: Json): Json {
  if (Array.isArray(value)) return value.map(canonical);
  if (value === null || typeof value !== "object") return value;
  const out: { [key: string]: Json } = {};
  for (const [k, v] of Object.entries(value)) out[k] = canonical(v);
  if (Array.isArray(value.Statement)) out.Statement = permissions(value.Statement as Json[]);
  return out;
}

function permissions(statements: Json[]): string[] {
  const all = new Set<string>();
  for (const s of statements as { [key: string]: Json }[]) {
    const list = (v: Json | undefined, none: Json): Json[] =>
      v === undefined ? [none] : Array.isArray(v) ? v : [v];
    for (const action of list(s.Action, null))
      for (const notAction of list(s.NotAction, null))
        for (const resource of list(s.Resource, null))
          all.add(
            JSON.stringify([
              s.Effect,
              s.Sid ?? null,
              s.Principal ?? null,
              s.Condition ?? null,
              action,
              notAction,
              resource,
            ]),
          );
  }
  return [...all].sort();
}

function templateOf(flags: Record<string, unknown>, context: Record<string, string>): Json {
  const app = new App({ context: { ...flags, ...required, ...context } });
  return canonical(Template.fromStack(buildApp(app)).toJSON() as Json);
}

describe("CDK feature flags", () => {
  it("sets in cdk.json every flag aws-cdk-lib recommends, at its recommended value, as cdk init does", () => {
    expect(Object.keys(CURRENTLY_RECOMMENDED_FLAGS).length).toBeGreaterThan(80);
    expect(cdkJson.context).toMatchObject(CURRENTLY_RECOMMENDED_FLAGS);
  });

  it("leaves the synth without a 'feature flags are not configured' line", async () => {
    const out = await mkdtemp(join(tmpdir(), "monitor-lake-cdk-out-"));
    try {
      const cdk = join(root, "node_modules", ".bin", "cdk");
      const context = Object.entries(required).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
      const { stdout, stderr } = await run(cdk, ["synth", "-q", "--no-notices", "-o", out, ...context], {
        cwd: root,
        env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1" },
      });
      expect(`${stdout}${stderr}`).not.toMatch(/feature flags? (are|is) not configured/);
      expect(await readFile(join(out, "MonitorLake.template.json"), "utf8")).toContain(
        "AWS::Lambda::Function",
      );
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 120_000);

  it("change no deployed resource of a stack made before they were set (policies grant the same)", () => {
    const variants: Record<string, string>[] = [
      {},
      {
        streams: JSON.stringify([{ id: "org-a" }, { id: "org-b", schedule: "rate(1 hour)" }]),
        encryptionKey: "new",
        summaryAlarms: "true",
        alarmEmail: "secops@example.com",
        objectLock: "GOVERNANCE:30",
        retentionDays: "400",
        curationPeriodMinutes: "30",
        analystLakeFormationPrincipals: "arn:aws:iam::111111111111:role/Analyst",
        detectionAlarms: "per-rule",
      },
    ];
    for (const context of variants)
      expect(templateOf(cdkJson.context, context), JSON.stringify(context)).toEqual(
        templateOf(DEPLOYED_BEFORE, context),
      );
  }, 120_000);
});

import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, inject, it } from "vitest";
import { buildApp } from "../../infra/app";
import { OCSF_CLASSES } from "../../infra/ocsf-rules";
import { OCSF_VIEWS } from "../../infra/ocsf-schema";
import {
  EVENT_CLASS_NAMES,
  EXPORT_PLACEHOLDERS,
  EXPORTS_TABLE,
  MAX_UNITS_PER_RUN,
  optimizeExportsSql,
  pendingSql,
  vacuumExportsSql,
} from "../../infra/security-lake-export";
import { ConfigError } from "../../lambda/errors";
import { cfnLint } from "../helpers/cfn-lint";

/** The template with `-c securityLake`: sources, custom resource, crawler role, views, export steps and IAM. */

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
  return { stack, template: Template.fromStack(stack) };
}

type Resource = { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] };
const { stack, template } = synth({
  securityLake: '{"externalId":"docusign-ext-1","sourcePrefix":"ds-monitor"}',
});
const json = template.toJSON() as { Resources: Record<string, Resource> };
const entries = (type: string) => Object.entries(json.Resources).filter(([, r]) => r.Type === type);
const of = (type: string) => entries(type).map(([, r]) => r);
const stackResolve = (v: unknown) => JSON.stringify(v);

const DB = "monitor_lake_monitorlake";
const CLASSES = Object.keys(OCSF_CLASSES) as (keyof typeof OCSF_CLASSES)[];
const customResource = of("Custom::SecurityLakeCustomSources")[0] as Resource;
/** The Sources property with each token as its JSON (an Fn::Join of literal parts and tokens). */
const sourcesText = stackResolve(customResource?.Properties.Sources);
const machine = of("AWS::StepFunctions::StateMachine")[0] as Resource;
const definitionText = stackResolve(machine.Properties.DefinitionString);
/** The QueryString of a state of the parsed definition. */
const query = (state: string): string =>
  (
    JSON.parse(
      (machine.Properties.DefinitionString as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1]
        .map((p) => (typeof p === "string" ? p : "TOKEN"))
        .join(""),
    ) as { States: Record<string, { Arguments?: { QueryString?: string } }> }
  ).States[state]?.Arguments?.QueryString ?? "";
const policyOf = (logicalIdPrefix: string) =>
  stackResolve(entries("AWS::IAM::Policy").filter(([id]) => id.startsWith(logicalIdPrefix)));

describe("the stack with securityLake", () => {
  it("declares one custom source per OCSF class to one custom resource, with its event class, crawler role and provider identity", () => {
    expect(of("Custom::SecurityLakeCustomSources")).toHaveLength(1);
    for (const c of CLASSES) {
      expect(sourcesText).toContain(`\\"sourceName\\":\\"ds-monitor-${OCSF_CLASSES[c].uid}\\"`);
      expect(sourcesText).toContain(`\\"eventClasses\\":[\\"${EVENT_CLASS_NAMES[c]}\\"]`);
    }
    expect(sourcesText.match(/\\"externalId\\":\\"docusign-ext-1\\"/g)).toHaveLength(CLASSES.length);
    expect(sourcesText).toContain("SecurityLakeCrawlerRole");
    expect(sourcesText).toContain("AWS::AccountId");
  });

  it("runs the custom resource through the CDK Provider framework with the bundled onEvent function", () => {
    const functions = of("AWS::Lambda::Function");
    const onEvent = functions.find((f) => f.Properties.Handler === "index.onEvent");
    expect(onEvent?.Properties.Runtime).toBe("nodejs24.x");
    const framework = functions.find((f) => String(f.Properties.Description ?? "").includes("onEvent"));
    expect(framework, "the Provider's framework function").toBeDefined();
    expect(stackResolve(customResource.Properties.ServiceToken)).toContain("SecurityLakeProvider");
    // In any order: cdk.json's feature flags sort and merge policy statements.
    for (const action of ["ListLogSources", "CreateCustomLogSource", "DeleteCustomLogSource"]) {
      expect(policyOf("MonitorLakeSecurityLakeSources")).toContain(`"securitylake:${action}"`);
    }
    expect(policyOf("MonitorLakeSecurityLakeSources")).toContain("iam:PassRole");
  });

  it("gives the crawler role Glue's trust, AWSGlueServiceRole, the sources' prefixes and Lake Formation grants", () => {
    template.hasResourceProperties("AWS::IAM::Role", {
      AssumeRolePolicyDocument: Match.objectLike({
        Statement: [Match.objectLike({ Principal: { Service: "glue.amazonaws.com" } })],
      }),
      ManagedPolicyArns: [
        Match.objectLike({
          "Fn::Join": Match.arrayWith([
            Match.arrayWith([":iam::aws:policy/service-role/AWSGlueServiceRole"]),
          ]),
        }),
      ],
    });
    const crawler = policyOf("MonitorLakeSecurityLakeCrawlerAccess");
    for (const c of CLASSES) expect(crawler).toContain(`/ext/ds-monitor-${OCSF_CLASSES[c].uid}/*`);
    const grants = of("AWS::LakeFormation::PrincipalPermissions").map(stackResolve).join("\n");
    expect(grants).toContain("amazon_security_lake_glue_db_");
    expect(grants).toContain("CREATE_TABLE");
  });

  it("creates every OCSF class view and the exports table in the Glue catalog", () => {
    const names = of("AWS::Glue::Table").map((t) => (t.Properties.TableInput as { Name: string }).Name);
    for (const v of OCSF_VIEWS) expect(names).toContain(v.name);
    expect(names).toContain(EXPORTS_TABLE);
  });

  it("the curation exports after the merge: claim, pending units, then per unit UNLOAD to staging, deliver, mark", () => {
    const states = JSON.parse(
      (machine.Properties.DefinitionString as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1]
        .map((p) => (typeof p === "string" ? p : "TOKEN"))
        .join(""),
    ) as { States: Record<string, Record<string, unknown>> };
    expect(states.States.Merge?.Next).toBe("ExportClaim");
    expect(states.States.ExportClaim?.Next).toBe("ExportPending");
    // The claim reads the merge's own window (the full one on Sundays); at most MAX_UNITS_PER_RUN units a run.
    expect(query("ExportClaim")).toBe(
      `{% $replace($replace($claimSql, '${EXPORT_PLACEHOLDERS.batch}', $batch), '${EXPORT_PLACEHOLDERS.fromDay}', $fromDay) %}`,
    );
    expect(query("ExportPending")).toBe(pendingSql(DB));
    expect(pendingSql(DB)).toMatch(new RegExp(`LIMIT ${MAX_UNITS_PER_RUN}$`));
    expect(MAX_UNITS_PER_RUN).toBe(100);
    const map = states.States.ExportUnits as {
      ItemProcessor: { States: Record<string, Record<string, unknown>> };
      ItemSelector: { classes: Record<string, { unloadSql: string }> };
    };
    expect(Object.keys(map.ItemProcessor.States)).toEqual(["Unit", "Unload", "Deliver", "Mark", "Delivered"]);
    // A unit's output is empty, so a hundred units stay far under Step Functions' 256 KB.
    expect(map.ItemProcessor.States.Mark?.Output).toEqual({});
    // One UNLOAD per class, each of its own view to a staging prefix, never to the partition itself.
    expect(Object.keys(map.ItemSelector.classes).sort()).toEqual(
      CLASSES.map((c) => String(OCSF_CLASSES[c].uid)).sort(),
    );
    for (const c of CLASSES) {
      const sql = map.ItemSelector.classes[String(OCSF_CLASSES[c].uid)]?.unloadSql as string;
      expect(sql).toMatch(
        new RegExp(`^UNLOAD \\(SELECT .* FROM "[^"]+"\\."ocsf_${c}" AS v .* TO '${EXPORT_PLACEHOLDERS.to}'`),
      );
    }
    expect(definitionText).toContain("security-lake-staging/");
    expect(definitionText).toContain("arn:aws:states:::lambda:invoke");
    expect(states.States.ExportUnits?.Next).toBe("OptimizeToday");
    // The exports table gets the curated table's upkeep: OPTIMIZE daily, VACUUM weekly.
    expect(states.States.Optimize?.Next).toBe("OptimizeExports");
    expect(query("OptimizeExports")).toBe(optimizeExportsSql(DB));
    expect(query("VacuumExports")).toBe(vacuumExportsSql(DB));
    expect(states.States.Vacuum?.Next).toBe("VacuumExports");
  });

  it("the delivery function writes only under each source's ext/<source>/ prefix; the curation role only invokes it", () => {
    const deliver = policyOf("MonitorLakeSecurityLakeDeliver");
    const writes = JSON.parse(deliver).flatMap(([, p]: [string, Resource]) =>
      (
        p.Properties.PolicyDocument as { Statement: { Action: string | string[]; Resource: unknown }[] }
      ).Statement.filter((s) => [s.Action].flat().includes("s3:PutObject")),
    );
    expect(writes).toHaveLength(1);
    const resources = JSON.stringify(writes[0].Resource);
    expect(writes[0].Resource).toHaveLength(CLASSES.length);
    for (const c of CLASSES) expect(resources).toContain(`/ext/ds-monitor-${OCSF_CLASSES[c].uid}/*`);
    const curation = policyOf("MonitorLakeCurationRole");
    expect(curation).toContain("lambda:InvokeFunction");
    expect(curation).not.toContain("/ext/");
  });

  it("has no unsuppressed cdk-nag AwsSolutions findings", () => {
    const errors = Annotations.fromStack(stack).findError("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    const warnings = Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("AwsSolutions-.*"));
    expect([...errors, ...warnings].map((f) => `${f.id}: ${String(f.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  it("passes cfn-lint: no errors, and no warning on a Security Lake or curation resource", async () => {
    const result = await cfnLint(template.toJSON(), inject("venvBin"));
    // cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational (1: it failed to run).
    expect(result.code & 3, result.out).toBe(0);
    expect(result.out).not.toMatch(/:E\d{4}:/);
    expect(result.out.split("\n").filter((l) => /SecurityLake|Curation|OcsfView/.test(l))).toEqual([]);
  });
});

describe("the securityLake setting", () => {
  it("is off by default: no sources, views, exports table or export steps", () => {
    const off = synth().template.toJSON() as { Resources: Record<string, Resource> };
    const types = Object.values(off.Resources).map((r) => r.Type);
    expect(types).not.toContain("Custom::SecurityLakeCustomSources");
    expect(JSON.stringify(off)).not.toContain("ExportClaim");
    expect(JSON.stringify(off)).not.toContain(EXPORTS_TABLE);
  });

  it("-c securityLake=true takes every default (sources docusign-monitor-<class uid>)", () => {
    const on = JSON.stringify(synth({ securityLake: "true" }).template.toJSON());
    expect(on).toContain('\\"sourceName\\":\\"docusign-monitor-3002\\"');
    expect(on).toContain('\\"externalId\\":\\"monitor-lake\\"');
  });

  it("a wrong value fails the synth, naming the setting and the fix", () => {
    const problems = (context: Record<string, unknown>) => {
      try {
        synth(context);
        return [];
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        return error.problems;
      }
    };
    expect(problems({ securityLake: "yes" })).toEqual([
      '-c securityLake=true, false or a JSON object such as {"externalId":"..."} (got "yes")',
    ]);
    expect(problems({ securityLake: '{"providerPrincipal":"12","sourcePrefx":"x"}' })).toEqual([
      "-c securityLake.sourcePrefx is not a Security Lake setting: use sourcePrefix, externalId, providerPrincipal, kmsKeyArn.",
      '-c securityLake.providerPrincipal "12" must be a 12-digit AWS account id.',
    ]);
    expect(problems({ securityLake: "{not json" })[0]).toMatch(
      /^-c securityLake: "\{not json" is not valid JSON/,
    );
  });
});

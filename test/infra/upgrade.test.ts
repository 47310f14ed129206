import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import { STATE_SCHEMA } from "../../lambda/core/state-validation";

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};

interface Resource {
  readonly Type: string;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
}
interface TemplateJson {
  readonly Resources: Record<string, Resource>;
  readonly Outputs: Record<string, { readonly Value: unknown }>;
}

// Two streams, each with its own secret, and a key created by the stack: every kind of retained resource.
const template = Template.fromStack(
  buildApp(
    new App({
      context: {
        ...cdkJson.context,
        ...required,
        streams: JSON.stringify([{ id: "org-a" }, { id: "org-b" }]),
        encryptionKey: "new",
      },
    }),
  ),
).toJSON() as TemplateJson;

const retained = Object.entries(template.Resources)
  .filter(([, r]) => r.DeletionPolicy === "Retain")
  .map(([id]) => id)
  .sort();

/** The section of the README from `heading` to the next heading of the same level. */
function section(heading: string): string {
  const start = readme.indexOf(`\n${heading}\n`);
  expect(start, heading).toBeGreaterThan(0);
  const level = heading.split(" ")[0] as string;
  const end = readme.indexOf(`\n${level} `, start + heading.length + 2);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The rows of the uninstall table: its output names and its command. */
function uninstallRows(): { outputs: string[]; command: string }[] {
  const text = section("### Upgrade, roll back, uninstall");
  const table = text.slice(text.indexOf("| kept by `cdk destroy`")).split("\n\n")[0] ?? "";
  return table
    .split("\n")
    .slice(2)
    .map((line) => line.split("|").map((c) => c.trim()))
    .map((cells) => ({
      outputs: [...(cells[2] ?? "").matchAll(/`(\w+(?:<stream>)?)`/g)].map((m) => m[1] as string),
      command: cells[3] ?? "",
    }));
}

/** The logical id an output's value refers to (Ref or Fn::GetAtt). */
function referenced(value: unknown): string | undefined {
  const v = value as { Ref?: string; "Fn::GetAtt"?: [string, string] };
  return v.Ref ?? v["Fn::GetAtt"]?.[0];
}

describe("upgrade and uninstall", () => {
  it("keeps the logical ids of every resource that holds data, so an upgrade updates them in place", () => {
    // A changed id makes CloudFormation create a new, empty resource and orphan the old one: these are
    // the ids of the stacks deployed so far, and must never change.
    expect(retained).toEqual(
      [
        "LakeKey09476F72",
        "MonitorLake00F3970A",
        "MonitorLakeAccessLogs6B73946C",
        "MonitorLakePrivateKey593D9990",
        "MonitorLakePrivateKeyorgbA0F6B548",
        "MonitorLakeQueryResults87B26A49",
        "MonitorLakeState726F8176",
      ].sort(),
    );
    for (const id of retained) expect(template.Resources[id]?.UpdateReplacePolicy, id).toBe("Retain");
  });

  it("lists in the README every resource cdk destroy keeps, each by an output the template has", () => {
    const rows = uninstallRows();
    expect(rows.length).toBeGreaterThanOrEqual(6);
    const suffixes = ["", "orgb"]; // outputs.ts: the first stream's names, then <name><stream id>
    const covered = new Set<string>();
    for (const row of rows) {
      expect(row.outputs.length, row.command).toBeGreaterThan(0);
      for (const name of row.outputs) {
        const names = name.endsWith("<stream>")
          ? suffixes.slice(1).map((s) => name.replace("<stream>", s))
          : [name];
        for (const n of names) {
          expect(template.Outputs, n).toHaveProperty(n);
          const id = referenced(template.Outputs[n]?.Value);
          expect(retained, `${n} refers to ${id}`).toContain(id);
          covered.add(id as string);
        }
      }
      // The command names the output that holds the value to put in it.
      expect(row.command, row.outputs[0]).toContain(`<${row.outputs[0]}>`);
    }
    expect([...covered].sort()).toEqual(retained);
  });

  it("says which state schema this version writes and reads", () => {
    const text = section("### Upgrade, roll back, uninstall");
    expect(text).toContain(`\`schema: ${STATE_SCHEMA}\``);
    expect(text).toContain(`reads schema 1 to ${STATE_SCHEMA}`);
  });
});

import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
const required = {
  integrationKey: "11111111-2222-3333-4444-555555555555",
  userId: "66666666-7777-8888-9999-000000000000",
};

function outputsOf(
  context: Record<string, unknown>,
): Record<string, { Description?: string; Value: unknown }> {
  const stack = buildApp(new App({ context: { ...cdkJson.context, ...required, ...context } }));
  return (
    Template.fromStack(stack).toJSON() as {
      Outputs: Record<string, { Description?: string; Value: unknown }>;
    }
  ).Outputs;
}

/** The first column of the README's "Stack outputs" table. */
function readmeOutputTable(): string[] {
  const start = readme.indexOf("**Stack outputs**");
  const table = readme.slice(start).split("\n\n")[1] ?? "";
  return [...table.matchAll(/^\| `(\w+)`/gm)].map((m) => m[1] as string);
}

describe("stack outputs", () => {
  const outputs = outputsOf({});

  it("are the names the README's table gives, no more and no fewer", () => {
    expect(readmeOutputTable().length).toBeGreaterThan(10);
    expect(Object.keys(outputs).sort()).toEqual(readmeOutputTable().sort());
  });

  it("name every output the README's deploy steps and alarm table mention", () => {
    const mentioned = new Set(
      [...readme.matchAll(/output(?:s)? (?:\(?`(\w+)`|\w+ \(`(\w+)`\))/g)].map(
        (m) => (m[1] ?? m[2]) as string,
      ),
    );
    expect([...mentioned]).toEqual(
      expect.arrayContaining(["StorePrivateKeyCommand", "ConsentUrl", "FailedRunsQueueUrl"]),
    );
    const names = new Set([...Object.keys(outputsOf({ summaryAlarms: "true" }))]);
    for (const name of mentioned) expect(names, name).toContain(name);
  });

  it("each have a description", () => {
    for (const [name, o] of Object.entries(outputs)) expect(o.Description, name).toMatch(/\w{3,}/);
  });

  it("include the function name with the command that runs a stream once, and the failed-runs queue", () => {
    expect(outputs.FunctionName?.Description).toContain(`--payload '{"stream":"default"}'`);
    expect(outputs.FunctionName?.Value).toEqual({ Ref: expect.stringMatching(/^MonitorLakeIngester/) });
    expect(outputs.FailedRunsQueueUrl?.Value).toEqual({
      Ref: expect.stringMatching(/^MonitorLakeFailedRuns/),
    });
  });

  it("keep the stream id as the suffix of a further stream's outputs", () => {
    const several = outputsOf({ streams: JSON.stringify([{ id: "acme" }, { id: "glo-bex" }]) });
    for (const base of ["PrivateKeySecretArn", "StorePrivateKeyCommand", "ConsentUrl"]) {
      expect(several).toHaveProperty(base);
      expect(several).toHaveProperty(`${base}globex`);
    }
  });
});

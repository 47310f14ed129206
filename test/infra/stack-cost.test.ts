import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { RUN_METRICS } from "../../lambda/handler/run-metrics";
import { costLines, costTable, defaultTemplate, deployedFrom } from "../../scripts/cost";

const readme = await readFile(new URL("../../README.md", import.meta.url), "utf8");
const template = defaultTemplate();

/** A Markdown table as cells, so that column padding (the formatter aligns the README's) does not count. */
function cells(markdown: string): string[][] {
  return markdown
    .trim()
    .split("\n")
    .map((line) => line.split("|").map((c) => c.trim().replace(/^-+(:?)$/, "---$1")));
}

describe("the cost script", () => {
  it("prints the table the README's 'What it costs' section holds", () => {
    const block = /<!-- cost-table:begin -->\n([\s\S]*?)\n<!-- cost-table:end -->/.exec(readme)?.[1];
    expect(block).toBeDefined();
    expect(cells(block ?? "")).toEqual(cells(costTable(deployedFrom(template))));
  });

  it("counts alarms, dashboards, secrets and query definitions from the template, not from constants", () => {
    const deployed = deployedFrom(template);
    const count = (type: string) => Object.values(template.Resources).filter((r) => r.Type === type).length;
    expect(deployed).toMatchObject({
      alarms: count("AWS::CloudWatch::Alarm"),
      dashboards: 1,
      secrets: 1,
      queryDefinitions: count("AWS::Logs::QueryDefinition"),
      memoryGb: 0.5,
      runsPerDay: 288,
    });
    const oneAlarmFewer = Object.fromEntries(
      Object.entries(template.Resources).filter(
        ([id, r]) => !(r.Type === "AWS::CloudWatch::Alarm" && id.startsWith("MonitorLakeAuthFailures")),
      ),
    );
    expect(deployedFrom({ Resources: oneAlarmFewer }).alarms).toBe(deployed.alarms - 1);
  });

  it("counts a custom metric for each metric every run publishes, none for those only a failure or match publishes", () => {
    // StreamNotAdvancing is published by every run; DetectionErrors and RuleMatches only when they happen.
    expect(deployedFrom(template).customMetrics).toBe(RUN_METRICS.length);
  });

  it("grows with volume where usage does and stays flat where the deployment is fixed", () => {
    const lines = new Map(
      costLines(deployedFrom(template)).map(([name, ...cells]) => [name.split(" (")[0], cells]),
    );
    const [low, , high] = lines.get("S3 storage, month 12") ?? [];
    expect(high).toBeGreaterThan((low ?? 0) * 1000);
    const alarms = lines.get("CloudWatch alarms") ?? [];
    expect(new Set(alarms).size).toBe(1);
  });
});

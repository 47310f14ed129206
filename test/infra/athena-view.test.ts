import { readFile } from "node:fs/promises";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { buildApp } from "../../infra/app";
import { EVENTS_LINES, VIEW_COLUMNS } from "../../infra/athena-schema";

/**
 * The Glue metadata of the view and of events_lines, as Athena needs it: what Trino's file metastore
 * (athena-trino.test.ts) accepts without, and real Athena does not.
 */

const cdkJson = JSON.parse(await readFile(new URL("../../cdk.json", import.meta.url), "utf8")) as {
  context: Record<string, unknown>;
};
const app = new App({
  context: {
    ...cdkJson.context,
    integrationKey: "11111111-2222-3333-4444-555555555555",
    userId: "66666666-7777-8888-9999-000000000000",
  },
});
const template = Template.fromStack(buildApp(app)).toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
const tables = Object.values(template.Resources).filter((r) => r.Type === "AWS::Glue::Table");
const tableInput = (name: string): Record<string, unknown> => {
  const table = tables.find((t) => (t.Properties.TableInput as { Name: string }).Name === name);
  if (!table) throw new Error(`no Glue table ${name}`);
  return table.Properties.TableInput as Record<string, unknown>;
};

describe("the events_dedup view in Glue has the shape Athena writes for CREATE VIEW", () => {
  const view = tableInput("events_dedup");
  const encoded = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(String(view.ViewOriginalText))?.[1];
  const json = JSON.parse(Buffer.from(encoded ?? "", "base64").toString("utf8")) as Record<string, unknown>;

  it("is a VIRTUAL_VIEW with PartitionKeys: [] (Athena's view docs: without it the view fails)", () => {
    expect(view.TableType).toBe("VIRTUAL_VIEW");
    expect(view.PartitionKeys).toEqual([]);
    expect(view.Parameters).toEqual({ presto_view: "true", comment: "Presto View" });
    expect(view.ViewExpandedText).toBe("/* Presto View */");
  });

  it("has its columns and a SerDe in the StorageDescriptor, and no Location", () => {
    expect(view.StorageDescriptor).toEqual({
      Columns: VIEW_COLUMNS.map((c) => ({ Name: c.name, Type: c.hiveType })),
      SerdeInfo: { SerializationLibrary: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe" },
    });
  });

  it("encodes the Presto view JSON: originalSql, catalog, schema, columns, runAsInvoker, nothing else", () => {
    expect(Object.keys(json).sort()).toEqual(["catalog", "columns", "originalSql", "runAsInvoker", "schema"]);
    expect(json.catalog).toBe("awsdatacatalog");
    expect(json.schema).toBe("monitor_lake_monitorlake");
    expect(json.runAsInvoker).toBe(false);
    expect(json.columns).toEqual(VIEW_COLUMNS.map((c) => ({ name: c.name, type: c.type })));
    expect(json.originalSql).toContain('FROM "monitor_lake_monitorlake"."events_lines"');
    expect(json.originalSql).not.toMatch(/"events"/);
  });

  it("types text-or-number fields as double in the view and string in the events table", () => {
    const events = tableInput("events").StorageDescriptor as { Columns: { Name: string; Type: string }[] };
    expect(events.Columns).toContainEqual({ Name: "latitude", Type: "string" });
    expect(events.Columns).toContainEqual({
      Name: "ipaddresslocation",
      Type: "struct<latitude:string,longitude:string,country:string,state:string,city:string>",
    });
    expect(json.columns).toContainEqual({ name: "latitude", type: "double" });
    expect(view.StorageDescriptor).toMatchObject({
      Columns: expect.arrayContaining([{ Name: "longitude", Type: "double" }]),
    });
  });
});

describe("events_lines: the exact line, the contract the curated table reads through", () => {
  const lines = tableInput("events_lines");
  const events = tableInput("events");

  it("is one string column `line` over <prefix>events/, read as text by LazySimpleSerDe with \\u0001 fields and no escape", () => {
    expect(lines.TableType).toBe("EXTERNAL_TABLE");
    expect(lines.StorageDescriptor).toMatchObject({
      Columns: [{ Name: "line", Type: "string" }],
      InputFormat: "org.apache.hadoop.mapred.TextInputFormat",
      OutputFormat: "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
      SerdeInfo: {
        SerializationLibrary: "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe",
        Parameters: { "field.delim": "\u0001", "serialization.format": "\u0001" },
      },
      Location: { "Fn::Join": ["", ["s3://", expect.anything(), "/events/"]] },
    });
    expect(EVENTS_LINES.serdeParameters).not.toHaveProperty("escape.delim");
  });

  it("has the partition and the projection of events", () => {
    expect(lines.PartitionKeys).toEqual(events.PartitionKeys);
    const projection = (input: Record<string, unknown>) =>
      Object.entries(input.Parameters as Record<string, unknown>).filter(([k]) =>
        k.startsWith("projection."),
      );
    expect(projection(lines)).toEqual(projection(events));
    expect(projection(lines).length).toBeGreaterThanOrEqual(5);
  });
});

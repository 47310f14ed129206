import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  reconcileSources,
  type SecurityLakeApi,
  type SourceSpec,
} from "../../lambda/security-lake/custom-sources";
import { onSourcesEvent, PHYSICAL_ID } from "../../lambda/security-lake/on-event";
import { createSignedSecurityLake, SecurityLakeError } from "../../lambda/security-lake/signed-security-lake";
import { type FakeSecurityLake, startFakeSecurityLake } from "./fake-security-lake";

const spec = (name: string, eventClass: string): SourceSpec => ({
  sourceName: name,
  eventClasses: [eventClass],
  crawlerRoleArn: "arn:aws:iam::123456789012:role/crawler",
  providerPrincipal: "123456789012",
  externalId: "monitor-lake",
});
const SOURCES = [
  spec("docusign-monitor-3002", "AUTHENTICATION"),
  spec("docusign-monitor-6001", "WEB_RESOURCES_ACTIVITY"),
];

let fake: FakeSecurityLake;
let api: SecurityLakeApi;

beforeEach(async () => {
  fake = await startFakeSecurityLake();
  api = createSignedSecurityLake({
    region: "us-east-1",
    endpoint: fake.url,
    credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-example" },
    fetch,
  });
});
afterEach(async () => fake.stop());

const creates = (): number => fake.calls.filter((c) => c.path === "/v1/datalake/logsources/custom").length;

describe("the Security Lake custom-source custom resource, against a fake Security Lake API", () => {
  it("lists before it creates, creates each missing source once, and returns their locations", async () => {
    fake.sources.set("someone-elses-source", {
      eventClasses: ["DNS_ACTIVITY"],
      location: "s3://x/ext/someone-elses-source/",
    });
    const result = await reconcileSources(api, "Create", SOURCES);
    expect(fake.calls[0]?.path).toBe("/v1/datalake/logsources/list");
    expect(result.created).toEqual(["docusign-monitor-3002", "docusign-monitor-6001"]);
    expect(result.sources.map((s) => s.location)).toEqual([
      "s3://aws-security-data-lake-us-east-1-fake/ext/docusign-monitor-3002/",
      "s3://aws-security-data-lake-us-east-1-fake/ext/docusign-monitor-6001/",
    ]);
    expect(fake.sources.get("docusign-monitor-3002")?.eventClasses).toEqual(["AUTHENTICATION"]);
    expect(fake.calls.find((c) => c.path.endsWith("/custom"))?.body).toEqual({
      sourceName: "docusign-monitor-3002",
      eventClasses: ["AUTHENTICATION"],
      configuration: {
        crawlerConfiguration: { roleArn: "arn:aws:iam::123456789012:role/crawler" },
        providerIdentity: { principal: "123456789012", externalId: "monitor-lake" },
      },
    });
  });

  it("a re-deploy (or a retried Create) creates nothing: the sources are found by listing, across pages", async () => {
    await reconcileSources(api, "Create", SOURCES);
    const before = creates();
    const again = await reconcileSources(api, "Update", SOURCES, SOURCES);
    expect(creates()).toBe(before);
    expect(again.created).toEqual([]);
    expect(again.sources.map((s) => s.sourceName)).toEqual(SOURCES.map((s) => s.sourceName));
    expect(fake.calls.filter((c) => c.path === "/v1/datalake/logsources/list").length).toBeGreaterThanOrEqual(
      3,
    );
  });

  it("a concurrent copy that created the source first (409) is not an error: the source is listed again", async () => {
    fake.beforeCreate = (name) => {
      if (!fake.sources.has(name))
        fake.sources.set(name, { eventClasses: [], location: `s3://raced/ext/${name}/` });
    };
    const result = await reconcileSources(api, "Create", SOURCES.slice(0, 1));
    expect(result.created).toEqual([]);
    expect(result.sources[0]?.location).toBe("s3://raced/ext/docusign-monitor-3002/");
  });

  it("an Update deletes the sources no longer declared; a Delete removes only its own sources", async () => {
    fake.sources.set("someone-elses-source", { eventClasses: ["DNS_ACTIVITY"], location: "s3://x/" });
    await reconcileSources(api, "Create", SOURCES);
    const updated = await reconcileSources(api, "Update", SOURCES.slice(0, 1), SOURCES);
    expect(updated.deleted).toEqual(["docusign-monitor-6001"]);
    const removed = await reconcileSources(api, "Delete", SOURCES.slice(0, 1));
    expect(removed.deleted).toEqual(["docusign-monitor-3002"]);
    expect([...fake.sources.keys()]).toEqual(["someone-elses-source"]);
    // A second Delete (CloudFormation retries) finds nothing to delete and succeeds.
    expect((await reconcileSources(api, "Delete", SOURCES)).deleted).toEqual([]);
  });

  it("signs every request with Signature V4 for service securitylake", async () => {
    await reconcileSources(api, "Create", SOURCES);
    for (const call of fake.calls) {
      expect(call.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/securitylake\/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*, Signature=[0-9a-f]{64}$/,
      );
      expect(call.amzDate).toMatch(/^\d{8}T\d{6}Z$/);
    }
  });

  it("an error answer names the operation, the status, the service's message and what to check", async () => {
    const broken = createSignedSecurityLake({
      region: "us-east-1",
      endpoint: `${fake.url}/nowhere`,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret-example" },
      fetch: async (url, init) => fetch(String(url).replace("/v1/", "/v2/"), init),
    });
    const error = await reconcileSources(broken, "Create", SOURCES).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SecurityLakeError);
    expect(String((error as Error).message)).toMatch(
      /^Security Lake ListLogSources failed: HTTP 400 .*no route.*securitylake:ListLogSources/,
    );
  });
});

describe("the custom resource's event handling", () => {
  const props = (sources: SourceSpec[]) => ({ Sources: JSON.stringify(sources) });

  it("Create answers one stable physical id and each source's location and provider role; Update keeps the id", async () => {
    const created = await onSourcesEvent({ RequestType: "Create", ResourceProperties: props(SOURCES) }, api);
    expect(created.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect(created.Data["Location.docusign-monitor-3002"]).toBe(
      "s3://aws-security-data-lake-us-east-1-fake/ext/docusign-monitor-3002/",
    );
    expect(created.Data["ProviderRoleArn.docusign-monitor-6001"]).toMatch(
      /^arn:aws:iam::123456789012:role\//,
    );
    const updated = await onSourcesEvent(
      {
        RequestType: "Update",
        ResourceProperties: props(SOURCES.slice(1)),
        OldResourceProperties: props(SOURCES),
      },
      api,
    );
    expect(updated.PhysicalResourceId).toBe(PHYSICAL_ID);
    expect([...fake.sources.keys()]).toEqual(["docusign-monitor-6001"]);
    await onSourcesEvent({ RequestType: "Delete", ResourceProperties: props(SOURCES.slice(1)) }, api);
    expect(fake.sources.size).toBe(0);
  });

  it("a Sources property that is not a list of sources fails with what is wrong", async () => {
    await expect(
      onSourcesEvent({ RequestType: "Create", ResourceProperties: { Sources: '{"sourceName":"x"}' } }, api),
    ).rejects.toThrow("not a JSON array of sources");
  });
});

describe("the custom resource's Lambda entry (lambda/security-lake/handler.ts onEvent)", () => {
  const saved = { ...process.env };
  afterEach(() => {
    process.env = { ...saved };
  });
  const useFake = () => {
    Object.assign(process.env, {
      AWS_REGION: "us-east-1",
      AWS_ACCESS_KEY_ID: "AKIDLAMBDA",
      AWS_SECRET_ACCESS_KEY: "secret-lambda",
      AWS_SESSION_TOKEN: "session-lambda",
      SECURITY_LAKE_ENDPOINT: fake.url,
    });
  };
  const event = (type: "Create" | "Update" | "Delete") => ({
    RequestType: type,
    ResourceProperties: { Sources: JSON.stringify(SOURCES) },
    ...(type === "Update" ? { OldResourceProperties: { Sources: JSON.stringify(SOURCES) } } : {}),
  });

  it("lists, then creates each source once with the function's own credentials; a re-deploy creates nothing", async () => {
    useFake();
    const { onEvent } = await import("../../lambda/security-lake/handler");
    const created = await onEvent(event("Create"));
    expect(fake.calls.map((c) => `${c.method} ${c.path}`).slice(0, 2)).toEqual([
      "POST /v1/datalake/logsources/list",
      "POST /v1/datalake/logsources/custom",
    ]);
    expect(creates()).toBe(2);
    expect(fake.calls[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDLAMBDA\//);
    expect(Object.keys(created.Data).sort()).toEqual([
      "Location.docusign-monitor-3002",
      "Location.docusign-monitor-6001",
      "ProviderRoleArn.docusign-monitor-3002",
      "ProviderRoleArn.docusign-monitor-6001",
    ]);
    const redeployed = await onEvent(event("Update"));
    expect(creates()).toBe(2);
    expect(redeployed.Data["Location.docusign-monitor-3002"]).toBe(
      created.Data["Location.docusign-monitor-3002"],
    );
    await onEvent(event("Delete"));
    expect(fake.sources.size).toBe(0);
  });

  it("without credentials in its environment it fails naming the variable", async () => {
    useFake();
    delete process.env.AWS_ACCESS_KEY_ID;
    const { onEvent } = await import("../../lambda/security-lake/handler");
    await expect(onEvent(event("Create"))).rejects.toThrow("AWS_ACCESS_KEY_ID is not set");
  });
});

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import type { DocuSignClient } from "../../lambda/docusign/docusign-client";
import { ConfigError } from "../../lambda/errors";
import { createHandler } from "../../lambda/handler/handler";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { awsClients, createBucket, createSecret, createStateTable } from "../helpers/aws";
import { lambdaContext } from "../helpers/lambda-context";
import { runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

// Issue 19 item 4: the organization stream first, found through GET /oauth/userinfo.

const ORG_A = "0a0a0a0a-1111-4000-8000-00000000000a";
const ORG_B = "0b0b0b0b-1111-4000-8000-00000000000b";

let fixture: SimulatorFixture | undefined;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-stream-choice-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await fixture?.simulator.stop();
  fixture = undefined;
});

async function drain(client: DocuSignClient): Promise<Record<string, unknown>[]> {
  let cursor = "2000-01-01T00:00:00Z";
  const events: Record<string, unknown>[] = [];
  for (let i = 0; i < 100; i++) {
    const page = await client.fetchPage({ cursor });
    events.push(...page.events.map((e) => e.event));
    if (page.events.length === 0 || page.endCursor === cursor) return events;
    cursor = page.endCursor;
  }
  throw new Error("never caught up");
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error)) throw new Error("expected a rejection");
  return outcome;
}

describe("choosing the Monitor stream", () => {
  it("reads the organization stream of the one organization userinfo names when none is configured", async () => {
    fixture = await startSimulator({ events: 250, organizationId: ORG_A });
    const client = fixture.client({ organizationId: undefined, limit: 100 });

    const events = await drain(client);

    expect(events).toEqual(fixture.simulator.events());
    expect(events[0]).toHaveProperty("isUserMemberOfDomain"); // the organization stream's event shape
    expect(client.streamApi).toBe("organization");
    expect(fixture.simulator.stats.userInfoRequests).toBe(1);
    expect(fixture.simulator.stats.tokensIssued).toBe(1); // userinfo uses the token the stream uses
    expect(fixture.events).toContainEqual({
      type: "stream-api",
      api: "organization",
      organizationId: ORG_A,
      reason: `userinfo names one organization, ${ORG_A}: reading its organization stream`,
    });
  });

  it("names --stream-api lens when the organization stream refuses a cursor (a lens cursor kept from before)", async () => {
    fixture = await startSimulator({ events: 20, organizationId: ORG_A });
    const organization = fixture.client({ organizationId: undefined, limit: 10 });
    const lens = fixture.client({ organizationId: undefined, streamApi: "lens", limit: 10 });

    const fromOrganization = await rejection(
      organization.fetchPage({ cursor: "a-cursor-of-another-stream" }),
    );
    const fromLens = await rejection(lens.fetchPage({ cursor: "a-cursor-of-another-stream" }));

    expect(fromOrganization.message).toContain("400");
    expect(fromOrganization.message).toContain(
      "This is the organization stream: a stream whose state holds a cursor of the legacy lens stream",
    );
    expect(fromOrganization.message).toContain(
      'set DOCUSIGN_STREAM_API=lens (--stream-api lens; deployed: the stream\'s "streamApi": "lens" or -c streamApi=lens).',
    );
    expect(fromLens.message).toContain("check START_CURSOR");
    expect(fromLens.message).not.toContain("This is the organization stream");
  });

  it("falls back to the legacy lens stream, and says so, when userinfo names no organization", async () => {
    fixture = await startSimulator({ events: 120 });
    const client = fixture.client();

    const events = await drain(client);

    expect(events).toHaveLength(120);
    expect(client.streamApi).toBe("lens");
    expect(fixture.simulator.stats.userInfoRequests).toBe(1);
    const choice = fixture.events.find((e) => e.type === "stream-api");
    expect(choice).toMatchObject({ api: "lens" });
    expect(choice?.type === "stream-api" && choice.reason).toContain(
      "userinfo names no organization for the user: falling back to the legacy lens stream",
    );
  });

  it("refuses a user who administers several organizations, listing them and the fix", async () => {
    fixture = await startSimulator({
      events: 10,
      organizationId: ORG_A,
      userInfoOrganizations: [ORG_A, ORG_B],
    });

    const error = await rejection(
      fixture.client({ organizationId: undefined }).fetchPage({ cursor: "2000-01-01T00:00:00Z" }),
    );

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(`administers 2 organizations (${ORG_A}, ${ORG_B})`);
    expect(error.message).toContain("set DOCUSIGN_ORGANIZATION_ID (--organization-id");
    expect(fixture.simulator.stats.streamRequests).toBe(0);
  });

  it("reads the lens stream without a lookup when it is chosen explicitly", async () => {
    fixture = await startSimulator({ events: 50, organizationId: ORG_A });
    const client = fixture.client({ organizationId: undefined, streamApi: "lens" });

    await client.fetchPage({ cursor: "2000-01-01T00:00:00Z" });

    expect(client.streamApi).toBe("lens");
    expect(fixture.simulator.stats.userInfoRequests).toBe(0);
    expect(() => fixture?.client({ organizationId: ORG_A, streamApi: "lens" })).toThrow(
      /DOCUSIGN_STREAM_API is "lens" and DOCUSIGN_ORGANIZATION_ID is set/,
    );
  });

  it("with the organization API chosen, a user in no organization is an error, not a fallback", async () => {
    fixture = await startSimulator({ events: 10 });

    const error = await rejection(
      fixture.client({ streamApi: "organization" }).fetchPage({ cursor: "2000-01-01T00:00:00Z" }),
    );

    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain(
      'DOCUSIGN_STREAM_API is "organization" but userinfo names no organization',
    );
    expect(fixture.simulator.stats.streamRequests).toBe(0);
  });

  it("the CLI's run summary names the stream API read (JSON and text), and --stream-api lens skips the lookup", async () => {
    fixture = await startSimulator({ events: 40, organizationId: ORG_A });
    const f = fixture;
    const keyFile = join(dir, "key.pem");
    await writeFile(keyFile, f.keys.pkcs1Pem, { mode: 0o600 });
    const args = (out: string, extra: string[]) => [
      "run",
      ...["--oauth-url", f.url, "--monitor-url", f.url, "--integration-key", f.integrationKey],
      ...[
        "--user-id",
        f.userId,
        "--key-file",
        keyFile,
        "--out",
        join(dir, out),
        "--start",
        "2000-01-01T00:00:00Z",
      ],
      ...extra,
    ];

    const json = await runCli(args("lake-org", ["--json"]));
    const text = await runCli(args("lake-lens", ["--stream-api", "lens"]));
    const bad = await runCli(args("lake-bad", ["--stream-api", "v2"]));

    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ streamApi: "organization", events: 40, caughtUp: true });
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("read from the lens stream API");
    expect(f.simulator.stats.userInfoRequests).toBe(1);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('DOCUSIGN_STREAM_API is "v2": use "organization" or "lens" (--stream-api)');
  }, 60_000);

  it("the CLI exits 2 for a user of several organizations", async () => {
    fixture = await startSimulator({ events: 5, userInfoOrganizations: [ORG_A, ORG_B] });
    const keyFile = join(dir, "key-several.pem");
    await writeFile(keyFile, fixture.keys.pkcs1Pem, { mode: 0o600 });

    const result = await runCli([
      "run",
      ...[
        "--oauth-url",
        fixture.url,
        "--monitor-url",
        fixture.url,
        "--integration-key",
        fixture.integrationKey,
      ],
      ...["--user-id", fixture.userId, "--key-file", keyFile, "--out", join(dir, "lake-several")],
    ]);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`administers 2 organizations (${ORG_A}, ${ORG_B})`);
  }, 30_000);

  it("the Lambda's run summary names the stream API read, and its log says how it was chosen", async () => {
    fixture = await startSimulator({ events: 30, organizationId: ORG_A });
    const clients = awsClients();
    const env = envForSimulator(fixture, {
      [ENV.privateKeySecret]: await createSecret(clients.secrets, fixture.keys.pkcs1Pem),
      [ENV.bucket]: await createBucket(clients.s3),
      [ENV.stateTable]: await createStateTable(clients.dynamo),
      [ENV.startCursor]: "2000-01-01T00:00:00Z",
      [ENV.stream]: "org-a",
    });
    const output: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string | Uint8Array) => {
      output.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }) as typeof process.stdout.write;
    let result: Awaited<ReturnType<ReturnType<typeof createHandler>>>;
    try {
      result = await createHandler({ env, ...clients })({}, lambdaContext(30_000));
    } finally {
      process.stdout.write = write;
    }

    expect(result).toMatchObject({ events: 30, streamApi: "organization" });
    const chosen = output
      .join("")
      .split("\n")
      .find((line) => line.includes('"DocuSign stream chosen"'));
    expect(chosen).toContain(`"organizationId":"${ORG_A}"`);
    expect(chosen).toContain('"streamApi":"organization"');
  }, 60_000);
});

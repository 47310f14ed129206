import { generateKeyPairSync } from "node:crypto";
import { type DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { PutSecretValueCommand, type SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import { ErrorCode, StorageError } from "../../lambda/errors";
import { createHandler, type HandlerResult } from "../../lambda/handler/handler";
import type { SimulatorOptions } from "../../lambda/simulator/simulator";
import { awsClients, readLake } from "../helpers/aws";
import { type HandlerFixture, handlerFixtures } from "../helpers/handler-fixture";
import { lambdaContext as context } from "../helpers/lambda-context";

const clients = awsClients();
const startFixture = handlerFixtures(clients);

function setup(simulator: Partial<SimulatorOptions>): Promise<HandlerFixture> {
  return startFixture(simulator, { [ENV.pageLimit]: "500", [ENV.chunkMaxBytes]: "400000" });
}

async function stateItem(table: string, stream = "org1") {
  return (
    await clients.dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: stream } } }))
  ).Item;
}

async function expectExactlyOnce(s: HandlerFixture, prefix = "monitor/events/"): Promise<void> {
  const lake = await readLake(clients.s3, s.bucket, prefix);
  const ids = lake.flatMap((o) => o.events.map((e) => e.eventId));
  const source = s.f.simulator.events();
  expect(ids.length).toBe(source.length);
  expect(new Set(ids)).toEqual(new Set(source.map((e) => e.eventId)));
}

/** Counts the GetSecretValue calls a Secrets Manager client makes. */
function countSecretReads(secrets: SecretsManagerClient): { count: number } {
  const reads = { count: 0 };
  secrets.middlewareStack.add(
    (next, ctx) => async (args) => {
      if (ctx.commandName === "GetSecretValueCommand") reads.count++;
      return next(args);
    },
    { step: "initialize" },
  );
  return reads;
}

async function putKey(secretId: string, pem: string): Promise<void> {
  await clients.secrets.send(
    new PutSecretValueCommand({ SecretId: secretId, SecretString: JSON.stringify({ privateKey: pem }) }),
  );
}

/** Everything written to stdout and stderr while `fn` runs (Powertools writes logs and EMF there). */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const lines: string[] = [];
  const writes = {
    stdout: process.stdout.write.bind(process.stdout),
    stderr: process.stderr.write.bind(process.stderr),
  };
  for (const name of ["stdout", "stderr"] as const) {
    process[name].write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      lines.push(String(chunk));
      return (writes[name] as (c: unknown, ...r: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof process.stdout.write;
  }
  try {
    await fn();
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
  return lines.join("");
}

function jsonLines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function isSummary(r: HandlerResult): r is Extract<HandlerResult, { caughtUp: boolean }> {
  return !("leaseHeld" in r);
}

describe("Lambda handler against moto and the simulator", () => {
  it("drains a backlog over many short invocations with every event in S3 exactly once", async () => {
    const s = await setup({ events: 12000, faults: { slowEvery: 1, slowMs: 120, serverErrorEvery: 7 } });
    const handler = createHandler({ env: s.env, ...clients });
    const results: HandlerResult[] = [];
    // Invocations until caught up, not a fixed count: on a loaded machine a page of 500 takes up to 2 s
    // and a 3 s invocation (1.8 s of fetching) stores fewer pages. The test is about exactly-once over
    // many invocations, not their speed.
    for (let i = 0; i < 100; i++) {
      const result = await handler({}, context(3000));
      results.push(result);
      if (isSummary(result) && result.caughtUp) break;
    }

    expect(results.length).toBeGreaterThan(2);
    expect(results.slice(0, -1).every((r) => isSummary(r) && r.stoppedBy === "budget")).toBe(true);
    await expectExactlyOnce(s);
    const item = await stateItem(s.table);
    expect(item?.totalEvents?.N).toBe("12000");
    expect(item?.leaseOwner).toBeUndefined();
    expect(s.f.simulator.stats.tokensIssued).toBe(1); // the warm client kept its token
  }, 300_000); // a loaded machine needs more 1.5 s invocations; a timed-out loop would log into later tests

  it("loses and duplicates nothing when it fails between the object write and the cursor commit", async () => {
    const s = await setup({ events: 3000 });
    let failures = 0;
    const flaky = {
      send: (command: { input: { UpdateExpression?: string } }, options?: unknown) => {
        // The second cursor commit fails (after its chunk's intent and objects were written).
        if (command.input.UpdateExpression?.includes("#cursor") && failures++ === 1) {
          return Promise.reject(
            Object.assign(new Error("injected: network down"), { name: "NetworkingError" }),
          );
        }
        return (clients.dynamo.send as (c: unknown, o?: unknown) => Promise<unknown>)(command, options);
      },
    } as unknown as DynamoDBClient;
    const handler = createHandler({ env: s.env, ...clients, dynamo: flaky });

    await expect(handler({}, context(60_000))).rejects.toBeInstanceOf(StorageError);
    const committed = await stateItem(s.table);
    // The acquire (version 1, the fencing token), the first chunk's intent and commit (2, 3), the
    // second's intent (4), not its commit.
    expect(committed?.version?.N).toBe("4");
    expect(committed?.pending?.M?.chunk?.S).toMatch(/^[0-9a-f]{16}$/);
    expect(committed?.pending?.M?.parts?.S).toMatch(/^\d{4}-\d{2}-\d{2}/);
    expect(committed?.leaseOwner).toBeUndefined();
    const resumed = await handler({}, context(60_000));

    expect(isSummary(resumed) && resumed.caughtUp).toBe(true);
    await expectExactlyOnce(s);
  });

  it("lets only one of two concurrent invocations write; the other reports LeaseHeld and succeeds", async () => {
    const s = await setup({ events: 2000, faults: { slowEvery: 1, slowMs: 200 } });
    const a = createHandler({ env: s.env, ...clients });
    const b = createHandler({ env: s.env, ...clients });

    // B starts once A holds the lease (A has asked DocuSign for a token). moto's conditional writes are
    // not atomic under truly simultaneous requests, unlike DynamoDB's; the commit condition still guards.
    const first = a({}, context(20_000));
    while (s.f.simulator.stats.tokenRequests === 0) await new Promise((r) => setTimeout(r, 5));
    const results = await Promise.all([first, b({}, context(20_000))]);

    const held = results.filter((r) => "leaseHeld" in r);
    const ran = results.filter(isSummary);
    expect(held).toHaveLength(1);
    expect(ran).toHaveLength(1);
    expect(ran[0]?.events).toBe(2000);
    await expectExactlyOnce(s);
  });

  it("takes over a lease whose run died", async () => {
    const s = await setup({ events: 100 });
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: s.table,
        Item: {
          streamId: { S: "org1" },
          version: { N: "0" },
          totalEvents: { N: "0" },
          leaseOwner: { S: "lambda-dead" },
          leaseUntil: { N: String(Date.now() - 1000) },
        },
      }),
    );

    const result = await createHandler({ env: s.env, ...clients })({}, context(20_000));

    expect(isSummary(result) && result.events).toBe(100);
  });

  it("fails clearly and leaves the cursor unmoved when the bucket does not exist", async () => {
    const s = await setup({ events: 100 });
    const handler = createHandler({
      env: { ...s.env, [ENV.bucket]: "bucket-that-does-not-exist" },
      ...clients,
    });

    const error = await handler({}, context(20_000)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    // A stream with nothing committed first asks the lake whether it holds events of it (a lost state).
    expect((error as Error).message).toContain(
      "S3 ListObjectsV2 s3://bucket-that-does-not-exist/monitor/events/",
    );
    expect((error as Error).message).toContain("Check BUCKET_NAME");
    expect((await stateItem(s.table))?.cursor).toBeUndefined();
  });

  it("picks up a rotated key after the key TTL", async () => {
    const s = await setup({ events: 50 });
    const handler = createHandler({ env: s.env, ...clients, keyTtlMs: 300 });
    await handler({}, context(20_000));
    const rotated = generateKeyPairSync("rsa", { modulusLength: 2048 });
    s.f.simulator.rotateKey(rotated.publicKey);
    s.f.simulator.appendLive(10);
    await clients.secrets.send(
      new PutSecretValueCommand({
        SecretId: s.secretId,
        SecretString: JSON.stringify({
          privateKey: rotated.privateKey.export({ type: "pkcs1", format: "pem" }),
        }),
      }),
    );
    await new Promise((r) => setTimeout(r, 350));

    const result = await handler({}, context(20_000));

    expect(isSummary(result) && result.events).toBe(10);
    expect(s.f.simulator.stats.tokensIssued).toBe(2);
  });

  it("re-reads the secret once when DocuSign refuses the cached key, so a rotation applies at once", async () => {
    const s = await setup({ events: 50, faults: { tokenLifetimeSeconds: 1 } });
    const counted = awsClients();
    const reads = countSecretReads(counted.secrets);
    const handler = createHandler({ env: s.env, ...clients, secrets: counted.secrets });
    await handler({}, context(20_000));
    const rotated = generateKeyPairSync("rsa", { modulusLength: 2048 });
    s.f.simulator.rotateKey(rotated.publicKey); // DocuSign now trusts only the new key
    await putKey(s.secretId, rotated.privateKey.export({ type: "pkcs1", format: "pem" }).toString());
    s.f.simulator.appendLive(10);
    await new Promise((r) => setTimeout(r, 1100)); // the warm token expired: the next run signs again

    const result = await handler({}, context(20_000));

    expect(isSummary(result) && result.events).toBe(10);
    expect(reads.count).toBe(2); // the warm read, then one read bypassing the 5-minute cache
    expect(s.f.simulator.stats.tokensIssued).toBe(2);
    await expectExactlyOnce(s);
  });

  it("fails AUTH_FAILED after one re-read when the secret still holds the refused key", async () => {
    const s = await setup({ events: 20 });
    const counted = awsClients();
    const reads = countSecretReads(counted.secrets);
    s.f.simulator.rotateKey(generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey);

    const error = await createHandler({ env: s.env, ...clients, secrets: counted.secrets })(
      {},
      context(20_000),
    ).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: ErrorCode.AuthFailed, status: 400 });
    expect((error as Error).message).toContain("invalid_grant");
    expect(reads.count).toBe(2);
    expect((await stateItem(s.table))?.leaseOwner).toBeUndefined();
  });

  it("never aborts the commit of written objects, even when it ends after the old hard stop", async () => {
    const s = await setup({ events: 100 });
    const slow = awsClients();
    let written = false;
    let delayed = 0;
    slow.s3.middlewareStack.add(
      (next, ctx) => async (args) => {
        const out = await next(args);
        if (ctx.commandName === "PutObjectCommand") written = true;
        return out;
      },
      { step: "initialize" },
    );
    // Under CPU load the commit once ran past the handler's hard stop: here every state update after the
    // objects are written takes 3 s of a 3 s invocation (the old hard stop came at 2.85 s).
    slow.dynamo.middlewareStack.add(
      (next, ctx) => async (args) => {
        if (written && ctx.commandName === "UpdateItemCommand" && delayed++ === 0) {
          await new Promise((r) => setTimeout(r, 3000));
        }
        return next(args);
      },
      { step: "initialize" },
    );
    const handler = createHandler({ env: s.env, ...clients, s3: slow.s3, dynamo: slow.dynamo });

    const result = await handler({}, context(3000));

    expect(isSummary(result) && result.events).toBe(100);
    expect(delayed).toBeGreaterThan(0);
    const item = await stateItem(s.table);
    expect(item?.totalEvents?.N).toBe("100");
    expect(item?.leaseOwner).toBeUndefined();
    await expectExactlyOnce(s);
  });

  it("still aborts a DocuSign request that hangs past the fetch deadline and commits what it has", async () => {
    const s = await setup({ events: 3000, faults: { slowEvery: 2, slowMs: 10_000 } });
    const handler = createHandler({ env: s.env, ...clients });
    const started = Date.now();

    const result = await handler({}, context(3000));

    expect(Date.now() - started).toBeLessThan(3000);
    expect(isSummary(result) && result.stoppedBy).toBe("budget");
    expect(isSummary(result) && result.events).toBe(500); // page 1 stored; page 2 hung and was cut
    expect((await stateItem(s.table))?.totalEvents?.N).toBe("500");
  });

  it("fails every invocation with one message listing every configuration problem", async () => {
    const handler = createHandler({ env: { [ENV.docusignEnv]: "prod", [ENV.keyPrefix]: "/x" }, ...clients });

    const error = await handler({}, context(20_000)).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: ErrorCode.ConfigInvalid });
    for (const name of [
      ENV.docusignEnv,
      ENV.integrationKey,
      ENV.userId,
      ENV.privateKeySecret,
      ENV.bucket,
      ENV.stateTable,
      ENV.keyPrefix,
    ]) {
      expect((error as Error).message).toContain(name);
    }
  });

  it("logs structured JSON and EMF metrics by stream, and never a key, token or assertion", async () => {
    const s = await setup({ events: 600, faults: { rateLimitEvery: 2, retryAfterSeconds: 0 } });
    const output = await captureOutput(async () => {
      const env = {
        ...s.env,
        [ENV.streams]: JSON.stringify([{ id: "org1" }, { id: "org2", keySecret: "missing-secret" }]),
      };
      const handler = createHandler({ env, ...clients });
      await handler({}, context(20_000));
      await handler({ stream: "org2" }, context(20_000)).catch(() => undefined);
    });
    const records = jsonLines(output);
    const emf = records.find((r) => r._aws !== undefined && r.EventsIngested !== undefined) as Record<
      string,
      unknown
    >;
    expect(emf).toMatchObject({
      EventsIngested: 600,
      CaughtUp: 1,
      IngestLagSeconds: 0,
      LeaseHeld: 0,
      StreamNotAdvancing: 0,
      stream: "org1",
    });
    expect((emf.Retries as number) > 0 && (emf.Throttled as number) > 0).toBe(true);
    const directive = (emf._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][] }[] })
      .CloudWatchMetrics[0];
    expect(directive?.Namespace).toBe("MonitorLake");
    expect(directive?.Dimensions).toEqual([["stream"]]);
    expect(records.some((r) => r.message === "run finished" && r.level === "INFO")).toBe(true);
    expect(
      records.some((r) => r.message === "run failed" && String(r.error).includes("missing-secret")),
    ).toBe(true);
    // Secrets never leave memory.
    const pemBody = s.f.keys.pkcs1Pem.split("\n")[1] ?? "";
    expect(pemBody.length).toBeGreaterThan(20);
    expect(output).not.toContain(pemBody);
    for (const token of s.f.simulator.issuedTokens()) expect(output).not.toContain(token);
    expect(output).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/); // a JWT
  });

  it("counts a run that DocuSign's authentication stopped in AuthFailures, with the consent URL in the log", async () => {
    const s = await setup({ events: 10, faults: { consentRequired: true } });
    let error: unknown;

    const output = await captureOutput(async () => {
      error = await createHandler({ env: s.env, ...clients })({}, context(20_000)).catch((e: unknown) => e);
    });

    expect(error).toMatchObject({ code: ErrorCode.ConsentRequired });
    const records = jsonLines(output);
    expect(records.find((r) => r._aws !== undefined)).toMatchObject({ AuthFailures: 1, stream: "org1" });
    expect(records.find((r) => r.message === "run failed")?.error).toContain(
      `client_id=${s.f.integrationKey}`,
    );
  });
});

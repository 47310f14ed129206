import { generateKeyPairSync, randomUUID } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import { ConfigError, ErrorCode } from "../../lambda/errors";
import { createHandler, type HandlerResult } from "../../lambda/handler/handler";
import type { StreamEntry } from "../../lambda/streams";
import { awsClients, createBucket, createSecret, createStateTable, readLake } from "../helpers/aws";
import { lambdaContext as context } from "../helpers/lambda-context";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

const clients = awsClients();
const started: SimulatorFixture[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.simulator.stop()));
});

function isSummary(r: HandlerResult): r is Extract<HandlerResult, { caughtUp: boolean }> {
  return !("leaseHeld" in r);
}

interface Org {
  readonly f: SimulatorFixture;
  readonly organizationId: string;
  readonly secretId: string;
}

/** An organization: its own simulator (its own integration key, user and key pair) and its own secret. */
async function organization(
  options: Parameters<typeof startSimulator>[0],
  ownKeyPair: boolean,
): Promise<Org> {
  const organizationId = randomUUID();
  const pair = ownKeyPair ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : undefined;
  const f = await startSimulator({
    ...options,
    organizationId,
    ...(pair ? { publicKey: pair.publicKey } : {}),
  });
  started.push(f);
  const pem = pair ? pair.privateKey.export({ type: "pkcs1", format: "pem" }).toString() : f.keys.pkcs1Pem;
  return { f, organizationId, secretId: await createSecret(clients.secrets, pem) };
}

/** The function's variables as the construct writes them: the first stream's settings plus the table. */
async function deployment(orgs: Record<string, Org>) {
  const bucket = await createBucket(clients.s3);
  const table = await createStateTable(clients.dynamo);
  const entries: StreamEntry[] = Object.entries(orgs).map(([id, o]) => ({
    id,
    organizationId: o.organizationId,
    integrationKey: o.f.integrationKey,
    userId: o.f.userId,
    keySecret: o.secretId,
    oauthUrl: o.f.url,
    monitorUrl: o.f.url,
    startCursor: "2000-01-01T00:00:00Z",
  }));
  const first = Object.values(orgs)[0] as Org;
  const env = {
    [ENV.integrationKey]: first.f.integrationKey,
    [ENV.userId]: first.f.userId,
    [ENV.privateKeySecret]: first.secretId,
    [ENV.bucket]: bucket,
    [ENV.stateTable]: table,
    [ENV.stream]: entries[0]?.id ?? "",
    [ENV.streams]: JSON.stringify(entries),
    [ENV.pageLimit]: "500",
  };
  return { env, bucket, table };
}

async function stateItem(table: string, stream: string) {
  return (
    await clients.dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: stream } } }))
  ).Item;
}

async function lakeIds(bucket: string, stream: string): Promise<string[]> {
  const lake = await readLake(clients.s3, bucket);
  return lake
    .filter((o) => o.key.split("/").pop()?.startsWith(`${stream}-`))
    .flatMap((o) => o.events.map((e) => String(e.eventId)));
}

describe("one function, several DocuSign organizations (moto and two simulators)", () => {
  it("drains two organizations side by side; one missing consent fails alone and the other is unaffected", async () => {
    const a = await organization({ events: 300, faults: { consentRequired: true } }, false);
    const b = await organization({ events: 1200 }, true);
    const d = await deployment({ "org-a": a, "org-b": b });
    const handler = createHandler({ env: d.env, ...clients });

    // As the two schedules invoke it: concurrently, each with its stream id only.
    const [ra, rb] = await Promise.allSettled([
      handler({ stream: "org-a" }, context(30_000)),
      handler({ stream: "org-b" }, context(30_000)),
    ]);

    expect(ra.status).toBe("rejected");
    const consent = (ra as PromiseRejectedResult).reason as Error;
    expect(consent).toMatchObject({ code: ErrorCode.ConsentRequired });
    expect(consent.message).toContain(`client_id=${a.f.integrationKey}`);
    expect(rb.status === "fulfilled" && isSummary(rb.value) && rb.value).toMatchObject({
      stream: "org-b",
      events: 1200,
      caughtUp: true,
    });
    // org-b's events, under org-b's names, exactly once; nothing of org-a's, and org-a's cursor unmoved.
    const idsB = await lakeIds(d.bucket, "org-b");
    expect(idsB).toHaveLength(1200);
    expect(new Set(idsB)).toEqual(new Set(b.f.simulator.events().map((e) => e.eventId)));
    expect(await lakeIds(d.bucket, "org-a")).toEqual([]);
    expect((await stateItem(d.table, "org-b"))?.totalEvents?.N).toBe("1200");
    const stateA = await stateItem(d.table, "org-a");
    expect(stateA?.cursor).toBeUndefined();
    expect(stateA?.leaseOwner).toBeUndefined();
    // Each organization was asked for a token with its own key and user only.
    expect(b.f.simulator.stats.tokensIssued).toBe(1);
    expect(a.f.simulator.stats.tokensIssued).toBe(0);

    // Consent granted: org-a's next invocation, in the same warm container, drains it.
    a.f.simulator.faults.consentRequired = false;
    const later = await handler({ stream: "org-a" }, context(30_000));
    expect(isSummary(later) && later).toMatchObject({ stream: "org-a", events: 300, caughtUp: true });
    expect(new Set(await lakeIds(d.bucket, "org-a"))).toEqual(
      new Set(a.f.simulator.events().map((e) => e.eventId)),
    );
  });

  it("spends each organization's rate limit on its own: an exhausted one stops, the other drains", async () => {
    const a = await organization({ events: 2000, rateLimit: 1000, rateLimitUsed: 999 }, false);
    const b = await organization({ events: 1500 }, false);
    const d = await deployment({ "org-a": a, "org-b": b });
    const handler = createHandler({ env: d.env, ...clients });

    const ra = await handler({ stream: "org-a" }, context(30_000));
    const rb = await handler({ stream: "org-b" }, context(30_000));

    expect(isSummary(ra) && ra).toMatchObject({ stoppedBy: "rate-limit", caughtUp: false });
    expect(isSummary(rb) && rb).toMatchObject({ events: 1500, caughtUp: true, stoppedBy: "caught-up" });
  });

  it("refuses a payload carrying userId (or any field but stream) before reading a secret or calling DocuSign", async () => {
    const a = await organization({ events: 10 }, false);
    const d = await deployment({ "org-a": a });
    const handler = createHandler({ env: d.env, ...clients });

    for (const payload of [
      { stream: "org-a", userId: randomUUID() },
      { userId: randomUUID() },
      {
        stream: "org-a",
        integrationKey: "k",
        keySecret: "other-secret",
        organizationId: "o",
        startCursor: "x",
      },
    ]) {
      const error = await handler(payload, context(20_000)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const field of Object.keys(payload).filter((k) => k !== "stream"))
        expect(message).toContain(`"${field}"`);
      expect(message).toContain('it may name a stream ({"stream": "<id>"}) and nothing else');
    }
    expect(a.f.simulator.stats.tokenRequests).toBe(0);
    expect(await stateItem(d.table, "org-a")).toBeUndefined();
    await expect(handler("org-a", context(20_000))).rejects.toThrow("send a JSON object");
  });

  it("names the known streams for an unknown id, and a stream's bad settings fail that stream only", async () => {
    const a = await organization({ events: 20 }, false);
    const d = await deployment({ "org-a": a });
    const table = JSON.parse(d.env[ENV.streams] ?? "[]") as StreamEntry[];
    const env = {
      ...d.env,
      [ENV.streams]: JSON.stringify([...table, { id: "org-bad", userId: "admin@example.com" }]),
    };
    const handler = createHandler({ env, ...clients });

    await expect(handler({ stream: "org-x" }, context(20_000))).rejects.toThrow(
      'unknown stream "org-x": this deployment serves "org-a", "org-bad"',
    );
    await expect(handler({ stream: "org-bad" }, context(20_000))).rejects.toThrow(
      `${ENV.userId} looks like an email address`,
    );
    const ok = await handler({ stream: "org-a" }, context(20_000));
    expect(isSummary(ok) && ok.events).toBe(20);
    // Without a stream id: STREAM_ID's stream.
    expect(await handler({}, context(20_000))).toMatchObject({ stream: "org-a", events: 0 });
  });
});

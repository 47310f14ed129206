import { randomUUID } from "node:crypto";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterEach, describe, expect, it } from "vitest";
import { createDynamoRateLimitStore } from "../../lambda/aws/dynamo-rate-limit-store";
import { ENV } from "../../lambda/config";
import type { Clock } from "../../lambda/core/ports";
import { RATE_LIMIT_WINDOW_MS } from "../../lambda/core/rate-limit-window";
import { rateLimitItemKey, rateLimitScope } from "../../lambda/docusign/rate-limit-scope";
import { createHandler, type HandlerResult } from "../../lambda/handler/handler";
import { awsClients, createBucket, createSecret, createStateTable, readLake } from "../helpers/aws";
import { lambdaContext as context } from "../helpers/lambda-context";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

const clients = awsClients();
const started: SimulatorFixture[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.simulator.stop()));
});

/** The wall clock of DocuSign (the simulator) and of the function alike, moved by the test. */
function sharedClock(start: number): Clock & { ms: number } {
  const clock = { ms: start, now: () => clock.ms, monotonic: () => performance.now() };
  return clock;
}

function summary(r: HandlerResult): Extract<HandlerResult, { caughtUp: boolean }> {
  if ("leaseHeld" in r) throw new Error("lease held");
  if (!("caughtUp" in r)) throw new Error("not a run summary");
  return r;
}

describe("the rate-limit reserve is kept for the whole window, on moto (issue 18 item 16)", () => {
  it("several runs in one window and two streams of one account: no request after the reserve until the reset", async () => {
    const clock = sharedClock(Date.UTC(2024, 5, 3, 12, 10, 0));
    const organizationId = randomUUID();
    // One account: one integration key, one user, 100 requests an hour of which 70 are spent.
    const f = await startSimulator({
      events: 5000,
      organizationId,
      now: () => clock.ms,
      rateLimit: 100,
      rateLimitUsed: 70,
    });
    started.push(f);
    const bucket = await createBucket(clients.s3);
    const table = await createStateTable(clients.dynamo);
    const secret = await createSecret(clients.secrets, f.keys.pkcs1Pem);
    // "org" names the organization; "lookup" finds the same one through userinfo.
    const streams = [
      { id: "org", organizationId, oauthUrl: f.url, monitorUrl: f.url, startCursor: "2000-01-01T00:00:00Z" },
      { id: "lookup", oauthUrl: f.url, monitorUrl: f.url, startCursor: "2000-01-01T00:00:00Z" },
    ];
    const env = {
      [ENV.integrationKey]: f.integrationKey,
      [ENV.userId]: f.userId,
      [ENV.privateKeySecret]: secret,
      [ENV.bucket]: bucket,
      [ENV.stateTable]: table,
      [ENV.streams]: JSON.stringify(streams),
      [ENV.pageLimit]: "100",
    };
    const handler = createHandler({ env, ...clients, clock });
    const requests = () =>
      f.simulator.stats.streamRequests + f.simulator.stats.tokenRequests + f.simulator.stats.userInfoRequests;
    const reset = new Date(Date.UTC(2024, 5, 3, 13, 0, 0)).toISOString();

    const first = summary(await handler({ stream: "org" }, context(60_000)));
    // 30 requests were left and 20 (the 0.2 reserve) are kept: 10 pages.
    expect(first).toMatchObject({
      stoppedBy: "rate-limit",
      pages: 10,
      events: 1000,
      rateLimitResetAt: reset,
    });
    const item = await clients.dynamo.send(
      new GetItemCommand({
        TableName: table,
        Key: {
          streamId: {
            S: rateLimitItemKey(
              rateLimitScope({ oauthUrl: f.url, integrationKey: f.integrationKey, userId: f.userId }),
            ),
          },
        },
      }),
    );
    expect(item.Item?.resetAt?.N).toBe(String(Date.parse(reset)));
    const objects = (await readLake(clients.s3, bucket)).length;
    const afterFirst = requests();

    for (let run = 0; run < 5; run++) {
      clock.ms += 8 * 60_000;
      for (const stream of ["org", "lookup"]) {
        const held = summary(await handler({ stream }, context(60_000)));
        expect(held).toMatchObject({
          stream,
          stoppedBy: "rate-limit",
          pages: 0,
          events: 0,
          objects: 0,
          rateLimitResetAt: reset,
        });
      }
    }
    // Not one request to DocuSign (stream, token or userinfo): the account keeps its 20.
    expect(requests()).toBe(afterFirst);
    expect((await readLake(clients.s3, bucket)).length).toBe(objects);
    const org = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: "org" } } }),
    );
    expect(org.Item?.cursor?.S).toBe(first.cursor);
    expect(org.Item?.totalEvents?.N).toBe("1000");

    // The window reset: both streams ask again.
    clock.ms = Date.parse(reset) + 1000;
    const next = summary(await handler({ stream: "lookup" }, context(60_000)));
    expect(next.pages).toBeGreaterThan(0);
    expect(next.events).toBeGreaterThan(0);
  });

  it("concurrent writes of one scope only ever move the reset later (conditional writes on moto)", async () => {
    const table = await createStateTable(clients.dynamo);
    const store = createDynamoRateLimitStore({ dynamo: clients.dynamo, table });
    const now = Date.UTC(2024, 5, 3, 12, 0, 0);
    const resets = Array.from({ length: 24 }, (_, i) => now + 60_000 * ((i * 7) % 24) + 1);

    await Promise.all(resets.map((resetAtMs) => store.holdUntil({ scope: "ab12", resetAtMs, now })));
    expect(await store.resetAt("ab12")).toBe(Math.max(...resets));
    await store.holdUntil({ scope: "ab12", resetAtMs: now + 1, now });
    expect(await store.resetAt("ab12")).toBe(Math.max(...resets));

    // A record more than a window ahead of this clock (it stepped back) is replaced by an earlier one.
    const later = now + 4 * RATE_LIMIT_WINDOW_MS;
    await store.holdUntil({ scope: "cd34", resetAtMs: later + 60_000, now: later });
    await store.holdUntil({ scope: "cd34", resetAtMs: now + 60_000, now });
    expect(await store.resetAt("cd34")).toBe(now + 60_000);
    expect(await store.resetAt("never-written")).toBeUndefined();
  });
});

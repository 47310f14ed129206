import { DeleteItemCommand, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { rawLinesOf } from "../../dev/fakes";
import { createDynamoStateStore } from "../../lambda/aws/dynamo-state-store";
import { createS3Sink } from "../../lambda/aws/s3-sink";
import { ENV } from "../../lambda/config";
import { runIngest } from "../../lambda/core/run-ingest";
import { STATE_SCHEMA } from "../../lambda/core/state-validation";
import { ErrorCode, type MonitorLakeError } from "../../lambda/errors";
import { createHandler, type HandlerResult } from "../../lambda/handler/handler";
import { awsClients } from "../helpers/aws";
import { handlerFixtures } from "../helpers/handler-fixture";
import { lambdaContext as context } from "../helpers/lambda-context";
import { crashMidChunk } from "../helpers/partial-attempt";

const clients = awsClients();
const startFixture = handlerFixtures(clients);

async function setup(events: number) {
  const s = await startFixture(
    { events, days: 4, lateShare: 0.3 },
    { [ENV.pageLimit]: "40", [ENV.chunkMaxBytes]: "8000" },
  );
  return { ...s, handler: createHandler({ env: s.env, ...clients }) };
}

/** Every line of every object under the prefix, as exact text. */
async function lakeLines(bucket: string): Promise<string[]> {
  const lines: string[] = [];
  let token: string | undefined;
  do {
    const page = await clients.s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: "monitor/events/", ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) {
      const object = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key }));
      lines.push(...rawLinesOf(await (object.Body?.transformToByteArray() ?? new Uint8Array())));
    }
    token = page.NextContinuationToken;
  } while (token);
  return lines;
}

/** The payload the STATE_INVALID message tells the operator to invoke with. */
function payloadOf(message: string): unknown {
  const command = /aws lambda invoke --function-name <FunctionName output> .*--payload '([^']+)'/.exec(
    message,
  );
  expect(command, message).not.toBeNull();
  return JSON.parse(command?.[1] ?? "");
}

function isRun(r: HandlerResult): r is Extract<HandlerResult, { caughtUp: boolean }> {
  return "caughtUp" in r;
}

describe("recover on DynamoDB and S3 (moto): the operator's invoke of the STATE_INVALID message", () => {
  it("loses no event and stores none twice after chunks over several days and a partial uncommitted attempt", async () => {
    const { f, bucket, table, handler } = await setup(600);
    const crash = crashMidChunk(createS3Sink({ s3: clients.s3, bucket, prefix: "monitor/" }), 30);
    await expect(
      runIngest(
        {
          source: f.client({ limit: 40 }),
          sink: crash.sink,
          state: createDynamoStateStore({ dynamo: clients.dynamo, table }),
          clock: { now: () => Date.now() },
        },
        {
          stream: "org1",
          owner: "lambda-crashed",
          startCursor: "2000-01-01T00:00:00Z",
          flushReserveMs: 0,
          chunkMaxBytes: 8000,
          rateLimitReserve: 0,
        },
      ),
    ).rejects.toThrow(/simulated crash/);
    expect(crash.partial()).toBeDefined();
    // The item is corrupted, its record of the attempt lost with it.
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: { streamId: { S: "org1" }, version: { S: "seven" }, totalEvents: { N: "3" } },
      }),
    );

    const error = await handler({ stream: "org1" }, context(20_000)).catch((e: unknown) => e);
    expect((error as MonitorLakeError).code).toBe(ErrorCode.StateInvalid);
    const message = (error as Error).message;
    expect(message).not.toMatch(/dt=|startCursor/);
    const summary = await handler(payloadOf(message), context(20_000));
    expect(summary).toMatchObject({ stream: "org1", recovered: true, previousState: "invalid", fenced: 1 });
    expect("chunks" in summary && summary.chunks).toBeGreaterThan(3);
    const item = (
      await clients.dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "org1" } } }))
    ).Item;
    expect(item?.schema?.N).toBe(String(STATE_SCHEMA));
    expect(item?.cursor?.S).toBe("cursor" in summary ? summary.cursor : "");

    let result: HandlerResult | undefined;
    for (let i = 0; i < 10 && !(result !== undefined && isRun(result) && result.caughtUp); i++) {
      result = await handler({ stream: "org1" }, context(20_000));
    }
    const lines = await lakeLines(bucket);
    const stored = new Set(lines);
    const lost = f.simulator.eventTexts().filter((t) => !stored.has(t));
    expect(lost).toEqual([]);
    expect("rereads" in summary && summary.rereads).toBe(false);
    expect(lines.length - stored.size).toBe(0); // no copy, not even one for events_dedup to remove
  });

  it("a deleted item: the next run refuses before any page, the invoke its message names rebuilds it, nothing is stored twice", async () => {
    const { f, bucket, table, handler } = await setup(200);
    const first = await handler({ stream: "org1" }, context(20_000));
    expect(isRun(first) && first.caughtUp).toBe(true);
    const before = await lakeLines(bucket);
    await clients.dynamo.send(new DeleteItemCommand({ TableName: table, Key: { streamId: { S: "org1" } } }));
    const pages = f.simulator.stats.pagesServed;

    const error = await handler({ stream: "org1" }, context(20_000)).catch((e: unknown) => e);

    expect((error as MonitorLakeError).code).toBe(ErrorCode.StateInvalid);
    expect((error as Error).message).toContain("has no committed cursor, but the lake holds events of it");
    expect(f.simulator.stats.pagesServed).toBe(pages);
    // The refused run left an item with nothing committed: the documented invoke needs no "force".
    const summary = await handler(payloadOf((error as Error).message), context(20_000));
    expect(summary).toMatchObject({ recovered: true, previousState: "empty", events: 200 });
    const after = await handler({ stream: "org1" }, context(20_000));
    expect(after).toMatchObject({ events: 0, caughtUp: true });
    expect((await lakeLines(bucket)).sort()).toEqual(before.sort());
  });

  it("refuses while a run holds the lease, a valid item unless forced, and any field that would choose a cursor", async () => {
    const { table, handler } = await setup(100);
    const run = await handler({ stream: "org1" }, context(20_000));
    expect(isRun(run) && run.caughtUp).toBe(true);
    await expect(handler({ stream: "org1", recover: true }, context(20_000))).rejects.toMatchObject({
      code: ErrorCode.RecoveryRefused,
    });
    await expect(handler({ stream: "org1", recover: true, cursor: "x" }, context(20_000))).rejects.toThrow(
      /"cursor", which is refused/,
    );
    await expect(handler({ stream: "org1", force: true }, context(20_000))).rejects.toThrow(
      /with "recover": true/,
    );

    const state = createDynamoStateStore({ dynamo: clients.dynamo, table });
    await state.acquire({ stream: "org1", owner: "live", now: Date.now(), leaseUntil: Date.now() + 60_000 });
    const held = await handler({ stream: "org1", recover: true, force: true }, context(20_000));
    expect(held).toMatchObject({ leaseHeld: true, holder: "live" });
    await state.release({ stream: "org1", owner: "live" });

    const forced = await handler({ stream: "org1", recover: true, force: true }, context(20_000));
    expect(forced).toMatchObject({ recovered: true, previousState: "valid", events: 100 });
    expect(isRun(run) && "cursor" in forced && forced.cursor).toBe(isRun(run) ? run.cursor : "");
  });
});

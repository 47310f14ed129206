import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { FakeClock, FakeSource, makeEvents, rawLinesOf } from "../../dev/fakes";
import { createDynamoStateStore } from "../../lambda/aws/dynamo-state-store";
import { createS3Sink } from "../../lambda/aws/s3-sink";
import type { ObjectSink, StateStore } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { awsClients, createBucket, createStateTable } from "../helpers/aws";

const { s3, dynamo } = awsClients();

const options: IngestOptions = {
  stream: "s1",
  owner: "lambda-req-1",
  startCursor: "c0",
  flushReserveMs: 1000,
  chunkMaxBytes: 1_000_000,
  rateLimitReserve: 0.2,
};

/** A promise and the function that settles it. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

/** Every object of the bucket with its lines as exact text; an object with no line is a fence. */
async function lake(bucket: string): Promise<Map<string, string[]>> {
  const objects = new Map<string, string[]>();
  const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  for (const item of page.Contents ?? []) {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: item.Key }));
    objects.set(item.Key ?? "", rawLinesOf(await (object.Body?.transformToByteArray() ?? new Uint8Array())));
  }
  return objects;
}

/** Copies of each event text across the lake. */
async function copies(bucket: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const lines of (await lake(bucket)).values()) {
    for (const line of lines) counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return counts;
}

async function setup() {
  const bucket = await createBucket(s3);
  const table = await createStateTable(dynamo);
  const sink = createS3Sink({ s3, bucket, prefix: "" });
  const state = createDynamoStateStore({ dynamo, table });
  return { bucket, table, sink, state };
}

/** The sink with its puts held until `held` settles. */
function heldPuts(sink: ObjectSink, held: Promise<void>, started: () => void): ObjectSink {
  return {
    ...sink,
    put: async (object, signal) => {
      started();
      await held;
      return sink.put(object, signal);
    },
  };
}

describe("exactly once on S3 and DynamoDB (moto), under adversarial timing", () => {
  it("stores every event once when one delivery runs twice at once with the same request id", async () => {
    const { bucket, sink, state } = await setup();
    const clock = new FakeClock();
    const events = makeEvents(30, 1);
    const firstPuts = gate();
    const secondAcquired = gate();
    const firstDone = gate();
    let putStarted = (): void => undefined;
    const inPut = new Promise<void>((resolve) => {
      putStarted = resolve;
    });
    // Copy 1 records its intent and is held in its first put until copy 2 has taken the lease.
    const first = runIngest(
      { source: new FakeSource(events, 100), sink: heldPuts(sink, firstPuts.wait, putStarted), state, clock },
      options,
    ).finally(() => firstDone.open());
    await inPut;
    // Copy 2 (the same awsRequestId): once it holds the state, copy 1 finishes; only then does copy 2
    // clean up what it read as a failed attempt.
    const secondState: StateStore = {
      ...state,
      acquire: async (request) => {
        const acquired = await state.acquire(request);
        secondAcquired.open();
        return acquired;
      },
    };
    const slowSink: ObjectSink = Object.fromEntries(
      Object.entries(sink).map(([name, method]) => [
        name,
        async (...args: unknown[]) => {
          await firstDone.wait;
          return (method as (...a: unknown[]) => Promise<void>)(...args);
        },
      ]),
    ) as unknown as ObjectSink;
    const second = runIngest(
      { source: new FakeSource(events, 100), sink: slowSink, state: secondState, clock },
      options,
    );
    await Promise.race([secondAcquired.wait, second.catch(() => undefined)]);
    firstPuts.open();
    await Promise.allSettled([first, second]);
    // Whatever each copy reported, the next run leaves every event exactly once.
    await runIngest(
      { source: new FakeSource(events, 100), sink, state, clock },
      { ...options, owner: "next" },
    );

    const counts = await copies(bucket);
    expect(counts.size).toBe(30);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });

  it("never keeps a zombie's late objects, whatever the delay after the take-over", async () => {
    const { bucket, sink, state } = await setup();
    const clock = new FakeClock();
    const events = makeEvents(30, 1);
    const thaw = gate();
    let putStarted = (): void => undefined;
    const inPut = new Promise<void>((resolve) => {
      putStarted = resolve;
    });
    const zombie = runIngest(
      { source: new FakeSource(events, 100), sink: heldPuts(sink, thaw.wait, putStarted), state, clock },
      { ...options, owner: "zombie", leaseMs: 60_000 },
    );
    await inPut; // frozen between its intent and its PutObjects
    clock.advance(61_000);
    const ports = { source: new FakeSource(events, 100), sink, state, clock };
    await runIngest(ports, { ...options, owner: "taker" });
    clock.advance(3 * 3600_000); // far past any grace period
    await runIngest(ports, { ...options, owner: "later" });
    thaw.open(); // the zombie's PutObjects land now
    await expect(zombie).rejects.toThrow();
    clock.advance(3 * 3600_000);
    await runIngest(ports, { ...options, owner: "last" });

    const counts = await copies(bucket);
    expect(counts.size).toBe(30);
    expect([...counts.values()].filter((n) => n > 1)).toEqual([]);
  });

  it("never overwrites an object with other content after the state item is deleted", async () => {
    const { bucket, table, sink, state } = await setup();
    const clock = new FakeClock();
    const events = makeEvents(30, 1);
    const source = new FakeSource(events.slice(0, 20), 100);
    await runIngest({ source, sink, state, clock }, options);
    const before = await lake(bucket);

    await dynamo.send(new DeleteItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } }));
    source.events = events; // the stream has grown: the same start cursor now gives other pages
    await runIngest({ source, sink, state, clock }, { ...options, owner: "after-reset" });

    const after = await lake(bucket);
    for (const [key, lines] of before) expect(after.get(key), key).toEqual(lines);
    expect(new Set([...after.values()].flat()).size).toBe(30);
  });
});

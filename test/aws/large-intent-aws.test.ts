import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { FakeClock, ScriptedSource } from "../../dev/fakes";
import { createDynamoStateStore } from "../../lambda/aws/dynamo-state-store";
import { createS3Sink } from "../../lambda/aws/s3-sink";
import type { MonitorEvent, ObjectSink, ReceivedEvent } from "../../lambda/core/ports";
import { type IngestOptions, runIngest } from "../../lambda/core/run-ingest";
import { awsClients, createBucket, createStateTable } from "../helpers/aws";
import { DYNAMO_ITEM_MAX_BYTES, dynamoItemSize } from "../helpers/dynamo-item-size";

const { s3, dynamo } = awsClients();
const DAY_MS = 24 * 3600 * 1000;

/** A 60-character stream id: the longest keys a stream can have but for 4 characters. */
const STREAM = `org-${"0123456789abcdef".repeat(4)}`.slice(0, 60);

const options: IngestOptions = {
  stream: STREAM,
  owner: "lambda-req-1",
  startCursor: "c0",
  flushReserveMs: 1000,
  chunkMaxBytes: 64 * 1024 * 1024,
  rateLimitReserve: 0.2,
};

/** 4,500 events (above DocuSign's 2,000 limit, as a hostile server sends), each on a day of its own. */
function hostilePage(): ReceivedEvent[] {
  const last = Date.UTC(2024, 0, 9); // the fake clock is at 2024-01-10
  return Array.from({ length: 4500 }, (_, i) => {
    const event: MonitorEvent = {
      timestamp: new Date(last - i * DAY_MS).toISOString(),
      eventId: `e${i}`,
      action: "Sent",
    };
    return { raw: JSON.stringify(event), event };
  });
}

describe("a page far above the limit on DynamoDB and S3 (moto)", () => {
  it("records an intent within DynamoDB's 400 KB for 4,500 events on 4,500 days with a 60-character stream id, and commits", async () => {
    expect(STREAM).toHaveLength(60);
    const bucket = await createBucket(s3);
    const table = await createStateTable(dynamo);
    const s3Sink = createS3Sink({ s3, bucket, prefix: "" });
    let intentSize = 0;
    let pendingSeen = false;
    const sink: ObjectSink = {
      ...s3Sink,
      put: async (object, signal) => {
        if (!pendingSeen) {
          pendingSeen = true;
          const { Item } = await dynamo.send(
            new GetItemCommand({ TableName: table, Key: { streamId: { S: STREAM } }, ConsistentRead: true }),
          );
          expect(Item?.pending).toBeDefined();
          intentSize = dynamoItemSize(Item ?? {});
        }
        return s3Sink.put(object, signal);
      },
    };
    const ports = {
      source: new ScriptedSource({ c0: [{ events: hostilePage(), endCursor: "c1" }] }),
      sink,
      state: createDynamoStateStore({ dynamo, table }),
      clock: new FakeClock(),
    };

    const first = await runIngest(ports, options);
    const second = await runIngest(ports, { ...options, owner: "lambda-req-2" });

    expect(first).toMatchObject({ events: 4500, objects: 4500, cursor: "c1" });
    expect(intentSize).toBeGreaterThan(0);
    expect(intentSize).toBeLessThan(DYNAMO_ITEM_MAX_BYTES);
    expect(second).toMatchObject({ events: 0, cursor: "c1", caughtUp: true });
  }, 180_000);
});

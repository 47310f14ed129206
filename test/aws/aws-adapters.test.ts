import { createHash, randomUUID } from "node:crypto";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { makeEvents, received } from "../../dev/fakes";
import { createDynamoStateStore } from "../../lambda/aws/dynamo-state-store";
import { createS3Sink, FENCE_BODY } from "../../lambda/aws/s3-sink";
import { createSecretKeySource } from "../../lambda/aws/secret-key-source";
import { Chunk } from "../../lambda/core/chunk";
import { MAX_CURSOR_BYTES } from "../../lambda/core/cursor-checks";
import { eventHash } from "../../lambda/core/event-text";
import { utcDay } from "../../lambda/core/event-time";
import { type DayParts, encodeParts, pendingKeys } from "../../lambda/core/intent-parts";
import { chunkId } from "../../lambda/core/object-key";
import { MAX_CHUNK_OBJECTS, RECENT_EVENTS } from "../../lambda/core/run-ingest";
import { STATE_SCHEMA } from "../../lambda/core/state-validation";
import {
  ErrorCode,
  LeaseHeldError,
  LeaseLostError,
  PrivateKeyError,
  StateInvalidError,
  StorageError,
} from "../../lambda/errors";
import { awsClients, createBucket, createSecret, createStateTable, motoEnv, readLake } from "../helpers/aws";
import { DYNAMO_ITEM_MAX_BYTES, dynamoItemSize } from "../helpers/dynamo-item-size";
import { testKeyPair } from "../helpers/simulator-fixture";

const { s3, dynamo, secrets } = awsClients();

describe("S3 sink (moto)", () => {
  it("writes gzipped NDJSON under the prefix with provenance metadata", async () => {
    const bucket = await createBucket(s3);
    const chunk = new Chunk("cursor/with spaces&symbols", [], 1_000_000);
    const events = makeEvents(20, 1);
    for (const e of events) chunk.add(received(e), Date.now());
    const [object] = await chunk.finish("s1", 1, "end-cursor", "2024-01-10T00:00:00.000Z");

    await createS3Sink({ s3, bucket, prefix: "monitor/" }).put(object!);

    const [stored] = await readLake(s3, bucket);
    expect(stored?.key).toBe(`monitor/${object?.key}`);
    expect(stored?.key).toMatch(/^monitor\/events\/dt=2024-01-01\/s1-[0-9a-f]{16}-000\.json\.gz$/);
    expect(stored?.events).toEqual(events);
    expect(stored?.metadata).toEqual({
      stream: "s1",
      "start-cursor": encodeURIComponent("cursor/with spaces&symbols"),
      "end-cursor": "end-cursor",
      "event-count": "20",
      "ingested-at": "2024-01-10T00:00:00.000Z",
      "chunk-objects": "1",
      "content-sha256": createHash("sha256").update(object!.body).digest("hex"),
    });
  });

  it("never overwrites: a second put of the same bytes succeeds, of other bytes fails and changes nothing", async () => {
    const bucket = await createBucket(s3);
    const sink = createS3Sink({ s3, bucket, prefix: "" });
    const chunk = new Chunk("c", [], 1000);
    chunk.add(received(makeEvents(1)[0]!), Date.now());
    const [object] = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00.000Z");
    await sink.put(object!);

    await sink.put(object!); // a retry whose first answer was lost
    const error = await sink
      .put({ ...object!, body: Buffer.concat([object!.body, Buffer.from([0])]) })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain("already holds other content or a fence");
    const [stored] = await readLake(s3, bucket);
    expect(stored?.events).toHaveLength(1);
  });

  it("fails with a StorageError naming the bucket and the fix when the bucket does not exist", async () => {
    const sink = createS3Sink({ s3, bucket: "no-such-bucket-here", prefix: "" });
    const chunk = new Chunk("c", [], 1000);
    chunk.add(received(makeEvents(1)[0]!), Date.now());
    const [object] = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00.000Z");

    const error = await sink.put(object!).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).message).toContain("s3://no-such-bucket-here/");
    expect((error as StorageError).message).toContain("Check BUCKET_NAME");
  });

  it("works through the SDK's default configuration from AWS_ENDPOINT_URL, as the Lambda's clients do", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, motoEnv());
    try {
      const bucket = await createBucket(s3);
      const defaultClient = new S3Client({});
      const chunk = new Chunk("c", [], 1000);
      chunk.add(received(makeEvents(1)[0]!), Date.now());
      const [object] = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00.000Z");
      await createS3Sink({ s3: defaultClient, bucket, prefix: "" }).put(object!);
      expect(await readLake(s3, bucket)).toHaveLength(1);
    } finally {
      process.env = saved;
    }
  });
});

describe("S3 sink fences (moto)", () => {
  it("replaces a failed attempt's object by a fence that refuses every later put, and fences a missing key", async () => {
    const bucket = await createBucket(s3);
    const sink = createS3Sink({ s3, bucket, prefix: "monitor/" });
    const chunk = new Chunk("c", [], 1000);
    chunk.add(received(makeEvents(1)[0]!), Date.now());
    const [object] = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00.000Z");
    await sink.put(object!);

    await sink.fence(object!.key);
    await sink.fence(object!.key);
    await sink.fence("events/dt=2024-01-01/never-written.json.gz");
    const late = await sink.put(object!).catch((e: unknown) => e); // a zombie's write, however late

    expect(late).toBeInstanceOf(StorageError);
    const lake = await readLake(s3, bucket);
    expect(lake.map((o) => o.key).sort()).toEqual(
      [`monitor/${object!.key}`, "monitor/events/dt=2024-01-01/never-written.json.gz"].sort(),
    );
    expect(lake.every((o) => o.events.length === 0 && o.metadata.fenced === "true")).toBe(true);
    expect(FENCE_BODY.byteLength).toBe(20); // the README's size of a fence
  });

  it("names the bucket and the fix when fencing fails", async () => {
    const sink = createS3Sink({ s3, bucket: "no-such-bucket-here", prefix: "" });

    const error = await sink.fence("events/dt=2024-01-01/x.json.gz").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain(
      "S3 fencing of s3://no-such-bucket-here/events/dt=2024-01-01/x.json.gz failed",
    );
  });
});

describe("DynamoDB state store (moto)", () => {
  const lease = (owner: string, now: number, ms = 60_000) => ({
    stream: "s1",
    owner,
    now,
    leaseUntil: now + ms,
  });

  it("takes a free lease, commits conditionally on owner and version, and releases", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();

    const state = await store.acquire(lease("a", now));
    expect(state).toEqual({ version: 1, totalEvents: 0 }); // every acquire moves the fencing token on
    const committed = await store.commit({
      stream: "s1",
      owner: "a",
      expectedVersion: 1,
      cursor: "c1",
      newestEventTime: "2024-01-01T00:00:00.000Z",
      events: 5,
      recentEventHashes: [eventHash("x"), eventHash("y")],
      now,
      leaseUntil: now + 60_000,
    });
    expect(committed).toEqual({
      schema: 4,
      version: 2,
      totalEvents: 5,
      cursor: "c1",
      newestEventTime: "2024-01-01T00:00:00.000Z",
      recentEventHashes: [eventHash("x"), eventHash("y")],
    });
    await store.release({ stream: "s1", owner: "a" });

    const item = (await dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } })))
      .Item;
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.cursor?.S).toBe("c1");
    expect(item?.lastCommitAt?.S).toBe(new Date(now).toISOString());
    expect(await store.acquire(lease("b", now))).toMatchObject({ cursor: "c1", version: 3 });
  });

  it("refuses a lease held by a live run, and takes over an expired one", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    await store.acquire(lease("a", now, 10_000));

    const held = await store.acquire(lease("b", now)).catch((e: unknown) => e);
    expect(held).toBeInstanceOf(LeaseHeldError);
    expect((held as LeaseHeldError).holder).toBe("a");
    expect((held as LeaseHeldError).expiresAt).toBe(now + 10_000);

    expect(await store.acquire(lease("b", now + 10_001))).toMatchObject({ version: 2 });
  });

  it("refuses a second acquire by the same owner while its lease lives (two copies of one delivery)", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    await store.acquire(lease("lambda-req-1", now));

    const again = await store.acquire(lease("lambda-req-1", now)).catch((e: unknown) => e);

    expect(again).toBeInstanceOf(LeaseHeldError);
  });

  it("upgrades a schema 1 item: reads its stale keys, and the next write drops them and records schema 4", async () => {
    const table = await createStateTable(dynamo);
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "s1" },
          version: { N: "4" },
          totalEvents: { N: "5" },
          cursor: { S: "c5" },
          staleKeys: { L: [{ S: "events/dt=2024-01-01/s1-old-000.json.gz" }] },
          staleUntil: { N: "1" },
        },
      }),
    );
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();

    const state = await store.acquire(lease("a", now));
    expect(state).toMatchObject({ version: 5, staleKeys: ["events/dt=2024-01-01/s1-old-000.json.gz"] });
    expect(state.schema).toBeUndefined();
    const committed = await store.commit({
      stream: "s1",
      owner: "a",
      expectedVersion: 5,
      cursor: "c5",
      events: 0,
      recentEventHashes: [],
      now,
      leaseUntil: now + 60_000,
    });

    expect(committed).toEqual({ schema: 4, version: 6, totalEvents: 5, cursor: "c5", recentEventHashes: [] });
  });

  it("upgrades a schema 2 item: its pending key list is read as stale keys, and the next intent is of schema 4", async () => {
    const table = await createStateTable(dynamo);
    const listed = [
      "events/dt=2024-01-01/s1-aaaaaaaaaaaaaaaa-000.json.gz",
      "events/dt=2024-01-02/s1-aaaaaaaaaaaaaaaa-000.json.gz",
    ];
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "s1" },
          schema: { N: "2" },
          version: { N: "4" },
          totalEvents: { N: "5" },
          cursor: { S: "c5" },
          pending: {
            M: {
              owner: { S: "old-run" },
              startCursor: { S: "c5" },
              endCursor: { S: "c9" },
              keys: { L: listed.map((k) => ({ S: k })) },
            },
          },
        },
      }),
    );
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();

    const state = await store.acquire(lease("a", now));
    expect(state).toEqual({ schema: 2, version: 5, totalEvents: 5, cursor: "c5", staleKeys: listed });
    const pending = {
      owner: "a",
      startCursor: "c5",
      endCursor: "c6",
      chunk: chunkId("c5", 6, "a"),
      parts: "2024-01-03",
    };
    const intent = await store.recordIntent({ ...lease("a", now), expectedVersion: 5, pending });

    expect(intent).toEqual({ schema: 4, version: 6, totalEvents: 5, cursor: "c5", pending });
    const item = (await dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } })))
      .Item;
    expect(item?.pending?.M?.keys).toBeUndefined();
  });

  it("upgrades a schema 3 item: its id window of event ids is not read, the intent drops it and the commit records text hashes", async () => {
    const table = await createStateTable(dynamo);
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "s1" },
          schema: { N: "3" },
          version: { N: "4" },
          totalEvents: { N: "5" },
          cursor: { S: "c5" },
          recentEventIds: { L: [{ S: "e1" }, { S: "e2" }] },
        },
      }),
    );
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    const read = async () =>
      (await dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } }))).Item;

    // An id cannot be compared to a text: the window starts empty (the run may store a repeat, never lose one).
    expect(await store.acquire(lease("a", now))).toEqual({
      schema: 3,
      version: 5,
      totalEvents: 5,
      cursor: "c5",
    });
    const pending = {
      owner: "a",
      startCursor: "c5",
      endCursor: "c6",
      chunk: chunkId("c5", 6, "a"),
      parts: "2024-01-03",
    };
    await store.recordIntent({ ...lease("a", now), expectedVersion: 5, pending });
    expect((await read())?.recentEventIds).toBeUndefined();
    const hash = eventHash('{"eventId":"e1"}');
    const committed = await store.commit({
      ...lease("a", now),
      expectedVersion: 6,
      cursor: "c6",
      events: 1,
      recentEventHashes: [hash],
    });

    expect(committed).toEqual({
      schema: 4,
      version: 7,
      totalEvents: 6,
      cursor: "c6",
      recentEventHashes: [hash],
    });
    expect((await read())?.recentEventIds).toBeUndefined();
  });

  it("fits the largest state in one item: 4,000 event text hashes, 8 KiB cursors and an intent naming every day from 1970 to 2099", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    const stream = `s${"x".repeat(63)}`;
    const cursor = "c".repeat(MAX_CURSOR_BYTES);
    const ids = Array.from({ length: RECENT_EVENTS }, () => eventHash(randomUUID()));
    const state = await store.acquire({ ...lease("a", now), stream });
    const committed = await store.commit({
      ...lease("a", now),
      stream,
      expectedVersion: state.version,
      cursor,
      events: ids.length,
      recentEventHashes: ids,
    });
    // Every day an event's own time may fall on (1970 to 2099), one part each, and more parts on
    // MAX_CHUNK_OBJECTS of them: a chunk is flushed after the page that takes it past that many objects,
    // so only so many days can have reopened parts (splits by size aside, one per partMaxBytes).
    const days: DayParts[] = [];
    for (let ms = 0; ms < Date.UTC(2100, 0, 1); ms += 24 * 3600 * 1000) {
      days.push({ day: utcDay(ms), parts: days.length < MAX_CHUNK_OBJECTS ? 3 : 1 });
    }
    const chunk = chunkId(cursor, committed.version + 1, `lambda-${randomUUID()}-abcd1234`);

    const intent = await store.recordIntent({
      ...lease("a", now),
      stream,
      expectedVersion: committed.version,
      pending: { owner: "a", startCursor: cursor, endCursor: cursor, chunk, parts: encodeParts(days) },
    });

    expect(days.length).toBeGreaterThan(47_000);
    expect(intent.recentEventHashes).toHaveLength(RECENT_EVENTS);
    expect(intent.pending && pendingKeys(stream, intent.pending)).toHaveLength(
      days.length + 2 * MAX_CHUNK_OBJECTS,
    );
    const { Item } = await dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: stream } }, ConsistentRead: true }),
    );
    expect(dynamoItemSize(Item ?? {})).toBeLessThan(DYNAMO_ITEM_MAX_BYTES);
  });

  it("recognises its own applied update when the SDK retries it after a lost answer", async () => {
    const table = await createStateTable(dynamo);
    const lossy = awsClients().dynamo;
    let lose = 0;
    lossy.middlewareStack.add(
      (next) => async (args) => {
        const output = await next(args);
        if (lose > 0) {
          lose--;
          throw Object.assign(new Error("response lost"), { name: "TimeoutError", $metadata: {} });
        }
        return output;
      },
      { step: "deserialize", name: "loseAnswers" },
    );
    const store = createDynamoStateStore({ dynamo: lossy, table });
    const now = Date.now();

    lose = 1;
    const acquired = await store.acquire(lease("a", now));
    lose = 1;
    const committed = await store.commit({
      ...lease("a", now),
      expectedVersion: acquired.version,
      cursor: "c1",
      events: 1,
      recentEventHashes: [],
    });

    expect(acquired.version).toBe(1);
    expect(committed).toMatchObject({ version: 2, cursor: "c1", totalEvents: 1 });
  });

  it("refuses a state of a newer schema (a roll-back past a schema change) untouched, saying to deploy the newer version", async () => {
    const table = await createStateTable(dynamo);
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "s1" },
          version: { N: "4" },
          totalEvents: { N: "5" },
          schema: { N: String(STATE_SCHEMA + 1) },
        },
      }),
    );

    const error = await createDynamoStateStore({ dynamo, table })
      .acquire(lease("a", Date.now()))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StateInvalidError);
    expect((error as Error).message).toContain("written by a newer monitor-lake");
    // A roll-back past a schema change: the fix is the newer version, not the corrupt-state runbook.
    expect((error as Error).message).toContain(`reads schema 1 to ${STATE_SCHEMA}`);
    expect((error as Error).message).toContain("Deploy the newer monitor-lake again");
    expect((error as Error).message).not.toMatch(/corrupt|delete it/);
    const item = await dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } }));
    // Untouched, lease not taken.
    expect(item.Item).toMatchObject({ version: { N: "4" }, schema: { N: String(STATE_SCHEMA + 1) } });
    expect(item.Item?.leaseOwner).toBeUndefined();
  });

  it("rejects a commit from a run that lost its lease or read an old version", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    await store.acquire(lease("a", now, 1000));
    await store.acquire(lease("b", now + 2000)); // a's lease expired; b took over
    const commit = {
      stream: "s1",
      expectedVersion: 2, // b's fencing token
      cursor: "c",
      events: 1,
      recentEventHashes: [],
      now,
      leaseUntil: now + 60_000,
    };

    await expect(store.commit({ ...commit, owner: "a" })).rejects.toBeInstanceOf(LeaseLostError);
    await store.commit({ ...commit, owner: "b" });
    // version 2 is stale (the same commit again would be a retry of b's own, and resolves)
    await expect(store.commit({ ...commit, owner: "b", cursor: "c2" })).rejects.toBeInstanceOf(
      LeaseLostError,
    );
    await store.release({ stream: "s1", owner: "a" }); // not a's: a no-op
    await expect(store.acquire(lease("c", now + 2001))).rejects.toBeInstanceOf(LeaseHeldError);
  });

  it("records a chunk's intent under the lease, and the commit clears it", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    await store.acquire(lease("a", now));
    const pending = {
      owner: "a",
      startCursor: "c0",
      endCursor: "c9",
      chunk: chunkId("c0", 2, "a"),
      parts: "2024-01-01*2,1",
    };

    const intent = await store.recordIntent({ ...lease("a", now), expectedVersion: 1, pending });
    expect(intent).toMatchObject({ schema: 4, version: 2, pending });
    await expect(
      store.recordIntent({ ...lease("b", now), expectedVersion: 2, pending }),
    ).rejects.toBeInstanceOf(LeaseLostError);

    const committed = await store.commit({
      stream: "s1",
      owner: "a",
      expectedVersion: 2,
      cursor: "c9",
      events: 9,
      recentEventHashes: [],
      now,
      leaseUntil: now + 60_000,
    });
    expect(committed).toEqual({ schema: 4, version: 3, totalEvents: 9, cursor: "c9", recentEventHashes: [] });
    await store.release({ stream: "s1", owner: "a" });
    expect(await store.acquire(lease("b", now))).not.toHaveProperty("pending");
  });

  it("refuses a corrupt item with the table, the item and the fix, without taking the lease", async () => {
    const table = await createStateTable(dynamo);
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "s1" },
          version: { N: "2" },
          totalEvents: { N: "5" },
          cursor: { NULL: true },
          recentEventHashes: { N: "5" },
        },
      }),
    );
    const store = createDynamoStateStore({ dynamo, table });

    const error = await store.acquire(lease("a", Date.now())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StateInvalidError);
    expect((error as Error).message).toContain(`streamId="s1" in DynamoDB table ${table}`);
    expect((error as Error).message).toContain('"cursor" is null');
    expect((error as Error).message).toContain("point-in-time recovery");
    const item = (await dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } })))
      .Item;
    expect(item?.leaseOwner).toBeUndefined();
  });

  it("names the table and the fix when it does not exist", async () => {
    const store = createDynamoStateStore({ dynamo, table: "no-such-table" });

    const error = await store.acquire(lease("a", Date.now())).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain("Check STATE_TABLE");
  });
});

describe("Secrets Manager key source (moto)", () => {
  const keys = testKeyPair();
  const clock = { now: () => Date.now() };

  it.each([
    ["a PKCS#1 PEM", keys.pkcs1Pem],
    ["a PKCS#8 PEM", keys.pkcs8Pem],
    ["JSON with privateKey", JSON.stringify({ privateKey: keys.pkcs1Pem, integrationKey: "ignored" })],
  ])("reads %s", async (_, value) => {
    const secretId = await createSecret(secrets, value);

    const key = await createSecretKeySource({ secrets, secretId, clock }).privateKey();

    expect(key.asymmetricKeyType).toBe("rsa");
    expect(key.export({ type: "pkcs1", format: "pem" })).toBe(keys.pkcs1Pem);
  });

  it("explains an empty secret with the put-secret-value command", async () => {
    const secretId = await createSecret(secrets);

    const error = await createSecretKeySource({ secrets, secretId, clock })
      .privateKey()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(PrivateKeyError);
    expect((error as PrivateKeyError).code).toBe(ErrorCode.KeyUnavailable);
    expect((error as Error).message).toContain(
      `aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://private.pem`,
    );
  });

  it("explains a missing secret, a value that is not a PEM, and a passphrase-protected key", async () => {
    const missing = await createSecretKeySource({ secrets, secretId: "nope", clock })
      .privateKey()
      .catch((e: unknown) => e);
    expect((missing as Error).message).toContain("has no secret nope");

    const notPem = await createSecret(secrets, "hunter2");
    const e1 = await createSecretKeySource({ secrets, secretId: notPem, clock })
      .privateKey()
      .catch((e: unknown) => e);
    expect((e1 as PrivateKeyError).code).toBe(ErrorCode.KeyInvalid);
    expect((e1 as Error).message).not.toContain("hunter2");

    const encrypted = await createSecret(
      secrets,
      "-----BEGIN ENCRYPTED PRIVATE KEY-----\nabc\n-----END ENCRYPTED PRIVATE KEY-----",
    );
    const e2 = await createSecretKeySource({ secrets, secretId: encrypted, clock })
      .privateKey()
      .catch((e: unknown) => e);
    expect((e2 as Error).message).toContain("passphrase");
  });

  it("caches the key while warm and picks up a rotated key after the TTL", async () => {
    const secretId = await createSecret(secrets, keys.pkcs1Pem);
    let now = Date.now();
    const source = createSecretKeySource({ secrets, secretId, clock: { now: () => now }, ttlMs: 60_000 });
    const first = await source.privateKey();
    const { generateKeyPairSync } = await import("node:crypto");
    const rotated = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    await secrets.send(
      new PutSecretValueCommand({
        SecretId: secretId,
        SecretString: rotated.export({ type: "pkcs8", format: "pem" }).toString(),
      }),
    );

    expect(await source.privateKey()).toBe(first);
    now += 60_001;
    const after = await source.privateKey();
    expect(after.export({ type: "pkcs1", format: "pem" })).toBe(
      rotated.export({ type: "pkcs1", format: "pem" }),
    );
  });
});

import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { describe, expect, it } from "vitest";
import { makeEvents, received } from "../../dev/fakes";
import { createDynamoStateStore } from "../../lambda/aws/dynamo-state-store";
import { createS3Sink } from "../../lambda/aws/s3-sink";
import { createSecretKeySource } from "../../lambda/aws/secret-key-source";
import { Chunk } from "../../lambda/core/chunk";
import {
  ErrorCode,
  LeaseHeldError,
  LeaseLostError,
  PrivateKeyError,
  StateInvalidError,
  StorageError,
} from "../../lambda/errors";
import { awsClients, createBucket, createSecret, createStateTable, motoEnv, readLake } from "../helpers/aws";
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
    });
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

describe("S3 sink deletes (moto)", () => {
  it("deletes an object under the prefix; deleting a missing key is not an error", async () => {
    const bucket = await createBucket(s3);
    const sink = createS3Sink({ s3, bucket, prefix: "monitor/" });
    const chunk = new Chunk("c", [], 1000);
    chunk.add(received(makeEvents(1)[0]!), Date.now());
    const [object] = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00.000Z");
    await sink.put(object!);

    await sink.delete(object!.key);
    await sink.delete(object!.key);

    expect(await readLake(s3, bucket)).toHaveLength(0);
  });

  it("names the bucket and the fix when a delete fails", async () => {
    const sink = createS3Sink({ s3, bucket: "no-such-bucket-here", prefix: "" });

    const error = await sink.delete("events/dt=2024-01-01/x.json.gz").catch((e: unknown) => e);

    expect(error).toBeInstanceOf(StorageError);
    expect((error as Error).message).toContain(
      "S3 DeleteObject s3://no-such-bucket-here/events/dt=2024-01-01/x.json.gz",
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
    expect(state).toEqual({ version: 0, totalEvents: 0 });
    const committed = await store.commit({
      stream: "s1",
      owner: "a",
      expectedVersion: 0,
      cursor: "c1",
      newestEventTime: "2024-01-01T00:00:00.000Z",
      events: 5,
      recentEventIds: ["x", "y"],
      staleKeys: [],
      now,
      leaseUntil: now + 60_000,
    });
    expect(committed).toEqual({
      version: 1,
      totalEvents: 5,
      cursor: "c1",
      newestEventTime: "2024-01-01T00:00:00.000Z",
      recentEventIds: ["x", "y"],
      staleKeys: [],
    });
    await store.release({ stream: "s1", owner: "a" });

    const item = (await dynamo.send(new GetItemCommand({ TableName: table, Key: { streamId: { S: "s1" } } })))
      .Item;
    expect(item?.leaseOwner).toBeUndefined();
    expect(item?.cursor?.S).toBe("c1");
    expect(item?.lastCommitAt?.S).toBe(new Date(now).toISOString());
    expect(await store.acquire(lease("b", now))).toMatchObject({ cursor: "c1", version: 1 });
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

    expect(await store.acquire(lease("b", now + 10_001))).toMatchObject({ version: 0 });
  });

  it("rejects a commit from a run that lost its lease or read an old version", async () => {
    const table = await createStateTable(dynamo);
    const store = createDynamoStateStore({ dynamo, table });
    const now = Date.now();
    await store.acquire(lease("a", now, 1000));
    await store.acquire(lease("b", now + 2000)); // a's lease expired; b took over
    const commit = {
      stream: "s1",
      expectedVersion: 0,
      cursor: "c",
      events: 1,
      recentEventIds: [],
      staleKeys: [],
      now,
      leaseUntil: now + 60_000,
    };

    await expect(store.commit({ ...commit, owner: "a" })).rejects.toBeInstanceOf(LeaseLostError);
    await store.commit({ ...commit, owner: "b" });
    await expect(store.commit({ ...commit, owner: "b" })).rejects.toBeInstanceOf(LeaseLostError); // version 0 is stale
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
      keys: ["events/dt=2024-01-01/s1-k-000.json.gz"],
    };

    const intent = await store.recordIntent({
      ...lease("a", now),
      expectedVersion: 0,
      pending,
      staleKeys: ["old-key"],
      staleUntil: now + 5000,
    });
    expect(intent).toMatchObject({ version: 1, pending, staleKeys: ["old-key"], staleUntil: now + 5000 });
    expect(await store.acquire(lease("a", now))).toMatchObject({ pending });
    await expect(
      store.recordIntent({ ...lease("b", now), expectedVersion: 1, pending, staleKeys: [] }),
    ).rejects.toBeInstanceOf(LeaseLostError);

    const committed = await store.commit({
      stream: "s1",
      owner: "a",
      expectedVersion: 1,
      cursor: "c9",
      events: 9,
      recentEventIds: [],
      staleKeys: [],
      now,
      leaseUntil: now + 60_000,
    });
    expect(committed).toEqual({
      version: 2,
      totalEvents: 9,
      cursor: "c9",
      recentEventIds: [],
      staleKeys: [],
    });
  });

  it("refuses a corrupt item with the table, the item and the fix, and releases the lease", async () => {
    const table = await createStateTable(dynamo);
    await dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "s1" },
          version: { N: "2" },
          totalEvents: { N: "5" },
          cursor: { NULL: true },
          recentEventIds: { N: "5" },
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

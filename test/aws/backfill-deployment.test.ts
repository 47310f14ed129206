import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { DeleteObjectCommand as DeleteS3Object } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import { parseEventTime } from "../../lambda/core/event-time";
import { createHandler } from "../../lambda/handler/handler";
import { awsClients, createBucket, createSecret, createStateTable, motoEnv, readLake } from "../helpers/aws";
import { lambdaContext } from "../helpers/lambda-context";
import { lastJsonLine, runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

const HOUR = 3600_000;
const clients = awsClients();
let dir: string;
let fixture: SimulatorFixture | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-backfill-aws-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await fixture?.simulator.stop();
  fixture = undefined;
});

/** Every event line the stream's objects hold (fences hold none). */
async function lakeTexts(bucket: string, stream: string): Promise<string[]> {
  const lake = await readLake(clients.s3, bucket, "monitor/");
  return lake
    .filter((o) => o.key.split("/").pop()?.startsWith(`${stream}-`))
    .flatMap((o) => o.events.map((e) => JSON.stringify(e)));
}

describe("backfill --deployment: into a stack's bucket and state table (moto), user and key from the deployment", () => {
  it("stores exactly the window's missing events with the deployment's key, refuses identity flags, re-run stores nothing", async () => {
    const f = await startSimulator({ events: 2000, days: 3, lateShare: 0 });
    fixture = f;
    const bucket = await createBucket(clients.s3);
    const table = await createStateTable(clients.dynamo);
    const secret = await createSecret(clients.secrets, f.keys.pkcs1Pem);
    const now = Date.now();
    // The ingest function's environment, as the construct writes it (and get-function-configuration prints it).
    const functionEnv = {
      [ENV.integrationKey]: f.integrationKey,
      [ENV.userId]: f.userId,
      [ENV.privateKeySecret]: secret,
      [ENV.bucket]: bucket,
      [ENV.keyPrefix]: "monitor/",
      [ENV.stateTable]: table,
      [ENV.stream]: "acme",
      [ENV.streams]: JSON.stringify([
        {
          id: "acme",
          oauthUrl: f.url,
          monitorUrl: f.url,
          startCursor: new Date(now - 2 * 24 * HOUR).toISOString(),
        },
      ]),
    };
    const handler = createHandler({ env: functionEnv, ...clients });
    const run = await handler({ stream: "acme" }, lambdaContext(60_000));
    expect(run).toMatchObject({ caughtUp: true });
    const lake = await readLake(clients.s3, bucket, "monitor/");
    await clients.s3.send(new DeleteS3Object({ Bucket: bucket, Key: lake[0]?.key ?? "" })); // a lost object
    const before = await lakeTexts(bucket, "acme");
    const streamItem = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: "acme" } } }),
    );
    const file = join(dir, "deployment.json");
    await writeFile(file, JSON.stringify(functionEnv));
    const fromMs = Math.floor((now - 2.5 * 24 * HOUR) / 1000) * 1000;
    const toMs = Math.floor((now - 1 * 24 * HOUR) / 1000) * 1000;
    const window = ["--from", new Date(fromMs).toISOString(), "--to", new Date(toMs).toISOString()];
    const aws = motoEnv();

    const chosen = await runCli(["backfill", "--deployment", file, ...window, "--user-id", f.userId], aws);
    expect(chosen.code).toBe(2);
    expect(chosen.stderr).toContain("cannot choose whom it impersonates: --user-id cannot be given");

    const result = await runCli(
      ["backfill", "--deployment", file, "--stream", "acme", ...window, "--json"],
      aws,
    );

    expect(result.code, result.stderr).toBe(0);
    const inWindow = f.simulator.eventTexts().filter((t) => {
      const time = parseEventTime((JSON.parse(t) as { timestamp?: unknown }).timestamp);
      return time !== undefined && time >= fromMs && time < toMs;
    });
    const missing = inWindow.filter((t) => !before.includes(t));
    expect(missing.length).toBeGreaterThan(50);
    const after = await lakeTexts(bucket, "acme");
    expect(new Set(after).size).toBe(after.length);
    expect(new Set(after)).toEqual(new Set([...before, ...inWindow]));
    const summary = lastJsonLine(result.stdout);
    expect(summary).toMatchObject({
      stream: "acme",
      events: missing.length,
      out: `s3://${bucket}/monitor`,
      backfill: { complete: true, alreadyInLake: inWindow.length - missing.length },
    });
    const stateKey = (summary.backfill as { stateKey: string }).stateKey;
    expect(summary.state).toBe(`DynamoDB table ${table}, item streamId = "${stateKey}"`);
    const item = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: stateKey } } }),
    );
    expect(item.Item?.cursor?.S).toBe(new Date(fromMs).toISOString().replace(".000Z", "Z"));
    expect(item.Item?.leaseOwner).toBeUndefined();
    // The stream's own state is the stream's: the backfill never touched it.
    const streamAfter = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: "acme" } } }),
    );
    expect(streamAfter.Item).toEqual(streamItem.Item);

    const again = await runCli(["backfill", "--deployment", file, ...window, "--json"], aws);

    expect(again.code, again.stderr).toBe(0);
    expect(lastJsonLine(again.stdout)).toMatchObject({ events: 0, objects: 0 });
    expect((await lakeTexts(bucket, "acme")).length).toBe(after.length);
  });
});

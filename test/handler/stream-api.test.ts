import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import { ConfigError, DocuSignError, ErrorCode } from "../../lambda/errors";
import { createHandler } from "../../lambda/handler/handler";
import { awsClients, readLake } from "../helpers/aws";
import { handlerFixtures } from "../helpers/handler-fixture";
import { lambdaContext as context } from "../helpers/lambda-context";

// A deployed stream's "streamApi" (-c streamApi, or its entry in -c streams): the construct writes it
// into the function's stream table, and the function's DocuSign client reads the stream it names.

const ORG_A = "0a0a0a0a-1111-4000-8000-00000000000a";
const clients = awsClients();
const startFixture = handlerFixtures(clients);

/** The function's stream table for the one stream `org1`, as the construct writes it. */
function table(entry: Record<string, string>): Record<string, string> {
  return { [ENV.streams]: JSON.stringify([{ id: "org1", ...entry }]) };
}

async function cursorOf(stateTable: string): Promise<string | undefined> {
  const item = await clients.dynamo.send(
    new GetItemCommand({ TableName: stateTable, Key: { streamId: { S: "org1" } } }),
  );
  return item.Item?.cursor?.S;
}

async function storedEvents(bucket: string): Promise<number> {
  return (await readLake(clients.s3, bucket, "monitor/events/")).reduce((n, o) => n + o.events.length, 0);
}

describe("a deployed stream's streamApi (moto and the simulator)", () => {
  it("streamApi lens reads the lens stream without asking userinfo, though userinfo names an organization", async () => {
    const s = await startFixture({ events: 30, organizationId: ORG_A }, table({ streamApi: "lens" }));

    const result = await createHandler({ env: s.env, ...clients })({}, context(30_000));

    expect(result).toMatchObject({ stream: "org1", events: 30, caughtUp: true, streamApi: "lens" });
    expect(s.f.simulator.stats.userInfoRequests).toBe(0);
    expect(await storedEvents(s.bucket)).toBe(30);
  });

  it("streamApi organization never falls back to the lens stream when userinfo names no organization", async () => {
    const s = await startFixture({ events: 10 }, table({ streamApi: "organization" }));

    const error = await createHandler({ env: s.env, ...clients })({}, context(30_000)).catch(
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toContain(
      'DOCUSIGN_STREAM_API is "organization" but userinfo names no organization',
    );
    expect(s.f.simulator.stats.streamRequests).toBe(0);
    expect(await cursorOf(s.table)).toBeUndefined();
  });

  it("a stream that read only the lens stream keeps its lens cursor: the upgrade without streamApi fails with the 400 and the fix, with it the stream reads on", async () => {
    // Before the upgrade the stream read the lens stream: its state holds a lens cursor.
    const s = await startFixture({ events: 40, organizationId: ORG_A }, table({ streamApi: "lens" }));
    const before = await createHandler({ env: s.env, ...clients })({}, context(30_000));
    const lensCursor = await cursorOf(s.table);
    s.f.simulator.appendLive(15);

    // The upgrade deployed without streamApi: userinfo names ORG_A, whose stream refuses the lens cursor.
    const upgraded = { ...s.env, ...table({}) };
    const error = await createHandler({ env: upgraded, ...clients })({}, context(30_000)).catch(
      (e: unknown) => e,
    );

    expect(before).toMatchObject({ events: 40, streamApi: "lens" });
    expect(error).toBeInstanceOf(DocuSignError);
    expect(error).toMatchObject({ code: ErrorCode.BadRequest });
    const message = (error as Error).message;
    expect(message).toContain("HTTP 400");
    expect(message).toContain(
      'DOCUSIGN_STREAM_API=lens (--stream-api lens; deployed: the stream\'s "streamApi": "lens" or -c streamApi=lens)',
    );
    expect(s.f.simulator.stats.userInfoRequests).toBe(1);
    expect(await cursorOf(s.table)).toBe(lensCursor);
    expect(await storedEvents(s.bucket)).toBe(40);

    // Deployed again with -c streamApi=lens: the stream reads on from its cursor, without a lookup.
    const fixed = await createHandler({ env: s.env, ...clients })({}, context(30_000));

    expect(fixed).toMatchObject({ events: 15, caughtUp: true, streamApi: "lens" });
    expect(s.f.simulator.stats.userInfoRequests).toBe(1);
    expect(await storedEvents(s.bucket)).toBe(55);
  });
});

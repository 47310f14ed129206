import { describe, expect, it } from "vitest";
import { withStream } from "../lambda/cli/settings";
import { ENV, parseConfig } from "../lambda/config";
import { ConfigError } from "../lambda/errors";
import {
  defaultStreamId,
  findStream,
  parseStreamTable,
  StreamTableTarget,
  streamEnv,
  streamTableFromEnv,
} from "../lambda/streams";

const problemsOf = (fn: () => unknown): readonly string[] => {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
};

/** The settings a deployment gives every stream. */
const required = {
  [ENV.integrationKey]: "key",
  [ENV.userId]: "user-a",
  [ENV.privateKeySecret]: "secret-a",
  [ENV.bucket]: "b",
  [ENV.stateTable]: "t",
};

describe("stream table", () => {
  it("refuses what is not a non-empty array of objects, naming the format", () => {
    expect(problemsOf(() => parseStreamTable("{", "STREAMS", "function"))[0]).toMatch(
      /^STREAMS is not valid JSON .*use e\.g\. \[\{"id":"org-a"/,
    );
    expect(problemsOf(() => parseStreamTable("[]", "STREAMS", "function"))[0]).toContain(
      "must be a non-empty JSON array",
    );
    expect(problemsOf(() => parseStreamTable('["a"]', "STREAMS", "function"))).toEqual([
      'STREAMS[0] must be an object with at least an "id".',
    ]);
  });

  it("accepts per target only its fields: keySecret in the function, keyFile and deploy fields in files", () => {
    const entry = JSON.stringify([{ id: "a", keySecret: "s", keyFile: "k.pem", schedule: "rate(1 hour)" }]);
    expect(problemsOf(() => parseStreamTable(entry, "STREAMS", StreamTableTarget.Function))).toEqual([
      expect.stringContaining("STREAMS[0].keyFile is not a stream setting here"),
      expect.stringContaining("STREAMS[0].schedule is not a stream setting here"),
    ]);
    expect(problemsOf(() => parseStreamTable(entry, "--streams f", StreamTableTarget.Local))).toEqual([
      expect.stringContaining("--streams f[0].keySecret is not a stream setting here"),
    ]);
    const hosts = JSON.stringify([{ id: "a", oauthUrl: "https://x" }]);
    expect(problemsOf(() => parseStreamTable(hosts, "-c streams", StreamTableTarget.Deploy))).toEqual([
      expect.stringContaining("-c streams[0].oauthUrl is not a stream setting here"),
    ]);
    expect(problemsOf(() => parseStreamTable('[{"id":"a","userId":7}]', "S", "local"))).toEqual([
      "S[0].userId must be a non-empty string.",
    ]);
  });

  it('takes a stream\'s "streamApi" (lens or organization, lens not with an organization) in every target', () => {
    const table = JSON.stringify([
      { id: "old-lens", streamApi: "lens" },
      { id: "org", streamApi: "organization", organizationId: "o" },
    ]);
    for (const target of Object.values(StreamTableTarget))
      expect(parseStreamTable(table, "S", target).map((e) => e.streamApi)).toEqual(["lens", "organization"]);

    const bad = JSON.stringify([
      { id: "a", streamApi: "v2" },
      { id: "b", streamApi: "lens", organizationId: "o" },
      { id: "c", streamApi: "" },
    ]);
    expect(problemsOf(() => parseStreamTable(bad, "-c streams", StreamTableTarget.Deploy))).toEqual([
      '-c streams[0].streamApi is "v2" (stream "a"): use "lens" (the legacy lens stream, e.g. for a state ' +
        'holding a lens cursor) or "organization", or leave it out to read the organization userinfo names ' +
        "(else the lens stream).",
      '-c streams[1].streamApi is "lens" and -c streams[1].organizationId is set (stream "b"): the lens ' +
        "stream has no organization. Remove one of them.",
      "-c streams[2].streamApi must be a non-empty string.",
    ]);
  });

  it("gives the run a stream's streamApi in place of DOCUSIGN_STREAM_API, and --stream-api in place of both", () => {
    const env = {
      [ENV.streams]: JSON.stringify([{ id: "old-lens", streamApi: "lens" }, { id: "new" }]),
      [ENV.streamApi]: "organization",
    };

    const lens = withStream({ ...env, [ENV.stream]: "old-lens" }, {}, undefined);
    const unset = withStream({ ...env, [ENV.stream]: "new" }, {}, undefined);
    const flag = withStream(
      { ...env, [ENV.stream]: "old-lens" },
      { [ENV.streamApi]: "organization" },
      undefined,
    );

    expect(lens[ENV.streamApi]).toBe("lens");
    expect(unset[ENV.streamApi]).toBe("organization");
    expect(flag[ENV.streamApi]).toBe("organization");
    const [entry] = streamTableFromEnv(env, StreamTableTarget.Function);
    expect(parseConfig(streamEnv(required, entry as never), "aws").docusign.streamApi).toBe("lens");
  });

  it("gives a stream the deployment's settings with its own in their place", () => {
    const base = required;
    const [a, b] = parseStreamTable(
      JSON.stringify([
        { id: "a" },
        { id: "b", userId: "user-b", environment: "production", organizationId: "o" },
      ]),
      "STREAMS",
      "function",
    );
    const configB = parseConfig(streamEnv(base, b as never), "aws");
    expect(configB).toMatchObject({ stream: "b", privateKey: { secretId: "secret-a" } });
    expect(configB.docusign).toMatchObject({
      integrationKey: "key",
      userId: "user-b",
      organizationId: "o",
      oauthUrl: "https://account.docusign.com",
    });
    expect(parseConfig(streamEnv(base, a as never), "aws").docusign.userId).toBe("user-a");
  });

  it('without STREAMS is the one stream STREAM_ID (default "default"), which is also the default id', () => {
    expect(streamTableFromEnv({}, "function")).toEqual([{ id: "default" }]);
    const env = { [ENV.stream]: "org1" };
    const table = streamTableFromEnv(env, "function");
    expect(table).toEqual([{ id: "org1" }]);
    expect(defaultStreamId(env, table)).toBe("org1");
    expect(defaultStreamId({}, [{ id: "x" }, { id: "y" }])).toBe("x");
    expect(() => findStream(table, "nope", "Fix it.")).toThrow(
      'unknown stream "nope": the streams configured are "org1". Fix it.',
    );
  });
});

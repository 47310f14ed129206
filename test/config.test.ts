import { describe, expect, it } from "vitest";
import { ENV, parseConfig } from "../lambda/config";
import { ConfigError } from "../lambda/errors";

const base = { [ENV.integrationKey]: "key", [ENV.userId]: "user", [ENV.privateKeyFile]: "/k.pem" };

describe("parseConfig", () => {
  it("defaults to the demo environment, the lens stream, limit 2000 and a 20% rate-limit reserve", () => {
    const config = parseConfig(base, "local");

    expect(config.docusign).toMatchObject({
      environment: "demo",
      oauthUrl: "https://account-d.docusign.com",
      monitorUrl: "https://lens-d.docusign.net",
      pageLimit: 2000,
    });
    expect(config).toMatchObject({
      stream: "default",
      rateLimitReserve: 0.2,
      privateKey: { file: "/k.pem" },
    });
    expect(Object.isFrozen(config) && Object.isFrozen(config.docusign)).toBe(true);
  });

  it("commits chunks at least every 60 s by default; CHUNK_MAX_AGE_SECONDS sets 1 to 3600 s", () => {
    expect(parseConfig(base, "local").chunkMaxAgeSeconds).toBe(60);
    expect(parseConfig({ ...base, [ENV.chunkMaxAgeSeconds]: "15" }, "local").chunkMaxAgeSeconds).toBe(15);
    expect(() => parseConfig({ ...base, [ENV.chunkMaxAgeSeconds]: "0" }, "local")).toThrow(
      'CHUNK_MAX_AGE_SECONDS is "0": use a whole number from 1 to 3600.',
    );
  });

  it("selects the organization stream host with an organization id, and production hosts", () => {
    const config = parseConfig(
      { ...base, [ENV.docusignEnv]: "production", [ENV.organizationId]: "org" },
      "local",
    );

    expect(config.docusign).toMatchObject({
      oauthUrl: "https://account.docusign.com",
      monitorUrl: "https://api.docusign.com",
      organizationId: "org",
    });
  });

  it("refuses plain http except for a local simulator, and a bad stream id", () => {
    const error = (() => {
      try {
        parseConfig({ ...base, [ENV.monitorUrl]: "http://example.com", [ENV.stream]: "../etc" }, "local");
      } catch (e) {
        return e;
      }
      return undefined;
    })();

    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(2);
    expect(
      parseConfig({ ...base, [ENV.monitorUrl]: "http://127.0.0.1:8080/" }, "local").docusign.monitorUrl,
    ).toBe("http://127.0.0.1:8080");
  });

  it("needs the secret, bucket and table for AWS, with an optional prefix ending in a slash", () => {
    const config = parseConfig(
      {
        ...base,
        [ENV.privateKeySecret]: "s",
        [ENV.bucket]: "b",
        [ENV.stateTable]: "t",
        [ENV.keyPrefix]: "p/",
      },
      "aws",
    );

    expect(config.aws).toEqual({ bucket: "b", keyPrefix: "p/", stateTable: "t" });
    expect(config.privateKey).toEqual({ secretId: "s" });
  });
});

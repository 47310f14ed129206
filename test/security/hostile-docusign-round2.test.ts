import { generateKeyPairSync, randomUUID } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../dev/free-port";
import { runLocalIngest } from "../../lambda/cli/run";
import { ENV, parseConfig } from "../../lambda/config";
import type { DocuSignClientEvent } from "../../lambda/docusign/docusign-client";
import { parsePrivateKey } from "../../lambda/docusign/private-key";
import { ConfigError, CursorError, type DocuSignError, ErrorCode } from "../../lambda/errors";
import {
  answerLikeDocuSign,
  HOSTILE_ACCESS_TOKEN,
  type HostileServer,
  hostileClient,
  json,
  rejection,
  startHostileServer,
} from "../helpers/hostile-docusign";
import { testKeyPair } from "../helpers/simulator-fixture";

// The second round of hostile input (issue 18): each `it` is a row of the README's "Hostile input" table.

let server: HostileServer;
let dir: string;
let keyFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-hostile2-"));
  keyFile = join(dir, "key.pem");
  await writeFile(keyFile, testKeyPair().pkcs1Pem, { mode: 0o600 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const JWT = /eyJ[A-Za-z0-9_-]{5,}/;
const START = "2024-01-01T00:00:00Z";

function ingest(out: string, env: Record<string, string> = {}) {
  const config = parseConfig(
    {
      [ENV.oauthUrl]: server.url,
      [ENV.monitorUrl]: server.url,
      [ENV.integrationKey]: "11111111-2222-3333-4444-555555555555",
      [ENV.userId]: "66666666-7777-8888-9999-000000000000",
      [ENV.privateKeyFile]: keyFile,
      [ENV.startCursor]: START,
      ...env,
    },
    "local",
  );
  return runLocalIngest({ config, out: join(dir, out) });
}

async function storedObjects(out: string): Promise<string[]> {
  const files = await readdir(join(dir, out), { recursive: true }).catch(() => []);
  return files.map(String).filter((f) => f.endsWith(".json.gz"));
}

const event = () => ({ eventId: randomUUID(), timestamp: new Date().toISOString(), action: "Login" });
/** The stream requests the server saw (a run also asks userinfo which stream to read). */
const gets = () => server.requests.filter((r) => r.method === "GET" && !r.url.startsWith("/oauth/"));

describe("hostile DocuSign answers, round 2", () => {
  it("a cycling endCursor with terminal escapes is quoted without its control characters", async () => {
    const evil = "\u001b[2J\u001b[31mX\nFAKE";
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (req, res) => {
          const cursor = new URL(req.url, "http://x").searchParams.get("cursor");
          json(res, 200, { data: [event()], endCursor: cursor === START ? evil : START });
        },
      }),
    );

    const error = await rejection(ingest("lake-cycle"));

    expect(error).toBeInstanceOf(CursorError);
    expect(error.message).toContain("the cursor cycles");
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message).toContain("\\u001b[2J\\u001b[31mX\\u000aFAKE");
  });

  it("a trace token or reason phrase echoing the Bearer token, or the assertion, is redacted", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (q, res) => {
          res.writeHead(503, `Busy ${q.headers.authorization}`, {
            "Content-Type": "text/plain",
            "X-DocuSign-TraceToken": `${q.headers.authorization}`,
          });
          res.end("busy");
        },
      }),
    );
    const events: DocuSignClientEvent[] = [];
    const { client } = hostileClient(server, { maxAttempts: 2, onEvent: (e) => events.push(e) });

    const error = await rejection(client.fetchPage({ cursor: START }));
    const seen = `${error.message}\n${JSON.stringify(events)}\n${(error as DocuSignError).traceToken}`;

    expect((error as DocuSignError).status).toBe(503);
    expect(seen).not.toContain(HOSTILE_ACCESS_TOKEN.slice(0, 20));
    expect(seen).not.toMatch(/Bearer/);
    expect(seen).toContain("[redacted credential]");

    server.handler = answerLikeDocuSign({
      token: (q, res) =>
        json(
          res,
          400,
          { error: "invalid_grant" },
          { "X-DocuSign-TraceToken": new URLSearchParams(q.body).get("assertion") ?? "" },
        ),
    });
    const grant = await rejection(hostileClient(server).client.fetchPage({ cursor: START }));
    const assertion = new URLSearchParams(server.requests.at(-1)?.body).get("assertion") ?? "";

    expect(assertion).toMatch(JWT);
    expect(grant.message).not.toContain(assertion.slice(0, 20));
    expect(grant.message).not.toMatch(JWT);
    expect(grant.message).toContain("(X-DocuSign-TraceToken: [redacted credential]");
  });

  it("X-RateLimit-Remaining 0 with a reset already past backs off instead of retrying at once", async () => {
    const past = String(Math.floor(Date.now() / 1000) - 60);
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_q, res) =>
          json(
            res,
            429,
            {},
            { "X-RateLimit-Limit": "1000", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": past },
          ),
      }),
    );
    const { client, delays } = hostileClient(server, { maxAttempts: 4 });

    const error = await rejection(client.fetchPage({ cursor: START }));

    expect((error as DocuSignError).code).toBe(ErrorCode.RateLimited);
    expect(delays).toEqual([500, 1000, 2000]); // random() = 0.5 of 1 s, 2 s, 4 s
  });

  it("a huge Retry-After stops the run at once: committed, stoppedBy rate-limit", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (req, res) => {
          const cursor = new URL(req.url, "http://x").searchParams.get("cursor");
          if (cursor === START) return json(res, 200, { data: [event()], endCursor: "c1" });
          json(res, 429, {}, { "Retry-After": "99999999999" });
        },
      }),
    );
    const started = Date.now();

    const summary = await ingest("lake-retry-after");

    expect(summary.stoppedBy).toBe("rate-limit");
    expect(summary.events).toBe(1);
    expect(summary.cursor).toBe("c1");
    expect(gets()).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
  }, 60_000);

  it("HTTP 407 names its status, is not retried and promises no retry", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_q, res) => {
          res.writeHead(407, { "Proxy-Authenticate": "Basic" });
          res.end();
        },
      }),
    );
    const { client, delays } = hostileClient(server);

    const error = await rejection(client.fetchPage({ cursor: START }));

    expect(error.message).toContain("HTTP 407 Proxy Authentication Required");
    expect(error.message).not.toContain("network error ()");
    expect(error.message).not.toMatch(/is retried|retried with backoff/);
    expect(gets()).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("the last message after retries run out says so instead of promising another retry", async () => {
    server = await startHostileServer(answerLikeDocuSign({ stream: (_q, res) => json(res, 503, {}) }));
    const serverError = await rejection(
      hostileClient(server, { maxAttempts: 3 }).client.fetchPage({ cursor: START }),
    );

    expect(serverError.message).toContain("HTTP 503");
    expect(serverError.message).toContain("Gave up after 3 attempts");
    expect(serverError.message).not.toMatch(/is retried|retried with backoff|; retried/);

    const closed = `http://127.0.0.1:${await freePort()}`;
    const network = await rejection(
      hostileClient({ url: closed } as HostileServer, { maxAttempts: 2 }).client.fetchPage({ cursor: START }),
    );

    expect(network.message).toContain("network error (");
    expect(network.message).toContain("Gave up after 2 attempts");
    expect(network.message).not.toMatch(/is retried/);
  });

  it("a token answer over the cap names the token endpoint and DOCUSIGN_OAUTH_URL", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        token: (_q, res) =>
          json(res, 200, { access_token: HOSTILE_ACCESS_TOKEN, padding: "x".repeat(100_000) }),
      }),
    );

    const error = await rejection(
      hostileClient(server, { maxResponseBytes: 65_536 }).client.fetchPage({ cursor: START }),
    );

    expect(error.message).toMatch(
      /POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token: HTTP 200 with a body over the 65536-byte cap/,
    );
    expect(error.message).toContain("DOCUSIGN_OAUTH_URL");
    expect(error.message).not.toContain("PAGE_LIMIT");
    expect(error.message).not.toContain("DOCUSIGN_MONITOR_URL");
  });

  it("an OAuth URL with a path prefix keeps it for the token request, as the stream and consent URL do", async () => {
    server = await startHostileServer((req, res) => {
      if (!req.url.startsWith("/prefix/")) return json(res, 404, { error: "not here" });
      if (req.method === "POST" && req.url === "/prefix/oauth/token") {
        return json(res, 200, { access_token: HOSTILE_ACCESS_TOKEN, expires_in: 3600 });
      }
      json(res, 200, { data: [event()], endCursor: "e" });
    });
    const { client } = hostileClient(server, {
      oauthUrl: `${server.url}/prefix/`,
      monitorUrl: `${server.url}/prefix`,
    });

    const page = await client.fetchPage({ cursor: START });

    expect(page.events).toHaveLength(1);
    expect(server.requests.map((r) => `${r.method} ${r.url.split("?")[0]}`)).toEqual([
      "POST /prefix/oauth/token",
      "GET /prefix/api/v2.0/datasets/monitor/stream",
    ]);
  });

  it.each(["..", ".", "", "a/b", "7f46f1ee-828e-41d4-9d85-755fa1814fd4/../.."])(
    "an organization id %j that is not a GUID is refused before any request",
    async (organizationId) => {
      server = await startHostileServer();

      expect(() => hostileClient(server, { organizationId })).toThrow(ConfigError);
      expect(() => hostileClient(server, { organizationId })).toThrow(
        /DOCUSIGN_ORGANIZATION_ID \(--organization-id/,
      );
      expect(server.requests).toHaveLength(0);
    },
  );

  it("a userinfo answer naming an organization id that is not a GUID is refused before any stream request", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        userinfo: (_q, res) => json(res, 200, { accounts: [{ organization: { organization_id: "../.." } }] }),
      }),
    );

    const error = await rejection(ingest("lake-userinfo"));

    expect((error as DocuSignError).code).toBe(ErrorCode.BadResponse);
    expect(error.message).toContain('userinfo names the organization id "../..", which is not a GUID');
    expect(gets()).toHaveLength(0);
  });

  it("a page with both data and resultData holding events is refused; nothing is stored", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_q, res) =>
          json(res, 200, { data: [event()], resultData: [event(), event()], endCursor: "e" }),
      }),
    );

    const error = await rejection(ingest("lake-both"));

    expect((error as DocuSignError).code).toBe(ErrorCode.BadResponse);
    expect(error.message).toContain("both data (1 events) and resultData (2 events)");
    expect(await storedObjects("lake-both")).toEqual([]);
    expect(gets()).toHaveLength(1); // not retried
  });

  it("a page with events in data and an empty resultData keeps data's events", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_q, res) => json(res, 200, { data: [event(), event()], resultData: [], endCursor: "e" }),
      }),
    );

    const page = await hostileClient(server).client.fetchPage({ cursor: START });

    expect(page.events).toHaveLength(2);
  });

  it("a gzip Content-Encoding on a plain body is called that, not a network problem", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_q, res) => {
          res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
          res.end(JSON.stringify({ data: [], endCursor: "e" }));
        },
      }),
    );

    const error = await rejection(
      hostileClient(server, { maxAttempts: 1 }).client.fetchPage({ cursor: START }),
    );

    expect(error.message).toContain('could not be decoded as its Content-Encoding "gzip" says');
    expect(error.message).not.toContain("DNS");
  });

  it("a 304 is not called a redirect, and a 204 is not called a refusal", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_q, res) => {
          res.writeHead(304);
          res.end();
        },
      }),
    );

    const notModified = await rejection(hostileClient(server).client.fetchPage({ cursor: START }));

    expect(notModified.message).toContain("HTTP 304");
    expect(notModified.message).toContain("not a redirect");
    expect(notModified.message).not.toMatch(/HTTP 304 redirect/);

    server.handler = answerLikeDocuSign({
      stream: (_q, res) => {
        res.writeHead(204);
        res.end();
      },
    });
    const noContent = await rejection(hostileClient(server).client.fetchPage({ cursor: START }));

    expect(noContent.message).toContain("HTTP 204");
    expect(noContent.message).toContain("success without a page");
    expect(noContent.message).not.toContain("refused the request");
  });

  it("an EC key in PKCS#8 is called an EC key, not an RSA key", () => {
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const pem = ec.privateKey.export({ type: "pkcs8", format: "pem" }).toString();

    const error = (() => {
      try {
        parsePrivateKey(pem, "key file ec.pem");
      } catch (e) {
        return e as Error;
      }
      return undefined;
    })();

    expect(error?.message).toContain("The private key in key file ec.pem is an EC key, not an RSA key");
    expect(error?.message).not.toContain("is ec an");
  });
});

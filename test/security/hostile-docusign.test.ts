import { generateKeyPairSync } from "node:crypto";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createGzip } from "node:zlib";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { runLocalIngest } from "../../lambda/cli/run";
import { ENV, parseConfig } from "../../lambda/config";
import { parsePrivateKey } from "../../lambda/docusign/private-key";
import { ConfigError, DocuSignError, ErrorCode, PrivateKeyError } from "../../lambda/errors";
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

// Each `it` is a row of the README's "Hostile input" table: DocuSign (or whoever answers at its URL)
// sends something hostile, and monitor-lake answers with a clear error, stores nothing, prints no secret.

let server: HostileServer;
let elsewhere: HostileServer;
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-hostile-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await server?.close();
  await elsewhere?.close();
});

// biome-ignore lint/suspicious/noControlCharactersInRegex: looking for control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

describe("hostile DocuSign answers", () => {
  it("a 307 from /oauth/token is not followed: the assertion never reaches the other host", async () => {
    elsewhere = await startHostileServer();
    server = await startHostileServer(
      answerLikeDocuSign({
        token: (_req, res) => {
          res.writeHead(307, { Location: `${elsewhere.url}/steal` });
          res.end();
        },
      }),
    );

    const error = await rejection(hostileClient(server).client.fetchPage({ cursor: "start" }));

    expect(error).toBeInstanceOf(DocuSignError);
    expect((error as DocuSignError).code).toBe(ErrorCode.BadResponse);
    expect(error.message).toContain(`HTTP 307 redirect (Location host ${new URL(elsewhere.url).host})`);
    expect(error.message).toContain("never follows redirects");
    expect(elsewhere.requests).toHaveLength(0);
    expect(server.requests).toHaveLength(1); // not retried
  });

  it("a redirect from the stream is not followed: nothing from the other origin is stored", async () => {
    elsewhere = await startHostileServer(); // would answer with a page of events
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_req, res) => {
          res.writeHead(302, { Location: `${elsewhere.url}/api/v2.0/datasets/monitor/stream?cursor=x` });
          res.end();
        },
      }),
    );
    const keyFile = join(dir, "key.pem");
    await writeFile(keyFile, testKeyPair().pkcs1Pem, { mode: 0o600 });
    const out = join(dir, "lake-redirect");
    const config = parseConfig(
      {
        [ENV.oauthUrl]: server.url,
        [ENV.monitorUrl]: server.url,
        [ENV.integrationKey]: "11111111-2222-3333-4444-555555555555",
        [ENV.userId]: "66666666-7777-8888-9999-000000000000",
        [ENV.privateKeyFile]: keyFile,
        [ENV.startCursor]: "2024-01-01T00:00:00Z",
      },
      "local",
    );

    const error = await rejection(runLocalIngest({ config, out }));

    expect(error.message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/api\/v2\.0\/datasets\/monitor\/stream: HTTP 302 redirect/,
    );
    expect(elsewhere.requests).toHaveLength(0);
    const stored = await readdir(out, { recursive: true }).catch(() => []);
    expect(stored.filter((f) => String(f).endsWith(".json.gz"))).toEqual([]);
  });

  it("an access_token with CR/LF is refused without being printed", async () => {
    const token = `${HOSTILE_ACCESS_TOKEN}\r\nX-Injected: 1`;
    server = await startHostileServer(
      answerLikeDocuSign({ token: (_req, res) => json(res, 200, { access_token: token, expires_in: 3600 }) }),
    );

    const error = await rejection(hostileClient(server).client.fetchPage({ cursor: "start" }));

    expect((error as DocuSignError).code).toBe(ErrorCode.BadResponse);
    expect(error.message).toContain("access_token that is not a bearer token");
    expect(error.message).not.toContain(HOSTILE_ACCESS_TOKEN.slice(0, 20));
    expect(server.requests.filter((r) => r.method === "GET")).toHaveLength(0);
  });

  it("ANSI and OSC escapes in error_description are stripped from the error", async () => {
    const forged =
      "bad\u001b[2K\u001b[1A\r\nmonitor-lake: Caught up\u001b]8;;http://evil\u0007link\u001b]8;;\u0007\u009b31m";
    server = await startHostileServer(
      answerLikeDocuSign({
        token: (_req, res) =>
          json(
            res,
            400,
            { error: "invalid_grant", error_description: forged },
            { "X-DocuSign-TraceToken": "t\u009b2J" },
          ),
      }),
    );

    const error = await rejection(hostileClient(server).client.fetchPage({ cursor: "start" }));

    expect((error as DocuSignError).code).toBe(ErrorCode.AuthFailed);
    expect(error.message).not.toMatch(CONTROL);
    expect(error.message).toContain('"invalid_grant: bad monitor-lake: Caught uplink');
    expect(error.message).toContain("(X-DocuSign-TraceToken: t)"); // the C1 CSI "\u009b2J" is dropped whole
  });

  it("control characters in an HTML error page and its reason phrase are stripped", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_req, res) => {
          res.writeHead(403, "Forbidden\u0085", { "Content-Type": "text/html" });
          res.end("<html><body><h1>Denied\u001b[31m</h1>\u0007\u001b]0;owned\u0007</body></html>");
        },
      }),
    );

    const error = await rejection(hostileClient(server).client.fetchPage({ cursor: "start" }));

    expect((error as DocuSignError).code).toBe(ErrorCode.Forbidden);
    expect(error.message).toContain('HTTP 403 "Denied"');
    expect(error.message).not.toMatch(CONTROL);

    server.handler = answerLikeDocuSign({
      stream: (_req, res) => {
        // Raw bytes: Node's own writeHead would not send a C1 control (UTF-8 encoded) in the reason phrase.
        const body = "upstream\u001b[5m down";
        res.socket?.end(
          Buffer.from(
            `HTTP/1.1 502 Bad Gateway\u009b2J\u0085\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
            "utf8",
          ),
        );
      },
    });
    const serverError = await rejection(
      hostileClient(server, { maxAttempts: 1 }).client.fetchPage({ cursor: "s" }),
    );

    expect(serverError.message).toContain('HTTP 502 Bad Gateway from DocuSign "upstream down"');
    expect(serverError.message).not.toMatch(CONTROL);
  });

  it("a gzip body inflating to 300 MB stops at the 32 MiB cap with a clear error, memory bounded", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_req, res) => {
          res.writeHead(200, { "Content-Type": "application/json", "Content-Encoding": "gzip" });
          const gzip = createGzip({ level: 1 });
          gzip.pipe(res);
          const zeros = Buffer.alloc(1024 * 1024, 0x20);
          let sent = 0;
          const pump = (): void => {
            while (sent < 300) {
              sent++;
              if (!gzip.write(zeros)) return void gzip.once("drain", pump);
            }
            gzip.end();
          };
          res.on("close", () => gzip.destroy());
          pump();
        },
      }),
    );
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);

    const error = await rejection(hostileClient(server).client.fetchPage({ cursor: "start" }));
    clearInterval(sampler);

    expect((error as DocuSignError).code).toBe(ErrorCode.BadResponse);
    expect(error.message).toMatch(
      /HTTP 200 with a body over the 33554432-byte cap \(stopped reading after \d+ decoded bytes\)/,
    );
    expect(error.message).toContain("lower PAGE_LIMIT (--limit) or raise MAX_RESPONSE_BYTES");
    expect(server.requests.filter((r) => r.method === "GET")).toHaveLength(1); // not retried
    expect(peak - before).toBeLessThan(256 * 1024 * 1024);
  }, 30_000);

  it("the cap is configurable: MAX_RESPONSE_BYTES reaches the client", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_req, res) => json(res, 200, { data: [{ x: "y".repeat(200_000) }], endCursor: "e" }),
      }),
    );
    const config = parseConfig(
      {
        [ENV.integrationKey]: "k",
        [ENV.userId]: "u",
        [ENV.privateKeyFile]: "f",
        [ENV.maxResponseBytes]: "65536",
      },
      "local",
    );

    const error = await rejection(
      hostileClient(server, { maxResponseBytes: config.docusign.maxResponseBytes }).client.fetchPage({
        cursor: "s",
      }),
    );

    expect(error.message).toContain("over the 65536-byte cap");
    expect(() => parseConfig({ [ENV.maxResponseBytes]: "12" }, "local")).toThrow(
      /MAX_RESPONSE_BYTES is "12": use a whole number from 65536 to 536870912/,
    );
  });

  it("a 1024-bit RSA key is a configuration error at once: no request, no retry", async () => {
    const weak = generateKeyPairSync("rsa", { modulusLength: 1024 });
    const pem = weak.privateKey.export({ type: "pkcs1", format: "pem" }).toString();
    expect(() => parsePrivateKey(pem, "key file weak.pem")).toThrow(
      /weak\.pem is a 1024-bit RSA key; RS256 signing \(and DocuSign\) needs at least 2048 bits/,
    );
    server = await startHostileServer();
    const { client, delays } = hostileClient(server, { privateKey: weak.privateKey });
    const started = Date.now();

    const error = await rejection(client.fetchPage({ cursor: "start" }));

    expect(error).toBeInstanceOf(PrivateKeyError);
    expect((error as PrivateKeyError).code).toBe(ErrorCode.KeyInvalid);
    expect(error.message).toContain("cannot sign DocuSign's RS256 JWT assertion");
    expect(server.requests).toHaveLength(0);
    expect(delays).toEqual([]);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("a complete page without a data array or endCursor fails at once with that message", async () => {
    server = await startHostileServer(
      answerLikeDocuSign({ stream: (_req, res) => json(res, 200, { data: "not a list", endCursor: 42 }) }),
    );
    const { client, delays } = hostileClient(server);

    const error = await rejection(client.fetchPage({ cursor: "start" }));

    expect(error.message).toMatch(
      /the page has no data array or no endCursor \(X-DocuSign-TraceToken: [0-9a-f-]{36}\)/,
    );
    expect(server.requests.filter((r) => r.method === "GET")).toHaveLength(1);
    expect(delays).toEqual([]);
  });

  it("a body cut off in transit is still retried", async () => {
    let calls = 0;
    server = await startHostileServer(
      answerLikeDocuSign({
        stream: (_req, res) => {
          calls++;
          if (calls === 1) {
            res.writeHead(200, { "Content-Type": "application/json" });
            return void res.end('{"data":[{"eventId":"a"');
          }
          json(res, 200, { data: [], endCursor: "e" });
        },
      }),
    );

    const page = await hostileClient(server).client.fetchPage({ cursor: "start" });

    expect(page.endCursor).toBe("e");
    expect(calls).toBe(2);
  });

  it.each(["-5", "-0.5", "soon", "1e400", "Thu, 01 Jan 1970 00:00:00 GMT"])(
    "Retry-After %j is ignored: the exponential backoff waits instead",
    async (retryAfter) => {
      server = await startHostileServer(
        answerLikeDocuSign({
          stream: (_req, res) => json(res, 503, { message: "busy" }, { "Retry-After": retryAfter }),
        }),
      );
      const { client, delays } = hostileClient(server, { maxAttempts: 4 });

      const error = await rejection(client.fetchPage({ cursor: "start" }));

      expect((error as DocuSignError).status).toBe(503);
      expect(delays).toEqual([500, 1000, 2000]); // random() = 0.5 of 1 s, 2 s, 4 s
    },
  );

  it("credentials in a DocuSign URL are refused without being echoed", () => {
    for (const name of [ENV.monitorUrl, ENV.oauthUrl, ENV.redirectUri]) {
      const error = (() => {
        try {
          parseConfig(
            {
              [ENV.integrationKey]: "k",
              [ENV.userId]: "u",
              [ENV.privateKeyFile]: "f",
              [name]: "https://admin:hunter2@lens-d.docusign.net",
            },
            "local",
          );
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(`${name} contains a user name or password`);
      expect((error as ConfigError).message).not.toContain("hunter2");
      expect((error as ConfigError).message).not.toContain("admin");
    }
    expect(() => hostileClient({ url: "https://a:b@127.0.0.1:1" } as HostileServer)).toThrow(ConfigError);
  });
});

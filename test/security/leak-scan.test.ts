import { randomUUID } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENV } from "../../lambda/config";
import type { DocuSignClientEvent } from "../../lambda/docusign/docusign-client";
import { createHandler } from "../../lambda/handler/handler";
import { awsClients, createBucket, createSecret, createStateTable, readLake } from "../helpers/aws";
import {
  answerLikeDocuSign,
  HOSTILE_ACCESS_TOKEN,
  type HostileHandler,
  type HostileServer,
  hostileClient,
  json,
  startHostileServer,
} from "../helpers/hostile-docusign";
import { runCli } from "../helpers/run-cli";
import { type SimulatorFixture, startSimulator, testKeyPair } from "../helpers/simulator-fixture";

/**
 * The leak scan: real runs (CLI processes, Lambda handler invocations against moto, the DocuSign
 * client against hostile servers) whose every captured output — stdout, stderr, logs, EMF metrics,
 * S3 object metadata, state items, error messages, inspected errors with their causes, client
 * events — is collected and searched for the private key, JWTs (the assertion, access tokens),
 * `Bearer` and the access tokens issued.
 */

interface Captured {
  readonly source: string;
  readonly text: string;
}

const captured: Captured[] = [];
const secrets = new Map<string, string>(); // value -> what it is
const capture = (source: string, text: string): void => void captured.push({ source, text });

const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}/;
const BEARER = /\bBearer\b/;

/** Every leak found in `texts`: which source, and what leaked. */
function findLeaks(texts: readonly Captured[], known: ReadonlyMap<string, string>): string[] {
  const leaks: string[] = [];
  for (const { source, text } of texts) {
    for (const [value, what] of known) if (text.includes(value)) leaks.push(`${source}: ${what}`);
    if (JWT.test(text)) leaks.push(`${source}: a JWT (${JWT.exec(text)?.[0].slice(0, 12)}…)`);
    if (BEARER.test(text)) leaks.push(`${source}: the word Bearer`);
  }
  return leaks;
}

function addKeySecrets(pem: string, what: string): void {
  // Every full line of the PEM body: any one of them is key material.
  for (const line of pem.split("\n")) if (/^[A-Za-z0-9+/=]{40,}$/.test(line)) secrets.set(line, what);
}

function addAssertions(server: HostileServer): void {
  for (const r of server.requests) {
    const assertion = new URLSearchParams(r.body).get("assertion");
    if (assertion) secrets.set(assertion, "a JWT assertion");
  }
}

/** The last assertion a hostile token endpoint received, for a stream answer that echoes it. */
const echoed = { assertion: "" };

/** Hostile answers, each a case of the README's table; the token and stream answers are replaced. */
const HOSTILE_CASES: Record<string, { token?: HostileHandler; stream?: HostileHandler }> = {
  "token with CR/LF": {
    token: (_q, res) =>
      json(res, 200, { access_token: `${HOSTILE_ACCESS_TOKEN}\r\nX-A: 1`, expires_in: 3600 }),
  },
  "token with a space": {
    token: (_q, res) => json(res, 200, { access_token: `${HOSTILE_ACCESS_TOKEN} x`, expires_in: 3600 }),
  },
  "invalid_grant with escapes": {
    token: (_q, res) =>
      json(res, 400, {
        error: "invalid_grant",
        error_description: `\u001b]0;${HOSTILE_ACCESS_TOKEN}\u0007x`,
      }),
  },
  consent_required: { token: (_q, res) => json(res, 400, { error: "consent_required" }) },
  "redirect from the token endpoint": {
    token: (_q, res) => {
      res.writeHead(307, { Location: "http://127.0.0.1:9/steal" });
      res.end();
    },
  },
  "redirect from the stream": {
    stream: (_q, res) => {
      res.writeHead(302, { Location: "http://127.0.0.1:9/other" });
      res.end();
    },
  },
  "401 from the stream, twice": {
    stream: (q, res) => json(res, 401, { error: "invalid_token", echoed: q.headers.authorization }),
  },
  "503 echoing the Authorization header, retried": {
    stream: (q, res) =>
      json(res, 503, { message: `busy; you sent ${q.headers.authorization}` }, { "Retry-After": "0" }),
  },
  "503 whose trace token and reason phrase echo the Authorization header": {
    stream: (q, res) => {
      res.writeHead(503, `Busy ${q.headers.authorization}`, {
        "Content-Type": "text/plain",
        "X-DocuSign-TraceToken": `${q.headers.authorization}`,
        "Retry-After": "0",
      });
      res.end("busy");
    },
  },
  "invalid_grant whose trace token echoes the assertion": {
    token: (q, res) =>
      json(
        res,
        400,
        { error: "invalid_grant" },
        { "X-DocuSign-TraceToken": new URLSearchParams(q.body).get("assertion") ?? "" },
      ),
  },
  "stream 503 whose trace token and reason phrase echo the assertion": {
    token: (q, res) => {
      echoed.assertion = new URLSearchParams(q.body).get("assertion") ?? "";
      json(res, 200, { access_token: HOSTILE_ACCESS_TOKEN, expires_in: 3600 });
    },
    stream: (_q, res) => {
      res.writeHead(503, `Busy ${echoed.assertion.slice(0, 100)}`, {
        "X-DocuSign-TraceToken": echoed.assertion.slice(0, 100),
        "Retry-After": "0",
      });
      res.end();
    },
  },
  "page of the wrong shape": { stream: (_q, res) => json(res, 200, { data: {}, endCursor: null }) },
  "page over the cap": {
    stream: (_q, res) => json(res, 200, { data: [{ a: "x".repeat(100_000) }], endCursor: "e" }),
  },
  "HTML 400 echoing the Authorization header": {
    stream: (q, res) => {
      res.writeHead(400, { "Content-Type": "text/html" });
      res.end(`<h1>Error</h1><pre>${q.headers.authorization}</pre>`);
    },
  },
};

let dir: string;
let keyFile: string;
let fixture: SimulatorFixture | undefined;
const servers: HostileServer[] = [];
const clients = awsClients();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-leaks-"));
  const keys = testKeyPair();
  addKeySecrets(keys.pkcs1Pem, "the private key (PKCS#1)");
  addKeySecrets(keys.pkcs8Pem, "the private key (PKCS#8)");
  secrets.set(HOSTILE_ACCESS_TOKEN, "the access token");
  keyFile = join(dir, "key.pem");
  await writeFile(keyFile, keys.pkcs1Pem, { mode: 0o600 });

  // 1. The CLI against the simulator, with retries and throttling on.
  fixture = await startSimulator({
    events: 600,
    faults: { rateLimitEvery: 4, retryAfterSeconds: 0, tokenLifetimeSeconds: 2 },
  });
  const f = fixture;
  const identity = ["--integration-key", f.integrationKey, "--user-id", f.userId, "--key-file", keyFile];
  const ok = await runCli([
    "run",
    ...identity,
    "--oauth-url",
    f.url,
    "--monitor-url",
    f.url,
    "--out",
    join(dir, "lake-sim"),
    "--start",
    "2000-01-01T00:00:00Z",
    "--limit",
    "100",
    "--json",
  ]);
  capture("CLI run against the simulator (stdout)", ok.stdout);
  capture("CLI run against the simulator (stderr)", ok.stderr);

  // 2. The CLI and the client against each hostile answer.
  for (const [name, overrides] of Object.entries(HOSTILE_CASES)) {
    const server = await startHostileServer(answerLikeDocuSign(overrides));
    servers.push(server);
    const result = await runCli([
      "run",
      ...identity,
      "--oauth-url",
      server.url,
      "--monitor-url",
      server.url,
      "--out",
      join(dir, `lake-${randomUUID()}`),
      "--start",
      "2024-01-01T00:00:00Z",
      "--max-response-bytes",
      "65536",
    ]);
    capture(`CLI, ${name} (stdout)`, result.stdout);
    capture(`CLI, ${name} (stderr)`, result.stderr);
    const events: DocuSignClientEvent[] = [];
    const { client } = hostileClient(server, {
      maxAttempts: 2,
      maxResponseBytes: 65_536,
      onEvent: (e) => events.push(e),
    });
    const error = await client.fetchPage({ cursor: "2024-01-01T00:00:00Z" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    capture(`client, ${name}: message`, error instanceof Error ? error.message : "no error");
    capture(`client, ${name}: inspected error with causes`, inspect(error, { depth: 6 }));
    capture(`client, ${name}: error as JSON`, JSON.stringify(error));
    capture(`client, ${name}: client events`, JSON.stringify(events));
    addAssertions(server);
  }

  // 3. The Lambda handler against moto: a run that succeeds and runs that fail.
  const bucket = await createBucket(clients.s3);
  const table = await createStateTable(clients.dynamo);
  const secretId = await createSecret(clients.secrets, keys.pkcs1Pem);
  const baseEnv = {
    [ENV.integrationKey]: f.integrationKey,
    [ENV.userId]: f.userId,
    [ENV.privateKeySecret]: secretId,
    [ENV.bucket]: bucket,
    [ENV.stateTable]: table,
    [ENV.startCursor]: "2000-01-01T00:00:00Z",
    [ENV.pageLimit]: "200",
  };
  const invoke = async (name: string, env: Record<string, string>): Promise<void> => {
    const output = await captureOutput(async () => {
      const outcome = await createHandler({ env: { ...baseEnv, ...env }, ...clients })(
        {},
        { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => 30_000 },
      ).then(
        (r) => JSON.stringify(r),
        (e: unknown) => inspect(e, { depth: 6 }),
      );
      capture(`handler, ${name}: result or thrown error`, outcome);
    });
    capture(`handler, ${name}: logs and EMF metrics`, output);
  };
  await invoke("run against the simulator", {
    [ENV.oauthUrl]: f.url,
    [ENV.monitorUrl]: f.url,
    [ENV.stream]: "s1",
  });
  for (const name of ["token with CR/LF", "HTML 400 echoing the Authorization header", "consent_required"]) {
    const server = await startHostileServer(answerLikeDocuSign(HOSTILE_CASES[name]));
    servers.push(server);
    await invoke(name, { [ENV.oauthUrl]: server.url, [ENV.monitorUrl]: server.url, [ENV.stream]: "s2" });
    addAssertions(server);
  }
  for (const object of await readLake(clients.s3, bucket)) {
    capture(`S3 object metadata ${object.key}`, JSON.stringify(object.metadata));
  }
  for (const stream of ["s1", "s2"]) {
    const item = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: stream } } }),
    );
    capture(`state item ${stream}`, JSON.stringify(item.Item ?? {}));
  }
  for (const token of f.simulator.issuedTokens()) secrets.set(token, "an access token the simulator issued");
}, 240_000);

afterAll(async () => {
  await fixture?.simulator.stop();
  for (const s of servers) await s.close();
  await rm(dir, { recursive: true, force: true });
});

/** Everything written to stdout and stderr while `fn` runs (Powertools writes logs and EMF there). */
async function captureOutput(fn: () => Promise<void>): Promise<string> {
  const chunks: string[] = [];
  const writes = { stdout: process.stdout.write, stderr: process.stderr.write };
  for (const name of ["stdout", "stderr"] as const) {
    process[name].write = ((chunk: string | Uint8Array) => {
      chunks.push(typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8"));
      return true;
    }) as typeof process.stdout.write;
  }
  try {
    await fn();
  } finally {
    process.stdout.write = writes.stdout;
    process.stderr.write = writes.stderr;
  }
  return chunks.join("");
}

describe("leak scan over everything the runs printed, logged and stored", () => {
  it("collected real output from every kind of run", () => {
    const all = (prefix: string) =>
      captured
        .filter((c) => c.source.startsWith(prefix))
        .map((c) => c.text)
        .join("\n");
    expect(all("CLI run against the simulator")).toMatch(/"caughtUp":true/);
    expect(all("CLI run against the simulator")).toMatch(/retrying in/);
    expect(all("handler, run against the simulator")).toContain('"message":"run finished"');
    expect(all("handler, run against the simulator")).toContain('"_aws"');
    expect(all("handler, token with CR/LF")).toContain('"message":"run failed"');
    expect(all("S3 object metadata")).toContain("start-cursor");
    expect(all("state item s1")).toContain("cursor");
    for (const name of Object.keys(HOSTILE_CASES)) {
      expect(all(`CLI, ${name} (stderr)`), name).toMatch(/^monitor-lake: /m);
      expect(all(`client, ${name}: message`), name).not.toBe("no error");
    }
    expect(secrets.size).toBeGreaterThan(20); // key lines, assertions, tokens
    expect([...secrets.values()]).toContain("a JWT assertion");
  });

  it("finds no private key, JWT, Bearer or access token in any of it", () => {
    expect(findLeaks(captured, secrets)).toEqual([]);
  });

  it("would notice each kind of leak (the scanner is not blind)", () => {
    const [keyLine] = [...secrets].find(([, what]) => what.startsWith("the private key")) ?? [];
    const [assertion] = [...secrets].find(([, what]) => what === "a JWT assertion") ?? [];
    const planted: Captured[] = [
      { source: "key", text: `oops ${keyLine}` },
      { source: "assertion", text: `assertion=${assertion}` },
      { source: "header", text: "Authorization: Bearer abc" },
      { source: "token", text: `t=${HOSTILE_ACCESS_TOKEN.slice(0, 60)}` },
    ];

    const leaks = findLeaks(planted, secrets);

    expect(leaks).toContain("key: the private key (PKCS#1)");
    expect(leaks).toContain("assertion: a JWT assertion");
    expect(leaks).toContain("header: the word Bearer");
    expect(leaks.some((l) => l.startsWith("token: a JWT"))).toBe(true);
  });
});

import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { DocuSignClient, type DocuSignClientOptions } from "../../lambda/docusign/docusign-client";
import { testKeyPair } from "./simulator-fixture";

/** What a hostile server saw: method, path and the body (the JWT assertion for the token request). */
export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export type HostileHandler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

/** A loopback HTTP server that answers as the test says; not the simulator, so anything goes. */
export interface HostileServer {
  readonly url: string;
  readonly requests: SeenRequest[];
  handler: HostileHandler;
  close(): Promise<void>;
}

/** Looks like a DocuSign access token (a JWT): the leak scan looks for exactly this shape. */
export const HOSTILE_ACCESS_TOKEN =
  "eyJ0eXAiOiJNVCIsImFsZyI6IlJTMjU2In0.eyJzdWIiOiJob3N0aWxlLXRlc3QifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";

export async function startHostileServer(
  handler: HostileHandler = answerLikeDocuSign(),
): Promise<HostileServer> {
  const requests: SeenRequest[] = [];
  const state = { handler };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const seen = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      requests.push(seen);
      Promise.resolve(state.handler(seen, res)).catch((error: unknown) => {
        res.destroy(error instanceof Error ? error : new Error(String(error)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get handler() {
      return state.handler;
    },
    set handler(h: HostileHandler) {
      state.handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    "Content-Type": "application/json",
    "X-DocuSign-TraceToken": randomUUID(),
    ...headers,
  });
  res.end(JSON.stringify(body));
}

/**
 * A well-behaved DocuSign: a token for POST /oauth/token, a user in no organization for GET
 * /oauth/userinfo (so a run without an organization id reads the lens stream), then `page` for the
 * stream. Hostile cases replace one of the answers.
 */
export function answerLikeDocuSign(
  overrides: { token?: HostileHandler; userinfo?: HostileHandler; stream?: HostileHandler } = {},
): HostileHandler {
  return (req, res) => {
    if (req.method === "POST" && req.url === "/oauth/token") {
      if (overrides.token) return overrides.token(req, res);
      return json(res, 200, { access_token: HOSTILE_ACCESS_TOKEN, token_type: "Bearer", expires_in: 3600 });
    }
    if (req.method === "GET" && req.url === "/oauth/userinfo") {
      if (overrides.userinfo) return overrides.userinfo(req, res);
      return json(res, 200, { sub: "66666666-7777-8888-9999-000000000000", accounts: [{ account_id: "a" }] });
    }
    if (overrides.stream) return overrides.stream(req, res);
    const cursor = new URL(req.url, "http://x").searchParams.get("cursor");
    if (cursor === "end") return json(res, 200, { data: [], endCursor: "end" });
    return json(res, 200, {
      data: [{ eventId: randomUUID(), timestamp: new Date().toISOString(), action: "Login" }],
      endCursor: "end",
    });
  };
}

/**
 * A client against the hostile server: no real sleeping (delays recorded), jitter fixed at one half,
 * the lens stream read without the userinfo lookup unless an override says otherwise.
 */
export function hostileClient(
  server: HostileServer,
  overrides: Partial<DocuSignClientOptions> = {},
): { client: DocuSignClient; delays: number[] } {
  const delays: number[] = [];
  const client = new DocuSignClient({
    oauthUrl: server.url,
    monitorUrl: server.url,
    integrationKey: "11111111-2222-3333-4444-555555555555",
    userId: "66666666-7777-8888-9999-000000000000",
    privateKey: testKeyPair().privateKey,
    redirectUri: "https://example.com/callback",
    clock: { now: () => Date.now() },
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...(overrides.organizationId === undefined ? { streamApi: "lens" as const } : {}),
    ...overrides,
  });
  return { client, delays };
}

/** The rejection of `promise`, which must reject. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a rejection, got ${String(outcome)}`);
  return outcome;
}

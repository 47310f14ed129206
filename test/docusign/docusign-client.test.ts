import { generateKeyPairSync } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MonitorEvent } from "../../lambda/core/ports";
import type { DocuSignClient } from "../../lambda/docusign/docusign-client";
import { parsePrivateKey } from "../../lambda/docusign/private-key";
import { ConsentRequiredError, DeadlineError, DocuSignError, ErrorCode } from "../../lambda/errors";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

let fixture: SimulatorFixture | undefined;
afterEach(async () => {
  await fixture?.simulator.stop();
  fixture = undefined;
});

async function drain(client: DocuSignClient, cursor = "2000-01-01T00:00:00Z"): Promise<MonitorEvent[]> {
  const events: MonitorEvent[] = [];
  for (let i = 0; i < 1000; i++) {
    const page = await client.fetchPage({ cursor });
    events.push(...page.events.map((e) => e.event));
    if (page.events.length === 0 || page.endCursor === cursor) return events;
    cursor = page.endCursor;
  }
  throw new Error("never caught up");
}

async function failure(promise: Promise<unknown>): Promise<DocuSignError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DocuSignError);
  return error as DocuSignError;
}

describe("DocuSign client against the simulator", () => {
  it("pages the legacy lens stream (data) with limit 2000 until caught up, one token for all pages", async () => {
    fixture = await startSimulator({ events: 4500 });

    const events = await drain(fixture.client());

    expect(events).toEqual(fixture.simulator.events());
    expect(fixture.simulator.stats.lastLimit).toBe(2000);
    expect(fixture.simulator.stats.pagesServed).toBe(4); // 2000 + 2000 + 500 + the empty page
    expect(fixture.simulator.stats.tokensIssued).toBe(1);
  });

  it("pages the organization stream (resultData) when an organization id is configured", async () => {
    fixture = await startSimulator({ events: 300, organizationId: "0b7d0c5e-1111-4c3b-9e55-6c2c1c7a9a01" });

    const events = await drain(fixture.client({ limit: 100 }));

    expect(events).toHaveLength(300);
    expect(events[0]).toHaveProperty("isUserMemberOfDomain");
    expect(fixture.simulator.stats.lastLimit).toBe(100);
  });

  it("accepts pages larger or smaller than the limit asked for", async () => {
    fixture = await startSimulator({ events: 1000, pageSizeOverride: 333 });

    expect(await drain(fixture.client({ limit: 2000 }))).toHaveLength(1000);
  });

  it.each(["pkcs1", "pkcs8"] as const)("signs the assertion with a %s PEM key", async (format) => {
    fixture = await startSimulator({ events: 10 });
    const pem = format === "pkcs1" ? fixture.keys.pkcs1Pem : fixture.keys.pkcs8Pem;
    expect(pem).toContain(format === "pkcs1" ? "BEGIN RSA PRIVATE KEY" : "BEGIN PRIVATE KEY");

    const events = await drain(fixture.client({ privateKey: parsePrivateKey(pem, "test") }));

    expect(events).toHaveLength(10);
  });

  it("explains invalid_grant when the key does not match the integration", async () => {
    fixture = await startSimulator({ events: 10 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;

    const error = await failure(fixture.client({ privateKey: other }).fetchPage({ cursor: "" }));

    expect(error.code).toBe(ErrorCode.AuthFailed);
    expect(error.message).toContain("invalid_grant");
    expect(error.message).toContain("private key belongs to integration key");
    expect(error.message).toMatch(/X-DocuSign-TraceToken: [0-9a-f-]{36}/);
    expect(error.traceToken).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("prints the exact consent URL on consent_required", async () => {
    fixture = await startSimulator({ events: 10, faults: { consentRequired: true } });

    const error = await failure(fixture.client().fetchPage({ cursor: "" }));

    expect(error).toBeInstanceOf(ConsentRequiredError);
    const url = `${fixture.url}/oauth/auth?response_type=code&scope=signature%20impersonation&client_id=${fixture.integrationKey}&redirect_uri=https%3A%2F%2Fexample.com%2Fcallback`;
    expect((error as ConsentRequiredError).consentUrl).toBe(url);
    expect(error.message).toContain(url);
    expect(error.message).toContain("X-DocuSign-TraceToken");
    expect(error.retryable).toBe(false);
  });

  it("reuses the token until shortly before it expires, then gets a new one", async () => {
    fixture = await startSimulator({ events: 50, faults: { tokenLifetimeSeconds: 100 } });
    let now = Date.now();
    const client = fixture.client({ clock: { now: () => now }, limit: 10 });

    await client.fetchPage({ cursor: "" });
    now += 80_000;
    await client.fetchPage({ cursor: "" });
    expect(fixture.simulator.stats.tokensIssued).toBe(1);
    now += 11_000; // past 90% of the lifetime
    await client.fetchPage({ cursor: "" });

    expect(fixture.simulator.stats.tokensIssued).toBe(2);
    expect(fixture.simulator.stats.unauthorized).toBe(0);
  });

  it("re-authenticates once and retries the page on a 401", async () => {
    let simNow = Date.now();
    fixture = await startSimulator({ events: 50, now: () => simNow, faults: { tokenLifetimeSeconds: 60 } });
    const client = fixture.client();
    await client.fetchPage({ cursor: "" });
    simNow += 120_000; // the server's token has expired; the client's clock does not know

    const page = await client.fetchPage({ cursor: "" });

    expect(page.events).toHaveLength(50);
    expect(fixture.simulator.stats.unauthorized).toBe(1);
    expect(fixture.simulator.stats.tokensIssued).toBe(2);
    expect(fixture.events).toContainEqual(expect.objectContaining({ type: "auth-failure" }));
  });

  it("retries 429 after the Retry-After DocuSign gave", async () => {
    fixture = await startSimulator({ events: 30, faults: { rateLimitEvery: 2, retryAfterSeconds: 3 } });

    const events = await drain(fixture.client({ limit: 10 }));

    expect(events).toHaveLength(30);
    expect(fixture.delays.length).toBeGreaterThan(0);
    expect(fixture.delays.every((d) => d === 3000)).toBe(true);
    expect(fixture.events.filter((e) => e.type === "throttled").length).toBe(fixture.delays.length);
  });

  it("retries 5xx with HTML bodies using exponential backoff with full jitter", async () => {
    fixture = await startSimulator({ events: 30, faults: { serverErrorEvery: 2 } });

    const events = await drain(fixture.client({ limit: 10, random: () => 0.5, baseDelayMs: 100 }));

    expect(events).toHaveLength(30);
    expect(fixture.delays.every((d) => d === 50)).toBe(true); // half of the first step: jittered
  });

  it("names the request, status, DocuSign's text and trace token when 5xx retries run out", async () => {
    fixture = await startSimulator({ events: 30, faults: { serverErrorEvery: 1 } });

    const error = await failure(fixture.client({ maxAttempts: 3 }).fetchPage({ cursor: "" }));

    expect(error.code).toBe(ErrorCode.ServerError);
    expect(error.status).toBe(503);
    expect(error.message).toContain(`GET ${fixture.url}/api/v2.0/datasets/monitor/stream: HTTP 503`);
    expect(error.message).toContain("Service Unavailable");
    expect(error.message).not.toContain("<html>");
    expect(error.message).toContain(`X-DocuSign-TraceToken: ${error.traceToken}`);
    expect(fixture.delays).toHaveLength(2);
    const delaysGrow = fixture.client({ random: () => 0.999, maxAttempts: 4, baseDelayMs: 100 });
    fixture.delays.length = 0;
    await failure(delaysGrow.fetchPage({ cursor: "" }));
    expect(fixture.delays).toEqual([99, 199, 399]);
  });

  it("parses each event of a page once and never the whole page body", async () => {
    fixture = await startSimulator({ events: 300 });
    const client = fixture.client({ limit: 100 });
    const parse = vi.spyOn(JSON, "parse");
    try {
      expect(await drain(client)).toHaveLength(300);

      const texts = parse.mock.calls.map(([text]) => String(text));
      expect(texts.filter((t) => t.includes('"endCursor"') && t.length > 100)).toEqual([]);
      expect(texts.filter((t) => t.startsWith("{") && t.includes('"eventId"'))).toHaveLength(300);
    } finally {
      parse.mockRestore();
    }
  });

  it("retries a truncated body and fails clearly when it persists", async () => {
    fixture = await startSimulator({ events: 30, faults: { truncateEvery: 2 } });
    expect(await drain(fixture.client({ limit: 10 }))).toHaveLength(30);

    fixture.simulator.faults = { truncateEvery: 1 };
    const error = await failure(fixture.client({ maxAttempts: 2 }).fetchPage({ cursor: "" }));
    expect(error.code).toBe(ErrorCode.BadResponse);
    expect(error.message).toContain("truncated or unreadable");
  });

  it("the simulator's cursor cycle goes back, never ahead of the cursor sent (that would skip events)", async () => {
    fixture = await startSimulator({ events: 40 });
    const client = fixture.client({ limit: 10 });
    const first = await client.fetchPage({ cursor: "2000-01-01T00:00:00Z" });
    const second = await client.fetchPage({ cursor: first.endCursor });
    await client.fetchPage({ cursor: second.endCursor });
    // A client whose state was reset starts again at the beginning: a "cycle" to the cursor sent before
    // (second's end, ahead of this one) would skip events 10-19, so the page ends where it should.
    fixture.simulator.faults = { cycleEvery: 1 };
    const again = await client.fetchPage({ cursor: "2000-01-01T00:00:00Z" });
    expect(again.endCursor).toBe(first.endCursor);
    // Behind the cursor sent: the cycle A -> B -> A.
    const cycled = await client.fetchPage({ cursor: first.endCursor });
    expect(cycled.events).toHaveLength(10);
    expect(cycled.endCursor).toBe("2000-01-01T00:00:00Z");
  });

  it("times out slow pages and retries them", async () => {
    fixture = await startSimulator({ events: 30, faults: { slowEvery: 2, slowMs: 400 } });

    const events = await drain(fixture.client({ limit: 10, requestTimeoutMs: 150 }));

    expect(events).toHaveLength(30);
    expect(fixture.events.some((e) => e.type === "retry" && e.reason === ErrorCode.Timeout)).toBe(true);
  });

  it("aborts a page at the deadline with a DeadlineError", async () => {
    fixture = await startSimulator({ events: 30, faults: { slowEvery: 1, slowMs: 2000 } });
    const started = Date.now();

    const error = await fixture
      .client()
      .fetchPage({ cursor: "", deadline: Date.now() + 300 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeadlineError);
    expect(Date.now() - started).toBeLessThan(1500);
  });

  it("never waits for a retry past the deadline", async () => {
    fixture = await startSimulator({ events: 30, faults: { rateLimitEvery: 1, retryAfterSeconds: 30 } });

    const error = await failure(fixture.client().fetchPage({ cursor: "", deadline: Date.now() + 5000 }));

    expect(error.code).toBe(ErrorCode.RateLimited);
    expect(fixture.delays).toEqual([]);
  });

  it("stops cleanly at the deadline when a 5xx retry would not fit before it", async () => {
    fixture = await startSimulator({ events: 30, faults: { serverErrorEvery: 1 } });

    const error = await fixture
      .client({ baseDelayMs: 10_000, random: () => 0.9 })
      .fetchPage({ cursor: "", deadline: Date.now() + 3000 })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(DeadlineError);
    expect(((error as DeadlineError).cause as DocuSignError).code).toBe(ErrorCode.ServerError);
    expect(fixture.delays).toEqual([]);
  });

  it("does not wait an hour for the rate-limit reset when the account's requests are spent", async () => {
    fixture = await startSimulator({ events: 30, rateLimit: 10, rateLimitUsed: 10 });

    const error = await failure(fixture.client().fetchPage({ cursor: "" }));

    expect(error.code).toBe(ErrorCode.RateLimited);
    expect(error.retryAfterMs).toBeGreaterThan(0);
    expect(fixture.delays).toEqual([]);
  });

  it("reports the rate-limit headers with every page", async () => {
    fixture = await startSimulator({ events: 30, rateLimit: 1000, rateLimitUsed: 100 });

    const page = await fixture.client().fetchPage({ cursor: "" });

    expect(page.rateLimit).toMatchObject({ limit: 1000, remaining: 899 });
    expect(page.rateLimit?.resetAtMs).toBeGreaterThan(Date.now());
  });

  it("explains a 403 with the admin-role and entitlement rules, without retrying", async () => {
    fixture = await startSimulator({ events: 10, faults: { noEntitlement: true } });

    const error = await failure(fixture.client().fetchPage({ cursor: "" }));

    expect(error.code).toBe(ErrorCode.Forbidden);
    expect(error.message).toContain("Organization does not have Monitor entitlement");
    expect(error.message).toContain("Organization Administrator or Security Reports Administrator");
    expect(fixture.delays).toEqual([]);
  });

  it("passes duplicate events of a page through for the core to drop", async () => {
    fixture = await startSimulator({ events: 30, faults: { duplicateEvery: 1 } });

    const page = await fixture.client({ limit: 10 }).fetchPage({ cursor: "" });

    expect(page.events).toHaveLength(11);
    expect(new Set(page.events.map((e) => e.event.eventId)).size).toBe(10);
  });

  it("retries network errors and then names the host", async () => {
    fixture = await startSimulator({ events: 10 });
    const url = fixture.url;
    await fixture.simulator.stop();

    const error = await failure(
      fixture.client({ oauthUrl: url, monitorUrl: url, maxAttempts: 2 }).fetchPage({ cursor: "" }),
    );

    expect(error.code).toBe(ErrorCode.NetworkError);
    expect(error.message).toContain(`POST ${url}/oauth/token: network error`);
    expect(fixture.delays).toHaveLength(1);
  });
});

describe("parsePrivateKey", () => {
  it("rejects text that is not a PEM key, a passphrase-protected key and a non-RSA key", () => {
    expect(() => parsePrivateKey("hello", "secret x")).toThrow(/secret x does not hold a PEM private key/);
    const encrypted = generateKeyPairSync("rsa", {
      modulusLength: 1024,
      privateKeyEncoding: { type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "pw" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    }).privateKey;
    expect(() => parsePrivateKey(encrypted, "k")).toThrow(/protected by a passphrase/);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
      type: "pkcs8",
      format: "pem",
    });
    expect(() => parsePrivateKey(ec.toString(), "k")).toThrow(/is an EC key, not an RSA key/);
    const damaged = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----";
    expect(() => parsePrivateKey(damaged, "k")).toThrow(/could not be parsed/);
  });
});

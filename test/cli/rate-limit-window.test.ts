import { randomUUID } from "node:crypto";
import { mkdtemp, readdir, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runLocalIngest } from "../../lambda/cli/run";
import { parseRunConfig } from "../../lambda/cli/settings";
import { ENV } from "../../lambda/config";
import type { Clock } from "../../lambda/core/ports";
import { RATE_LIMIT_WINDOW_MS } from "../../lambda/core/rate-limit-window";
import { createFileRateLimitStore } from "../../lambda/local/file-rate-limit-store";
import { envForSimulator } from "../../lambda/simulator/client-env";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

const started: SimulatorFixture[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((f) => f.simulator.stop()));
});

async function listAll(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return entries.map(String).sort();
}

describe("the CLI keeps the rate-limit reserve for the whole window, file state (issue 18 item 16)", () => {
  it("several runs in one window and two streams of one account: no request after the reserve until the reset", async () => {
    const clock: Clock & { ms: number } = {
      ms: Date.UTC(2024, 5, 3, 12, 10, 0),
      now: () => clock.ms,
      monotonic: () => performance.now(),
    };
    const organizationId = randomUUID();
    const f = await startSimulator({
      events: 5000,
      organizationId,
      now: () => clock.ms,
      rateLimit: 100,
      rateLimitUsed: 70,
    });
    started.push(f);
    const out = await mkdtemp(join(tmpdir(), "monitor-lake-rate-window-"));
    const keyFile = join(out, "..", `${randomUUID()}.pem`);
    await writeFile(keyFile, f.keys.pkcs1Pem, { mode: 0o600 });
    const run = (stream: string, extra: Record<string, string>) =>
      runLocalIngest({
        config: parseRunConfig(
          envForSimulator(f, {
            [ENV.stream]: stream,
            [ENV.privateKeyFile]: keyFile,
            [ENV.pageLimit]: "100",
            [ENV.startCursor]: "2000-01-01T00:00:00Z",
            ...extra,
          }),
        ),
        out,
        clock,
      });
    const requests = () =>
      f.simulator.stats.streamRequests + f.simulator.stats.tokenRequests + f.simulator.stats.userInfoRequests;
    const reset = new Date(Date.UTC(2024, 5, 3, 13, 0, 0)).toISOString();

    const first = await run("org", { [ENV.organizationId]: organizationId });
    expect(first).toMatchObject({
      stoppedBy: "rate-limit",
      pages: 10,
      events: 1000,
      rateLimitResetAt: reset,
    });
    const stateBefore = await readFile(join(out, "state", "org.json"), "utf8");
    const eventsBefore = await listAll(join(out, "events"));
    const afterFirst = requests();

    for (let i = 0; i < 5; i++) {
      clock.ms += 8 * 60_000;
      const held = await run("org", { [ENV.organizationId]: organizationId });
      expect(held).toMatchObject({ stoppedBy: "rate-limit", pages: 0, events: 0, cursor: first.cursor });
      // Another stream of the same integration key and user: the lens stream of the account.
      const other = await run("lens", { [ENV.streamApi]: "lens" });
      expect(other).toMatchObject({ stoppedBy: "rate-limit", pages: 0, rateLimitResetAt: reset });
    }
    expect(requests()).toBe(afterFirst);
    expect(await listAll(join(out, "events"))).toEqual(eventsBefore);
    const stateAfter = JSON.parse(await readFile(join(out, "state", "org.json"), "utf8"));
    expect(stateAfter.cursor).toBe(JSON.parse(stateBefore).cursor);
    expect(stateAfter.totalEvents).toBe(1000);

    clock.ms = Date.parse(reset) + 1000;
    const next = await run("lens", { [ENV.streamApi]: "lens" });
    expect(next.pages).toBeGreaterThan(0);
  });

  it("concurrent writes of one scope only ever move the reset later; an unreadable file holds nothing", async () => {
    const root = await mkdtemp(join(tmpdir(), "monitor-lake-rate-store-"));
    const store = createFileRateLimitStore({ root });
    const now = Date.UTC(2024, 5, 3, 12, 0, 0);
    const resets = Array.from({ length: 24 }, (_, i) => now + 60_000 * ((i * 7) % 24) + 1);

    await Promise.all(resets.map((resetAtMs) => store.holdUntil({ scope: "ab12", resetAtMs, now })));
    expect(await store.resetAt("ab12")).toBe(Math.max(...resets));
    await store.holdUntil({ scope: "ab12", resetAtMs: now + 1, now });
    expect(await store.resetAt("ab12")).toBe(Math.max(...resets));

    // A record more than a window ahead of this clock (it stepped back) is replaced by an earlier one.
    await store.holdUntil({
      scope: "cd34",
      resetAtMs: now + 5 * RATE_LIMIT_WINDOW_MS,
      now: now + 4 * RATE_LIMIT_WINDOW_MS,
    });
    await store.holdUntil({ scope: "cd34", resetAtMs: now + 60_000, now });
    expect(await store.resetAt("cd34")).toBe(now + 60_000);

    await writeFile(join(root, "state", "rate-limits", "ef56.json"), "{not json");
    expect(await store.resetAt("ef56")).toBeUndefined();
    await expect(store.resetAt("../x")).rejects.toThrow(/not a rate-limit scope id/);
  });
});

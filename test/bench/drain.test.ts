import { describe, expect, it } from "vitest";
import { Account, DOCUSIGN_LIMITS, drainMonitorLake, drainPeer, LATENCIES } from "../../bench/drain";

const HOUR_MS = 3_600_000;

describe("the drain bench's model of DocuSign's limits", () => {
  it("allows 3,000 requests an hour, reset on the hour, and 200 per 30 s", () => {
    const account = new Account();
    const start = 10 * HOUR_MS;
    const burst = Array.from({ length: 201 }, () => account.request(start).ok);
    expect(burst.filter(Boolean)).toHaveLength(DOCUSIGN_LIMITS.burst);
    expect(account.request(start + 30_000).ok).toBe(true);
    let t = start + 60_000;
    while (account.request(t).ok || (account.usedPerHour.get(10) ?? 0) < DOCUSIGN_LIMITS.perHour) t += 200;
    expect(account.usedPerHour.get(10)).toBe(DOCUSIGN_LIMITS.perHour);
    expect(account.request(start + HOUR_MS).ok).toBe(true);
  });

  it("drains a backlog through the real core and DocuSign client, counting every request", async () => {
    const latency = LATENCIES[1];
    if (!latency) throw new Error("no latency");
    const result = await drainMonitorLake(300_000, latency);
    expect(result.events).toBe(300_000);
    expect(result.requests).toBe(151); // 150 pages of 2000 and the empty page that says caught up
    expect(result.throttled).toBe(0); // 151 requests in about 15 s: under the burst limit of 200 per 30 s
    expect(result.minLeftPerHour).toBe(DOCUSIGN_LIMITS.perHour - 151);
  });

  it("times a peer's loop as pages times (latency + sleep)", () => {
    const latency = { label: "t", fixedMs: 1000, perEventMs: 0 };
    const result = drainPeer("p", 10_000, latency, 1000, 3000, 0, 0);
    expect(result.requests).toBe(10);
    expect(result.hours * HOUR_MS).toBe(10 * 1000 + 9 * 3000);
  });
});

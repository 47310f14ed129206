import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ChaosEnvironment } from "./chaos-env";
import { formatReport, modeOf, runChaos } from "./engine";
import { prepareChaos } from "./setup";

/**
 * The CI slice of the chaos suite: a few dozen seeded scenarios (handler and CLI) with kills, storage
 * and DocuSign faults, each drained and checked event by event. The full run is `npm run test:chaos`.
 */
const SLICE = Array.from({ length: 30 }, (_, i) => 9001 + i);

let env: ChaosEnvironment;
let cleanup: () => Promise<void>;
beforeAll(async () => {
  ({ env, cleanup } = await prepareChaos(inject("motoEndpoint")));
});
afterAll(async () => {
  await cleanup();
});

describe("chaos slice", () => {
  it("loses nothing and stores nothing twice across seeded crashes and faults", async () => {
    expect(SLICE.some((seed) => modeOf(seed) === "cli")).toBe(true);

    const report = await runChaos(SLICE, env, { concurrency: 3 });

    const printed = formatReport(report);
    expect(report.scenarios, printed).toBe(SLICE.length);
    expect(Object.keys(report.faults).filter((k) => k.startsWith("kill")).length, printed).toBeGreaterThan(2);
    // The seed-chosen classes of issue 16 are met by the slice (a zombie thawed hours later needs a
    // pause, which depends on timing: counted in the report, not required).
    for (const fault of [
      "duplicate delivery: two runs at once with the same request id",
      "clock skew between containers (up to ±3 s)",
      "cli SIGSTOPped mid-run while another run starts",
    ]) {
      expect(report.faults[fault] ?? 0, `${fault}\n${printed}`).toBeGreaterThan(0);
    }
    expect(
      report.failures.map((f) => f.seed),
      printed,
    ).toEqual([]);
    expect(report.lost + report.rawDuplicates + report.altered + report.unknown, printed).toBe(0);
  }, 300_000);
});

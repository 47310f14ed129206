import type { LakeCheck } from "./lake-check";

/** What one seeded scenario did and found. */
export interface ScenarioResult {
  readonly seed: number;
  readonly mode: "handler" | "cli";
  /** Events the source held at the end. */
  readonly events: number;
  /** Handler invocations or CLI processes. */
  readonly invocations: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly check?: LakeCheck;
  /** Set when the scenario could not be judged (did not catch up, harness error). */
  readonly failure?: string;
}

/** A scenario passes when it caught up and the lake holds every event once, byte for byte. */
export function passed(result: ScenarioResult): boolean {
  const c = result.check;
  return (
    result.failure === undefined &&
    c !== undefined &&
    c.lost === 0 &&
    c.rawDuplicates === 0 &&
    c.altered === 0 &&
    c.unknown === 0
  );
}

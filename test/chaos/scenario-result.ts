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
  /** The fault classes of issue 16 the scenario exercised (classes.ts), with how often. */
  readonly classes: Readonly<Record<string, number>>;
  readonly check?: LakeCheck;
  /** Set when the scenario could not be judged (did not catch up, harness error). */
  readonly failure?: string;
}

/** The violations a check found: each must be 0. */
export function violations(c: LakeCheck): number {
  return (
    c.lost +
    c.rawDuplicates +
    c.altered +
    c.unknown +
    c.wrongDay +
    c.badNames +
    c.keysOverwritten +
    c.midRun.violations
  );
}

/**
 * A scenario passes when it caught up and the lake holds every event once, byte for byte, under its day
 * and stream, no key was overwritten, and no read mid-run saw what no reader may see. Copies that only
 * the documented rules allow (`viewDuplicates`) do not fail it; they are reported.
 */
export function passed(result: ScenarioResult): boolean {
  const c = result.check;
  return result.failure === undefined && c !== undefined && violations(c) === 0;
}

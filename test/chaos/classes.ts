/**
 * The fault classes the chaos suite must reach (issue 16, "The chaos suite must reach these"), by the
 * name the report prints. A scenario counts a class when it exercised it (the fault happened, not only
 * was planned); `chaos.test.ts` requires every class in the `npm test` slice, so a class that silently
 * stops happening fails the test.
 */
export const FaultClass = {
  Kill: "container killed before or after a call",
  DuplicateDelivery: "duplicate delivery: two runs at once with the same request id",
  ClockSkew: "clock skew between containers (up to ±3 s)",
  ZombieAnyDelay: "zombie thawed after a random number of later runs",
  ZombieHours: "zombie thawed hours later",
  CliSigstop: "cli SIGSTOPped mid-run while another run starts",
  BigPage: "pages larger than the id window (4,000 ids), with repeats",
  CycleAcrossRuns: "cursor cycle across runs (B → A)",
  PagesBack: "events repeated from several pages back",
  OddTimestamps: "events with odd or missing timestamps",
  NoEventId: "events without eventId",
  SameIdOtherText: "same eventId, different text",
  StateRestored: "state restored to an older copy, then recover",
  StateDeleted: "state deleted, then recover",
  LatePut: "PutObject completes on the server after its caller died",
  MidRunRead: "lake read while a run is in flight",
} as const;
export type FaultClass = (typeof FaultClass)[keyof typeof FaultClass];

export const ALL_CLASSES: readonly FaultClass[] = Object.values(FaultClass);

/** Which seed-chosen classes a seed plans (each a pure function of the seed, so any 30 seeds in a row hold each). */
export function plannedBySeed(seed: number): {
  readonly bigPages: boolean;
  readonly restore: boolean;
  readonly remove: boolean;
  readonly pauseEarly: boolean;
  readonly latePutEarly: boolean;
} {
  return {
    bigPages: seed % 30 === 4,
    restore: seed % 6 === 0,
    remove: seed % 6 === 3,
    pauseEarly: seed % 5 === 1,
    latePutEarly: seed % 5 === 2 || seed % 7 === 6,
  };
}

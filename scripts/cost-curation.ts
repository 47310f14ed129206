import { DEFAULT_LOOKBACK_DAYS } from "../infra/curated-sql";
import { curationDefinition } from "../infra/curation-definition";
import { parseSchedule } from "../infra/schedule-expression";
import { PRICES } from "./cost-prices";

/**
 * The curated table's upkeep in `npm run cost` (infra/curation.ts): the Athena scans of each merge,
 * the weekly full merge, OPTIMIZE and VACUUM; the state machine's transitions and its schedule; the
 * raw objects the merges read; and the table's storage. One section of the cost table, beside the
 * ingester's lines of scripts/cost.ts.
 */

/**
 * Figures measured by `npm run bench:curated` (BENCHMARKS.md, "Curated table"), on a lake of about 76
 * events per raw object (137 B per raw event); larger objects compress better (83.1 B at 10 million
 * events a day), so at that volume the merges read less than this model says.
 */
export const CURATION_MEASURED = {
  /** Bytes an incremental merge reads per raw event of the partitions of its window. */
  mergeBytesPerWindowEvent: 153.6,
  /** Bytes the first (full) merge read per raw event: what the weekly full merge reads per stored event. */
  fullMergeBytesPerEvent: 137.4,
  /** Bytes of live Parquet data files per curated event, after OPTIMIZE. */
  curatedBytesPerEvent: 176.4,
} as const;

const DAYS = 30;
const GB = 1024 ** 3;
/** The twelfth month: eleven months of events behind the newest, as the raw lake's storage line. */
const MONTH12_STORED_DAYS = 12 * DAYS;

/** What the curation's cost depends on, read from the template. */
export interface CurationDeployed {
  /** Curation runs a day (its schedule, 24 by default). */
  readonly runsPerDay: number;
  readonly lookbackDays: number;
}

interface TemplateJson {
  readonly Resources: Record<
    string,
    { readonly Type: string; readonly Properties?: Record<string, unknown> }
  >;
}

/** The curation's schedule: the one whose input is the tick (`scheduledTime`), not a stream id. */
export function curationFrom(template: TemplateJson): CurationDeployed {
  const schedule = Object.values(template.Resources).find(
    (r) =>
      r.Type === "AWS::Scheduler::Schedule" &&
      JSON.stringify(r.Properties?.Target ?? {}).includes("scheduledTime"),
  );
  const parsed = parseSchedule(String(schedule?.Properties?.ScheduleExpression));
  if (!parsed.ok) throw new Error(`the template has no valid curation schedule (${parsed.problem})`);
  return { runsPerDay: parsed.runsPerDay, lookbackDays: DEFAULT_LOOKBACK_DAYS };
}

/** States one execution enters (each is a billed transition) on an hourly, daily and weekly tick. */
export function transitionsPerRun(lookbackDays: number): { hourly: number; daily: number; weekly: number } {
  interface State {
    readonly Type: string;
    readonly Next?: string;
    readonly Default?: string;
    readonly Choices?: readonly { readonly Condition: string; readonly Next: string }[];
  }
  const definition = curationDefinition({ database: "db", workgroup: "wg", lookbackDays }) as {
    StartAt: string;
    States: Record<string, State>;
  };
  const walk = (flags: { daily: boolean; weekly: boolean }): number => {
    let entered = 0;
    for (let name: string | undefined = definition.StartAt; name; ) {
      const state: State | undefined = definition.States[name];
      if (!state) throw new Error(`the curation definition has no state ${name}`);
      entered++;
      if (state.Type === "Choice") {
        const taken: { readonly Next: string } | undefined = state.Choices?.find((c) =>
          c.Condition.includes("$weekly")
            ? flags.weekly
            : c.Condition.includes("$daily")
              ? flags.daily
              : false,
        );
        name = taken?.Next ?? state.Default;
      } else name = state.Next;
    }
    return entered;
  };
  return {
    hourly: walk({ daily: false, weekly: false }),
    daily: walk({ daily: true, weekly: false }),
    weekly: walk({ daily: true, weekly: true }),
  };
}

/** Athena bills each query for at least 10 MB. */
const athena = (bytes: number): number =>
  (Math.max(bytes, PRICES.athenaMinimumBytes) / 1024 ** 4) * PRICES.athenaPerTb;

/**
 * Monthly USD per curation line item, one column per volume. `objectsPerDay`: raw objects the
 * ingester writes a day at a volume (the merges read each one of their window).
 */
export function curationCostLines(
  c: CurationDeployed,
  objectsPerDay: (eventsPerDay: number) => number,
  volumes: readonly number[],
): (readonly [string, ...number[]])[] {
  const per = (f: (v: number) => number): number[] => volumes.map(f);
  const weeklyRuns = DAYS / 7;
  const dailyRuns = DAYS - weeklyRuns;
  const incrementalRuns = DAYS * c.runsPerDay - weeklyRuns;
  // A window reads the lookback's days and the watermark's own.
  const windowDays = c.lookbackDays + 1;
  const m = CURATION_MEASURED;
  const t = transitionsPerRun(c.lookbackDays);
  const transitions = (incrementalRuns - dailyRuns) * t.hourly + dailyRuns * t.daily + weeklyRuns * t.weekly;
  return [
    [
      `Curation: Athena merges (${c.runsPerDay} a day, ${windowDays} raw days each, with the window query)`,
      ...per((v) => incrementalRuns * (athena(v * windowDays * m.mergeBytesPerWindowEvent) + athena(0))),
    ],
    [
      "Curation: Athena weekly full merge, month 12",
      ...per((v) => weeklyRuns * athena(v * MONTH12_STORED_DAYS * m.fullMergeBytesPerEvent)),
    ],
    [
      "Curation: Athena OPTIMIZE daily, VACUUM weekly",
      ...per((v) => DAYS * athena(v * m.curatedBytesPerEvent) + weeklyRuns * athena(0)),
    ],
    [
      `Curation: Step Functions (${t.hourly}–${t.weekly} transitions a run) and Scheduler`,
      ...per(
        () => transitions * PRICES.stepFunctionsTransition + DAYS * c.runsPerDay * PRICES.schedulerInvocation,
      ),
    ],
    [
      "Curation: S3 GETs of the raw objects merged",
      ...per(
        (v) =>
          (incrementalRuns * windowDays + weeklyRuns * MONTH12_STORED_DAYS) * objectsPerDay(v) * PRICES.s3Get,
      ),
    ],
    [
      "S3 storage of events_curated, month 12",
      ...per((v) => ((MONTH12_STORED_DAYS * v * m.curatedBytesPerEvent) / GB) * PRICES.s3StandardGbMonth),
    ],
  ];
}

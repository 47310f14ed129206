import {
  FULL_WINDOW,
  MERGE_PLACEHOLDERS,
  mergeSqlTemplate,
  optimizeSql,
  vacuumSql,
  watermarkSql,
} from "./curated-sql";
import { EXPORT_PLACEHOLDERS as P } from "./security-lake-export";

export interface CurationDefinitionProps {
  readonly database: string;
  readonly workgroup: string;
  readonly lookbackDays: number;
  /** With the prop `securityLake`: the export after each merge (infra/security-lake-export.ts). */
  readonly export?: ExportDefinition;
}

/** The export's statements (with EXPORT_PLACEHOLDERS) and where each class's records go. */
export interface ExportDefinition {
  readonly claimSql: string;
  readonly pendingSql: string;
  readonly markSql: string;
  /** The exports table's daily OPTIMIZE and weekly VACUUM. */
  readonly optimizeSql: string;
  readonly vacuumSql: string;
  /** Per class uid: its UNLOAD and its custom source's location. */
  readonly classes: Readonly<Record<string, { readonly unloadSql: string; readonly location: string }>>;
  readonly deliverFunctionArn: string;
  /** `s3://<results bucket>/<prefix>`: each UNLOAD gets an empty prefix of its own under it. */
  readonly stagingUrl: string;
  readonly region: string;
  readonly accountId: string;
}

const DAY_MS = 86_400_000;
// 1970-01-01 was a Thursday: (days since the epoch + 4) mod 7 is 0 on Sundays.
const SUNDAY_OFFSET = 4;

/** Athena retries: a throttled start, or a failed query (a merge inserts nothing twice, so retrying is safe). */
const RETRY = [
  {
    ErrorEquals: ["Athena.TooManyRequestsException", "States.TaskFailed"],
    IntervalSeconds: 60,
    BackoffRate: 2,
    MaxAttempts: 2,
  },
];

/**
 * The curation state machine in Amazon States Language (JSONata). Input: `{ "scheduledTime": ISO }`,
 * the schedule tick. Every run merges; a run scheduled at 00:00 UTC also runs OPTIMIZE, and on a
 * Sunday it merges the full window (every raw partition: events later than the lookback) and runs
 * VACUUM. Each query is started and waited for by Step Functions' Athena integration (`.sync`).
 */
export function curationDefinition(props: CurationDefinitionProps): Record<string, unknown> {
  const query = (sql: string): Record<string, unknown> => ({
    QueryString: sql,
    WorkGroup: props.workgroup,
    QueryExecutionContext: { Database: props.database },
  });
  const athena = (
    sql: string,
    next: string,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    Type: "Task",
    Resource: "arn:aws:states:::athena:startQueryExecution.sync",
    Arguments: query(sql),
    Retry: RETRY,
    Next: next,
    ...extra,
  });
  const tick = "$toMillis($states.input.scheduledTime)";
  return {
    Comment:
      "monitor-lake: merge new raw events into events_curated; OPTIMIZE daily, full merge and VACUUM weekly",
    QueryLanguage: "JSONata",
    StartAt: "Plan",
    States: {
      Plan: {
        Type: "Pass",
        Assign: {
          daily: `{% ${tick} % ${DAY_MS} = 0 %}`,
          weekly: `{% ${tick} % ${DAY_MS} = 0 and ($floor(${tick} / ${DAY_MS}) + ${SUNDAY_OFFSET}) % 7 = 0 %}`,
          mergeSql: mergeSqlTemplate(props.database),
        },
        Next: "FullOrIncremental",
      },
      FullOrIncremental: {
        Type: "Choice",
        Choices: [{ Condition: "{% $weekly %}", Next: "FullWindow" }],
        Default: "Window",
      },
      FullWindow: {
        Type: "Pass",
        Assign: { watermark: FULL_WINDOW.watermark, fromDay: FULL_WINDOW.fromDay },
        Next: "Merge",
      },
      Window: athena(watermarkSql(props.database, props.lookbackDays), "WindowResult", {
        Assign: { windowQuery: "{% $states.result.QueryExecution.QueryExecutionId %}" },
      }),
      WindowResult: {
        Type: "Task",
        Resource: "arn:aws:states:::athena:getQueryResults",
        Arguments: { QueryExecutionId: "{% $windowQuery %}" },
        Assign: {
          // Row 0 is the header.
          watermark: "{% $states.result.ResultSet.Rows[1].Data[0].VarCharValue %}",
          fromDay: "{% $states.result.ResultSet.Rows[1].Data[1].VarCharValue %}",
        },
        Retry: RETRY,
        Next: "Merge",
      },
      Merge: athena(
        `{% $replace($replace($mergeSql, '${MERGE_PLACEHOLDERS.watermark}', $watermark), '${MERGE_PLACEHOLDERS.fromDay}', $fromDay) %}`,
        props.export ? "ExportClaim" : "OptimizeToday",
      ),
      ...(props.export ? exportStates(props.export, athena) : {}),
      OptimizeToday: {
        Type: "Choice",
        Choices: [{ Condition: "{% $daily %}", Next: "Optimize" }],
        Default: "Done",
      },
      Optimize: athena(optimizeSql(props.database), props.export ? "OptimizeExports" : "VacuumThisWeek"),
      ...(props.export ? { OptimizeExports: athena(props.export.optimizeSql, "VacuumThisWeek") } : {}),
      VacuumThisWeek: {
        Type: "Choice",
        Choices: [{ Condition: "{% $weekly %}", Next: "Vacuum" }],
        Default: "Done",
      },
      Vacuum: athena(vacuumSql(props.database), props.export ? "VacuumExports" : "Done"),
      ...(props.export ? { VacuumExports: athena(props.export.vacuumSql, "Done") } : {}),
      Done: { Type: "Succeed" },
    },
  };
}

type AthenaState = (sql: string, next: string, extra?: Record<string, unknown>) => Record<string, unknown>;

/**
 * The Security Lake export after the merge: claim the window's new events for this execution's
 * batch, list the undelivered (batch, class, day) units, and per unit UNLOAD it to an empty staging
 * prefix, deliver it into its source's partition, and mark it delivered. A failed unit fails the
 * run (CurationFailed); the next run finds it pending and repeats it.
 */
function exportStates(e: ExportDefinition, athena: AthenaState): Record<string, unknown> {
  const replace = (sql: string, pairs: [string, string][]): string =>
    pairs.reduce((acc, [marker, value]) => `$replace(${acc}, '${marker}', ${value})`, sql);
  const item = (i: number): string => `$states.input.row.Data[${i}].VarCharValue`;
  return {
    ExportClaim: athena(
      `{% ${replace("$claimSql", [
        [P.batch, "$batch"],
        [P.fromDay, "$fromDay"],
      ])} %}`,
      "ExportPending",
      {
        Assign: {
          claimSql: e.claimSql,
          // The execution's name, kept to what an object name and a SQL literal take.
          batch: "{% $substring($replace($states.context.Execution.Name, /[^A-Za-z0-9_-]/, '_'), 0, 80) %}",
        },
      },
    ),
    ExportPending: athena(e.pendingSql, "ExportPendingResult", {
      Assign: { pendingQuery: "{% $states.result.QueryExecution.QueryExecutionId %}" },
    }),
    ExportPendingResult: {
      Type: "Task",
      Resource: "arn:aws:states:::athena:getQueryResults",
      Arguments: { QueryExecutionId: "{% $pendingQuery %}" },
      // Row 0 is the header; $append keeps one row a list and no row an empty one.
      Assign: {
        units: "{% $append([], $filter($states.result.ResultSet.Rows, function($v, $i) { $i > 0 })) %}",
      },
      Retry: RETRY,
      Next: "AnyUnits",
    },
    AnyUnits: {
      Type: "Choice",
      Choices: [{ Condition: "{% $count($units) > 0 %}", Next: "ExportUnits" }],
      Default: "OptimizeToday",
    },
    ExportUnits: {
      Type: "Map",
      Items: "{% $units %}",
      ItemSelector: { row: "{% $states.context.Map.Item.Value %}", classes: e.classes },
      MaxConcurrency: 1,
      ItemProcessor: {
        ProcessorConfig: { Mode: "INLINE" },
        StartAt: "Unit",
        States: {
          Unit: {
            Type: "Pass",
            Assign: {
              batch: `{% ${item(0)} %}`,
              classUid: `{% ${item(1)} %}`,
              day: `{% ${item(2)} %}`,
              unit: `{% $lookup($states.input.classes, ${item(1)}) %}`,
              staging: `{% '${e.stagingUrl}' & $uuid() & '/' %}`,
              markSql: e.markSql,
            },
            Next: "Unload",
          },
          Unload: athena(
            `{% ${replace("$unit.unloadSql", [
              [P.batch, "$batch"],
              [P.day, "$day"],
              [P.to, "$staging"],
            ])} %}`,
            "Deliver",
          ),
          Deliver: {
            Type: "Task",
            Resource: "arn:aws:states:::lambda:invoke",
            Arguments: {
              FunctionName: e.deliverFunctionArn,
              Payload: {
                location: "{% $unit.location %}",
                region: e.region,
                accountId: e.accountId,
                day: "{% $day %}",
                batch: "{% $batch %}",
                staging: "{% $staging %}",
              },
            },
            Retry: [
              {
                ErrorEquals: [
                  "Lambda.ServiceException",
                  "Lambda.TooManyRequestsException",
                  "States.TaskFailed",
                ],
                IntervalSeconds: 10,
                BackoffRate: 2,
                MaxAttempts: 3,
              },
            ],
            Next: "Mark",
          },
          Mark: athena(
            `{% ${replace("$markSql", [
              [P.batch, "$batch"],
              [P.classUid, "$classUid"],
              [P.day, "$day"],
            ])} %}`,
            "Delivered",
            // Each unit ends with an empty output: a hundred Athena answers would pass Step Functions' 256 KB.
            { Output: {} },
          ),
          Delivered: { Type: "Succeed" },
        },
      },
      Next: "OptimizeToday",
    },
  };
}

import {
  FULL_WINDOW,
  MERGE_PLACEHOLDERS,
  mergeSqlTemplate,
  optimizeSql,
  vacuumSql,
  watermarkSql,
} from "./curated-schema";

export interface CurationDefinitionProps {
  readonly database: string;
  readonly workgroup: string;
  readonly lookbackDays: number;
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
        "OptimizeToday",
      ),
      OptimizeToday: {
        Type: "Choice",
        Choices: [{ Condition: "{% $daily %}", Next: "Optimize" }],
        Default: "Done",
      },
      Optimize: athena(optimizeSql(props.database), "VacuumThisWeek"),
      VacuumThisWeek: {
        Type: "Choice",
        Choices: [{ Condition: "{% $weekly %}", Next: "Vacuum" }],
        Default: "Done",
      },
      Vacuum: athena(vacuumSql(props.database), "Done"),
      Done: { Type: "Succeed" },
    },
  };
}

/**
 * Public AWS list prices, us-east-1, in USD, as published on the pricing pages below. The date is when
 * they were taken; prices change, so re-check them against the pages before relying on the table.
 * Free tiers are left out (the table is for an account that has used them up).
 */
export const PRICES_AS_OF = "2025-06 (AWS pricing pages; not re-read since)";

export const PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ (Arm) */
  lambdaGbSecondArm: 0.0000133334,
  lambdaRequest: 0.2 / 1e6,
  /** https://aws.amazon.com/s3/pricing/ (S3 Standard, first 50 TB; Intelligent-Tiering tiers) */
  s3StandardGbMonth: 0.023,
  s3IntInfrequentGbMonth: 0.0125,
  s3IntArchiveInstantGbMonth: 0.004,
  /** Intelligent-Tiering monitoring, per object of 128 KB or more a month */
  s3IntMonitoringPerObject: 0.0025 / 1000,
  s3Put: 0.005 / 1000,
  /** Lifecycle transition into Intelligent-Tiering, per object */
  s3TransitionToInt: 0.01 / 1000,
  /** https://aws.amazon.com/dynamodb/pricing/on-demand/ (since the November 2024 reduction) */
  dynamoWriteRequestUnit: 0.625 / 1e6,
  dynamoStorageGbMonth: 0.25,
  dynamoPitrGbMonth: 0.2,
  /** https://aws.amazon.com/secrets-manager/pricing/ */
  secretMonth: 0.4,
  secretApiCall: 0.05 / 10000,
  /** https://aws.amazon.com/cloudwatch/pricing/ */
  alarmStandardMonth: 0.1,
  alarmCompositeMonth: 0.5,
  /** beyond the first 3 dashboards of an account */
  dashboardMonth: 3,
  customMetricMonth: 0.3,
  logsIngestedGb: 0.5,
  logsStoredGbMonth: 0.03,
  /** https://aws.amazon.com/eventbridge/pricing/ (Scheduler, beyond 14 million invocations a month) */
  schedulerInvocation: 1 / 1e6,
  /** https://aws.amazon.com/athena/pricing/ (10 MB minimum per query) */
  athenaPerTb: 5,
  athenaMinimumBytes: 10 * 1024 ** 2,
  /**
   * The curated table's upkeep (scripts/cost-curation.ts), list prices of the same date as the rest:
   * https://aws.amazon.com/step-functions/pricing/ (Standard workflows, per state transition, beyond
   * the free 4,000 a month) and https://aws.amazon.com/s3/pricing/ (S3 Standard GET requests).
   */
  stepFunctionsTransition: 0.025 / 1000,
  s3Get: 0.0004 / 1000,
} as const;

import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { buildApp } from "../infra/app";
import { parseSchedule } from "../infra/schedule-expression";
import { RUN_METRICS } from "../lambda/handler/run-metrics";
import { type CurationDeployed, curationCostLines, curationFrom } from "./cost-curation";
import { PRICES, PRICES_AS_OF } from "./cost-prices";

/**
 * `npm run cost`: the monthly cost of one stream at 1,000, 100,000 and 10 million events a day, from
 * the synthesized template (memory, schedule, lifecycle, alarms, dashboards, secrets, query
 * definitions) and measured figures (BENCHMARKS.md), priced with scripts/cost-prices.ts. Prints the
 * Markdown table the README's "What it costs" section holds (a test compares the two).
 */

/** Figures measured by `npm run bench` (BENCHMARKS.md) or read from the code, per the note on each. */
export const MEASURED = {
  /** Stored bytes per event, gzip level 6 (BENCHMARKS.md, "Compression"). */
  bytesPerEvent: 83.1,
  /** The handler's CPU per event at 100,000 events, the higher of the measured figures ("Parse once"). */
  cpuSecondsPerEvent: 24.9e-6,
  /** DocuSign's answer time per page: 0.3 s + 0.35 ms per event (BENCHMARKS.md "Drain time", an [I] assumption). */
  pageSeconds: 0.3,
  pageSecondsPerEvent: 0.35e-3,
  /** Events per page (the client's limit). */
  pageEvents: 2000,
  /** Import time of the deployed bundle on a cold start, 77 ms ("Cold start"), rounded up with the token grant. */
  runBaseSeconds: 0.5,
  /** State writes per run: lease acquire and release, then intent and commit per object (lambda/core/run-ingest.ts, lambda/core/ingest-steps.ts). */
  stateWritesPerRun: 2,
  stateWritesPerObject: 2,
  /** Log bytes per run: START/END/REPORT, "run finished" and the EMF line; per object "chunk committed" (estimated from the lines the handler writes, not measured). */
  logBytesPerRun: 3000,
  logBytesPerObject: 300,
  /** Secret reads per run: the key source rereads the secret when 5 minutes old (lambda/aws/key-rotating-source.ts). */
  secretReadsPerRun: 1,
} as const;

/**
 * Metrics published only when something happens (a rule matched, a detection failed): a metric is
 * billed for the hours it receives data, so a healthy stream pays nothing for them.
 */
const ON_EVENT_METRICS = new Set(["RuleMatches", "DetectionErrors"]);

export const VOLUMES = [1_000, 100_000, 10_000_000] as const;
const DAYS = 30;
const GB = 1024 ** 3;
const SMALL_OBJECT = 128 * 1024;

interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
interface TemplateJson {
  readonly Resources: Record<string, Resource>;
}

/** What the cost depends on, read from a one-stream template. */
export interface Deployed {
  readonly memoryGb: number;
  readonly runsPerDay: number;
  readonly alarms: number;
  readonly compositeAlarms: number;
  readonly dashboards: number;
  readonly secrets: number;
  readonly queryDefinitions: number;
  readonly customMetrics: number;
  readonly logRetentionDays: number;
  readonly tieringAfterDays: number;
  /** The curated table's schedule (scripts/cost-curation.ts). */
  readonly curation: CurationDeployed;
}

export function deployedFrom(template: TemplateJson): Deployed {
  const all = Object.values(template.Resources);
  const of = (type: string) => all.filter((r) => r.Type === type);
  const fn = of("AWS::Lambda::Function").find((r) => r.Properties?.Runtime?.toString().startsWith("nodejs"));
  // The ingest schedules (payload: a stream id); the curation's (infra/curation.ts) starts a state
  // machine and is costed on its own (scripts/cost-curation.ts).
  const schedules = of("AWS::Scheduler::Schedule")
    .filter((r) => JSON.stringify(r.Properties?.Target ?? {}).includes('\\"stream\\"'))
    .map((r) => parseSchedule(String(r.Properties?.ScheduleExpression)));
  if (schedules.length !== 1 || !schedules[0]?.ok)
    throw new Error("the cost model is for one stream with a valid schedule");
  // Custom metrics: those every run publishes (lambda/handler/run-metrics.ts) and any other the alarms and
  // the dashboard reference.
  const referenced = JSON.stringify([of("AWS::CloudWatch::Alarm"), of("AWS::CloudWatch::Dashboard")]);
  const metrics = new Set(
    [
      ...referenced.matchAll(
        /\\?"MonitorLake\\?",\\?"(\w+)\\?"|"MetricName":"(\w+)","Namespace":"MonitorLake"/g,
      ),
    ]
      .map((m) => m[1] ?? m[2])
      .concat(RUN_METRICS)
      .filter((m) => m !== undefined && !ON_EVENT_METRICS.has(m)),
  );
  const bucket = of("AWS::S3::Bucket").find((r) => JSON.stringify(r.Properties).includes('"Id":"events"'));
  const lifecycle = bucket?.Properties?.LifecycleConfiguration as
    | { Rules: Array<Record<string, unknown>> }
    | undefined;
  const rules = lifecycle?.Rules ?? [];
  const events = rules.find((r) => r.Id === "events") as { Transitions: Array<{ TransitionInDays: number }> };
  const logGroup = of("AWS::Logs::LogGroup")[0];
  return {
    memoryGb: Number(fn?.Properties?.MemorySize) / 1024,
    runsPerDay: schedules[0].runsPerDay,
    alarms: of("AWS::CloudWatch::Alarm").length,
    compositeAlarms: of("AWS::CloudWatch::CompositeAlarm").length,
    dashboards: of("AWS::CloudWatch::Dashboard").length,
    secrets: of("AWS::SecretsManager::Secret").length,
    queryDefinitions: of("AWS::Logs::QueryDefinition").length,
    customMetrics: metrics.size,
    logRetentionDays: Number(logGroup?.Properties?.RetentionInDays ?? 30),
    tieringAfterDays: events.Transitions[0]?.TransitionInDays ?? 30,
    curation: curationFrom(template),
  };
}

export type CostLine = readonly [string, ...number[]];

/** Monthly USD per line item, one column per volume. */
export function costLines(d: Deployed, volumes: readonly number[] = VOLUMES): CostLine[] {
  const per = (f: (eventsPerDay: number) => number): number[] => volumes.map(f);
  const runsMonth = d.runsPerDay * DAYS;
  const eventsPerRun = (v: number) => v / d.runsPerDay;
  // A run with events writes one object (a chunk holds up to 32 MiB; 10 M events a day is 3 MB a run).
  const objectsMonth = (v: number) => Math.min(runsMonth, v * DAYS);
  const runSeconds = (v: number) => {
    const n = eventsPerRun(v);
    const pages = Math.max(1, Math.ceil(n / MEASURED.pageEvents));
    return (
      MEASURED.runBaseSeconds +
      pages * MEASURED.pageSeconds +
      n * (MEASURED.pageSecondsPerEvent + MEASURED.cpuSecondsPerEvent)
    );
  };
  const storedGbMonth = (v: number) => (v * DAYS * MEASURED.bytesPerEvent) / GB;
  return [
    [
      "Lambda (GB-seconds and requests)",
      ...per(
        (v) => runsMonth * (runSeconds(v) * d.memoryGb * PRICES.lambdaGbSecondArm + PRICES.lambdaRequest),
      ),
    ],
    ["EventBridge Scheduler", ...per(() => runsMonth * PRICES.schedulerInvocation)],
    ["S3 PUTs", ...per((v) => objectsMonth(v) * PRICES.s3Put)],
    [
      "S3 storage, month 12 (lifecycle applied)",
      ...per((v) =>
        s3StorageMonth12(storedGbMonth(v), (v * MEASURED.bytesPerEvent) / d.runsPerDay, runsMonth, d),
      ),
    ],
    [
      "DynamoDB (on demand, PITR)",
      ...per(
        (v) =>
          runsMonth *
            (MEASURED.stateWritesPerRun + (eventsPerRun(v) >= 1 ? MEASURED.stateWritesPerObject : 0)) *
            PRICES.dynamoWriteRequestUnit +
          1e-6 * (PRICES.dynamoStorageGbMonth + PRICES.dynamoPitrGbMonth),
      ),
    ],
    [
      "Secrets Manager",
      ...per(
        () => d.secrets * PRICES.secretMonth + runsMonth * MEASURED.secretReadsPerRun * PRICES.secretApiCall,
      ),
    ],
    [
      `CloudWatch alarms (${d.alarms} standard, ${d.compositeAlarms} composite)`,
      ...per(() => d.alarms * PRICES.alarmStandardMonth + d.compositeAlarms * PRICES.alarmCompositeMonth),
    ],
    [
      `CloudWatch custom metrics (${d.customMetrics})`,
      ...per(() => d.customMetrics * PRICES.customMetricMonth),
    ],
    [
      `CloudWatch dashboards (${d.dashboards}, beyond the account's free 3)`,
      ...per(() => d.dashboards * PRICES.dashboardMonth),
    ],
    [
      `Logs Insights queries defined (${d.queryDefinitions}; billed per GB scanned when run)`,
      ...per(() => 0),
    ],
    ["CloudWatch Logs ingestion and storage", ...per((v) => logsMonth(v, runsMonth, d))],
    [
      "Athena, one scan of 30 days",
      ...per(
        (v) => (Math.max(storedGbMonth(v) * GB, PRICES.athenaMinimumBytes) / 1024 ** 4) * PRICES.athenaPerTb,
      ),
    ],
    // A run with events writes one object per day it holds: about one a day.
    ...curationCostLines(d.curation, (v) => Math.min(d.runsPerDay, v), volumes),
  ];
}

function logsMonth(v: number, runsMonth: number, d: Deployed): number {
  const objects = v / d.runsPerDay >= 1 ? runsMonth : 0;
  const gb = (runsMonth * MEASURED.logBytesPerRun + objects * MEASURED.logBytesPerObject) / GB;
  return gb * PRICES.logsIngestedGb + gb * Math.min(1, d.logRetentionDays / DAYS) * PRICES.logsStoredGbMonth;
}

/**
 * Storage in the twelfth month: eleven months of data behind the newest. Objects of 128 KB or more move
 * to Intelligent-Tiering after the lifecycle's days, then (unread) to its infrequent tier 30 days later
 * and its archive-instant tier at 90; smaller ones stay in S3 Standard (lifecycle skips them).
 */
function s3StorageMonth12(
  gbPerMonth: number,
  objectBytes: number,
  objectsPerMonth: number,
  d: Deployed,
): number {
  if (objectBytes < SMALL_OBJECT) return 12 * gbPerMonth * PRICES.s3StandardGbMonth;
  const ageMonths = Array.from({ length: 12 }, (_, i) => i * DAYS);
  return ageMonths.reduce((sum, age) => {
    const tiered = age >= d.tieringAfterDays;
    const sinceTier = age - d.tieringAfterDays;
    const price =
      !tiered || sinceTier < 30
        ? PRICES.s3StandardGbMonth
        : sinceTier < 90
          ? PRICES.s3IntInfrequentGbMonth
          : PRICES.s3IntArchiveInstantGbMonth;
    const monitoring = tiered ? objectsPerMonth * PRICES.s3IntMonitoringPerObject : 0;
    const transition = age === d.tieringAfterDays ? objectsPerMonth * PRICES.s3TransitionToInt : 0;
    return sum + gbPerMonth * price + monitoring + transition;
  }, 0);
}

const usd = (n: number): string => (n < 0.005 ? (n === 0 ? "$0" : "< $0.01") : `$${n.toFixed(2)}`);

/** The README's table. */
export function costTable(d: Deployed): string {
  const lines = costLines(d);
  const totals = VOLUMES.map((_, i) => lines.reduce((s, l) => s + (l[i + 1] as number), 0));
  const head = `| monthly, one stream (${d.runsPerDay} runs a day, ${d.memoryGb * 1024} MB) | ${VOLUMES.map((v) => `${v.toLocaleString("en-US")} events/day`).join(" | ")} |`;
  const rule = `| --- | ${VOLUMES.map(() => "---:").join(" | ")} |`;
  const rows = lines.map(([name, ...cells]) => `| ${name} | ${cells.map(usd).join(" | ")} |`);
  const total = `| **total** | ${totals.map((t) => `**${usd(t)}**`).join(" | ")} |`;
  return [head, rule, ...rows, total, "", `Prices: us-east-1, ${PRICES_AS_OF}.`].join("\n");
}

/** The default one-stream deployment's template. */
export function defaultTemplate(): TemplateJson {
  const app = new App({
    context: {
      integrationKey: "00000000-0000-0000-0000-000000000001",
      userId: "00000000-0000-0000-0000-000000000002",
    },
  });
  return Template.fromStack(buildApp(app)).toJSON() as TemplateJson;
}

if (process.argv[1]?.endsWith("cost.ts"))
  process.stdout.write(`${costTable(deployedFrom(defaultTemplate()))}\n`);

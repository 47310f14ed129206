import { CfnOutput, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import {
  checkDetectionSettings,
  DEFAULT_RULES,
  DETECTION_ENV,
  DETECTION_LOG_MESSAGE,
  DETECTION_METRIC,
  parseList,
  type Rule,
  Setting,
  Severity,
} from "../lambda/detections/rules";

/** Overrides of one rule's defaults (lambda/detections/rules.ts). */
export interface DetectionRuleSettings {
  /** @default true (the country rule: only with `allowedCountries`) */
  readonly enabled?: boolean;
  /** Matches per period that raise the alarm. @default the rule's */
  readonly threshold?: number;
  /** The alarm's period in minutes: 1, 5, 10, 15, 30 or a multiple of 60. @default the rule's */
  readonly periodMinutes?: number;
  /** Which SNS topic the alarm notifies. @default the rule's */
  readonly severity?: Severity;
}

/** What a deployment tunes: construct props, or `-c` context through `detectionOptionsFromContext`. */
export interface DetectionOptions {
  /** Off: no rule runs, no detection alarm, topic or query. @default true */
  readonly enabled?: boolean;
  /** Per rule id. @default every rule with its defaults */
  readonly rules?: Readonly<Record<string, DetectionRuleSettings>>;
  /** ISO 3166 alpha-2 codes; turns on `activity-outside-allowed-countries`. @default none */
  readonly allowedCountries?: readonly string[];
  /**
   * How far back an alarm looks: it goes off when any period in this window reaches the threshold.
   * It covers DocuSign's lag (up to 5 minutes), the schedule and a run; matches older than this (a
   * drained backlog, whose data points carry their events' own times) never page.
   * @default 60
   */
  readonly lookbackMinutes?: number;
}

export interface DetectionAlarmsProps extends DetectionOptions {
  /** The ingester: gets the settings as environment variables. */
  readonly function: lambda.Function;
  /** Its log group, for the Logs Insights queries. */
  readonly logGroup: logs.ILogGroup;
  readonly streams: readonly string[];
  /** Gets a row of rule-match graphs. */
  readonly dashboard: cloudwatch.Dashboard;
  /** Subscribed to every severity's topic. @default no subscription */
  readonly alarmEmail?: string;
}

/** One rule as deployed. */
export interface DeployedRule {
  readonly rule: Rule;
  readonly threshold: number;
  readonly periodMinutes: number;
  readonly severity: Severity;
  readonly evaluationPeriods: number;
}

export const DEFAULT_LOOKBACK_MINUTES = 60;

/** Resolves the rules to deploy from the options; throws an Error that lists every invalid value. */
export function deployedRules(options: DetectionOptions): DeployedRule[] {
  if (options.enabled === false) return [];
  const problems: string[] = [];
  const lookback = options.lookbackMinutes ?? DEFAULT_LOOKBACK_MINUTES;
  if (!(Number.isInteger(lookback) && lookback >= 1 && lookback <= 1440))
    problems.push(`lookbackMinutes ${lookback}: use whole minutes from 1 to 1440.`);
  const overrides = options.rules ?? {};
  const ids = new Set(DEFAULT_RULES.map((r) => r.id));
  for (const id of Object.keys(overrides))
    if (!ids.has(id))
      problems.push(`unknown detection rule "${id}"; the rule ids are ${[...ids].join(", ")}.`);
  const { problems: countryProblems } = checkDetectionSettings(
    { allowedCountries: (options.allowedCountries ?? []).join(",") },
    { allowedCountries: "allowedCountries", disabledRules: "rules" },
  );
  problems.push(...countryProblems);
  const deployed: DeployedRule[] = [];
  for (const rule of DEFAULT_RULES) {
    const o = overrides[rule.id] ?? {};
    if (o.enabled === false) continue;
    if (rule.requires === Setting.AllowedCountries && (options.allowedCountries ?? []).length === 0) {
      if (o.enabled === true) problems.push(`rule "${rule.id}" needs allowedCountries (e.g. US,GB).`);
      continue;
    }
    const threshold = o.threshold ?? rule.threshold;
    const periodMinutes = o.periodMinutes ?? rule.periodMinutes;
    if (!(Number.isInteger(threshold) && threshold >= 1))
      problems.push(
        `rule "${rule.id}": threshold ${threshold} must be a whole number of matches, 1 or more.`,
      );
    if (!([1, 5, 10, 15, 30].includes(periodMinutes) || (periodMinutes > 0 && periodMinutes % 60 === 0)))
      problems.push(
        `rule "${rule.id}": periodMinutes ${periodMinutes} must be 1, 5, 10, 15, 30 or a multiple of 60.`,
      );
    if (o.severity !== undefined && !Object.values(Severity).includes(o.severity))
      problems.push(`rule "${rule.id}": severity "${o.severity}" must be High, Medium or Low.`);
    deployed.push({
      rule,
      threshold,
      periodMinutes,
      severity: o.severity ?? rule.severity,
      // Any one period in the lookback window reaching the threshold raises the alarm (1 of N).
      evaluationPeriods: Math.max(1, Math.ceil(lookback / periodMinutes)),
    });
  }
  if (problems.length > 0) throw new Error(`monitor-lake detections:\n  ${problems.join("\n  ")}`);
  return deployed;
}

/**
 * The CloudWatch side of detections: per enabled rule and stream one alarm on `RuleMatches`
 * (dimensions stream, rule), notifying the SNS topic of its severity; per rule a saved Logs Insights
 * query listing its matches; a dashboard row; and the Lambda's settings.
 */
export class DetectionAlarms extends Construct {
  readonly topics: Readonly<Record<Severity, sns.Topic>>;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly rules: readonly DeployedRule[];

  constructor(scope: Construct, id: string, props: DetectionAlarmsProps) {
    super(scope, id);
    this.rules = deployedRules(props);
    const enabled = new Set(this.rules.map((r) => r.rule.id));
    const off = DEFAULT_RULES.filter((r) => !enabled.has(r.id)).map((r) => r.id);
    if (off.length > 0) props.function.addEnvironment(DETECTION_ENV.disabledRules, off.join(","));
    if ((props.allowedCountries ?? []).length > 0)
      props.function.addEnvironment(
        DETECTION_ENV.allowedCountries,
        (props.allowedCountries ?? []).map((c) => c.toUpperCase()).join(","),
      );

    const stackName = Stack.of(this).stackName;
    const topics = {} as Record<Severity, sns.Topic>;
    for (const severity of Object.values(Severity)) {
      const topic = new sns.Topic(this, `Topic${severity}`, {
        displayName: `monitor-lake detections: ${severity}`,
        enforceSSL: true,
      });
      if (props.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(props.alarmEmail));
      new CfnOutput(this, `DetectionTopic${severity}`, {
        description: `SNS topic of ${severity}-severity detection alarms`,
        value: topic.topicArn,
      });
      topics[severity] = topic;
    }
    this.topics = topics;

    const metric = (d: DeployedRule, stream: string): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: "MonitorLake",
        metricName: DETECTION_METRIC,
        dimensionsMap: { stream, rule: d.rule.id },
        statistic: "Sum",
        period: Duration.minutes(d.periodMinutes),
      });
    for (const d of this.rules) {
      const queryName = `monitor-lake/${stackName}/detections/${d.rule.id}`;
      new logs.QueryDefinition(this, `Query-${d.rule.id}`, {
        queryDefinitionName: queryName,
        logGroups: [props.logGroup],
        queryString: new logs.QueryString({
          fields: [
            "@timestamp",
            "stream",
            "severity",
            "eventTime",
            "userId",
            "ipAddress",
            "country",
            "object",
            "action",
            "result",
            "eventId",
          ],
          filterStatements: [`message = "${DETECTION_LOG_MESSAGE}" and rule = "${d.rule.id}"`],
          sort: "@timestamp desc",
          limit: 1000,
        }),
      });
      for (const stream of props.streams) {
        const alarm = new cloudwatch.Alarm(this, `Rule-${d.rule.id}-${stream}`, {
          alarmDescription:
            `[${d.severity}] ${d.rule.title} (stream ${stream}): ${d.rule.description} ` +
            `Fires at ${d.threshold} or more in ${d.periodMinutes} min, counted at the events' own time over the last ` +
            `${d.evaluationPeriods * d.periodMinutes} min. Matches: Logs Insights query "${queryName}".`,
          metric: metric(d, stream),
          threshold: d.threshold,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: d.evaluationPeriods,
          datapointsToAlarm: 1,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(new cwActions.SnsAction(topics[d.severity]));
        this.alarms.push(alarm);
      }
    }
    if (this.rules.length > 0) {
      props.dashboard.addWidgets(
        ...Object.values(Severity).map(
          (severity) =>
            new cloudwatch.GraphWidget({
              title: `Detections: ${severity} rule matches (by event time)`,
              left: this.rules
                .filter((d) => d.severity === severity)
                .flatMap((d) =>
                  props.streams.map((s) =>
                    metric(d, s).with({
                      period: Duration.hours(1),
                      label: props.streams.length > 1 ? `${d.rule.id} ${s}` : d.rule.id,
                    }),
                  ),
                ),
              stacked: true,
              width: 8,
            }),
        ),
      );
    }
  }
}

/**
 * Detection options from CDK context: `-c detections=false`, `-c allowedCountries=US,GB`,
 * `-c detectionsOff=users-added,group-changed`, and `-c detectionRules='{"users-added":{"threshold":10}}'`
 * (JSON text, or an object in cdk.json).
 */
export function detectionOptionsFromContext(get: (key: string) => unknown): DetectionOptions {
  const text = (key: string): string | undefined => {
    const v = get(key);
    return v === undefined || v === null || String(v).trim() === "" ? undefined : String(v).trim();
  };
  const problems: string[] = [];
  const enabled = text("detections");
  if (enabled !== undefined && !/^(true|false|on|off)$/i.test(enabled))
    problems.push(`-c detections=true or false (got "${enabled}")`);
  let rules: Record<string, DetectionRuleSettings> = {};
  const raw = get("detectionRules");
  if (raw !== undefined && raw !== null && raw !== "") {
    try {
      const parsed: unknown = typeof raw === "string" ? JSON.parse(raw) : raw;
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new Error("not an object");
      rules = { ...(parsed as Record<string, DetectionRuleSettings>) };
    } catch {
      problems.push(
        `-c detectionRules='{"<rule id>":{"threshold":5,"periodMinutes":60,"severity":"High","enabled":false}}' (got ${JSON.stringify(raw)})`,
      );
    }
  }
  for (const id of parseList(text("detectionsOff"))) rules[id] = { ...rules[id], enabled: false };
  const countries = parseList(text("allowedCountries"));
  const lookback = text("detectionLookbackMinutes");
  if (problems.length > 0) throw new Error(`monitor-lake detections context:\n  ${problems.join("\n  ")}`);
  return {
    ...(enabled !== undefined ? { enabled: /^(true|on)$/i.test(enabled) } : {}),
    ...(Object.keys(rules).length > 0 ? { rules } : {}),
    ...(countries.length > 0 ? { allowedCountries: countries } : {}),
    ...(lookback !== undefined ? { lookbackMinutes: Number(lookback) } : {}),
  };
}

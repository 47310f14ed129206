import { CfnOutput, Duration, Stack } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import * as cwActions from "aws-cdk-lib/aws-cloudwatch-actions";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import * as logs from "aws-cdk-lib/aws-logs";
import * as sns from "aws-cdk-lib/aws-sns";
import * as subscriptions from "aws-cdk-lib/aws-sns-subscriptions";
import { Construct } from "constructs";
import { DETECTION_ERRORS_METRIC } from "../lambda/detections/emit";
import {
  DEFAULT_RULES,
  DETECTION_ENV,
  DETECTION_LOG_MESSAGE,
  DETECTION_METRIC,
  Severity,
} from "../lambda/detections/rules";
import {
  type DeployedRule,
  DetectionAlarmShape,
  type DetectionOptions,
  deployedRules,
} from "./detection-options";

export {
  DEFAULT_LOOKBACK_MINUTES,
  DEFAULT_SUPPRESS_MINUTES,
  type DeployedRule,
  DetectionAlarmShape,
  type DetectionOptions,
  type DetectionRuleSettings,
  deployedRules,
  detectionOptionsFromContext,
} from "./detection-options";

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
  /**
   * Per stream an alarm on `DetectionErrors` (detection failed on stored events): the topic it notifies
   * (the ingester's health topic, not a severity's) and each stream's alarm period in seconds, at least
   * its schedule's longest gap plus the timeout (infra/alarm-timing.ts). @default no such alarms
   */
  readonly errorAlarms?: {
    readonly topic: sns.ITopic;
    readonly periodSeconds: (stream: string) => number;
  };
}

/** CloudWatch takes at most 10 metrics in one metric-math alarm; a severity with more gets several. */
export const MAX_ALARM_METRICS = 10;

/**
 * One severity's alarm for one stream: metric math that counts the rules at their thresholds in the
 * period (the shortest among them), raised by 1. It evaluates the longest window of its rules
 * (lookback or quiet time), so it stays in ALARM, without notifying again, while any rule keeps matching.
 */
function severityAlarm(
  scope: Construct,
  id: string,
  o: {
    readonly severity: Severity;
    readonly stream: string;
    readonly rules: readonly DeployedRule[];
    readonly metric: (d: DeployedRule, stream: string) => cloudwatch.Metric;
    readonly stackName: string;
  },
): cloudwatch.Alarm {
  const periodMinutes = Math.min(...o.rules.map((d) => d.periodMinutes));
  const windowMinutes = Math.max(...o.rules.map((d) => d.evaluationPeriods * d.periodMinutes));
  const usingMetrics = Object.fromEntries(o.rules.map((d, i) => [`r${i}`, o.metric(d, o.stream)]));
  const expression = o.rules.map((d, i) => `IF(FILL(r${i}, 0) >= ${d.threshold}, 1, 0)`).join(" + ");
  const list = o.rules.map((d) => `${d.rule.id} (${d.threshold})`).join(", ");
  const description =
    `[${o.severity}] ${o.severity}-severity detections (stream ${o.stream}): fires when a rule reaches its threshold ` +
    `in ${periodMinutes} min, by the events' own time over the last ${windowMinutes} min, and stays quiet while ` +
    `any keeps matching. Rules (threshold): ${list}. Per rule: metric RuleMatches, the dashboard's ` +
    `Detections rows, Logs Insights queries "monitor-lake/${o.stackName}/detections/<rule>".`;
  return new cloudwatch.Alarm(scope, id, {
    alarmDescription: description.length > 1024 ? `${description.slice(0, 1023)}…` : description,
    metric: new cloudwatch.MathExpression({
      expression,
      usingMetrics,
      period: Duration.minutes(periodMinutes),
      label: `${o.severity} rules at threshold`,
    }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: Math.max(1, Math.ceil(windowMinutes / periodMinutes)),
    datapointsToAlarm: 1,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
  });
}

/**
 * The CloudWatch side of detections: per stream one alarm per severity over its rules' `RuleMatches`
 * (dimensions stream, rule), or with `alarms: "per-rule"` one per enabled rule, notifying the SNS topic
 * of the severity; with `errorAlarms` per stream one on `DetectionErrors`; per rule a saved Logs Insights
 * query listing its matches; a dashboard row; and the Lambda's settings.
 */
export class DetectionAlarms extends Construct {
  readonly topics: Readonly<Record<Severity, sns.Topic>>;
  readonly alarms: cloudwatch.Alarm[] = [];
  readonly rules: readonly DeployedRule[];

  constructor(scope: Construct, id: string, props: DetectionAlarmsProps) {
    super(scope, id);
    this.rules = deployedRules(props);
    const shape = props.alarms ?? DetectionAlarmShape.PerSeverity;
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
      if (shape === DetectionAlarmShape.PerRule)
        for (const stream of props.streams) {
          const alarm = new cloudwatch.Alarm(this, `Rule-${d.rule.id}-${stream}`, {
            alarmDescription:
              `[${d.severity}] ${d.rule.title} (stream ${stream}): ${d.rule.description} ` +
              `Fires at ${d.threshold} or more in ${d.periodMinutes} min, counted at the events' own time over the last ` +
              `${d.evaluationPeriods * d.periodMinutes} min, then stays quiet until ${d.suppressMinutes} min pass without. ` +
              `Matches: Logs Insights query "${queryName}".`,
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
    if (shape === DetectionAlarmShape.PerSeverity)
      for (const stream of props.streams)
        for (const severity of Object.values(Severity)) {
          const rules = this.rules.filter((d) => d.severity === severity);
          for (let i = 0; i < rules.length; i += MAX_ALARM_METRICS) {
            const part = rules.slice(i, i + MAX_ALARM_METRICS);
            const suffix = rules.length > MAX_ALARM_METRICS ? `-${i / MAX_ALARM_METRICS + 1}` : "";
            const alarm = severityAlarm(this, `Severity-${severity}-${stream}${suffix}`, {
              severity,
              stream,
              rules: part,
              metric,
              stackName,
            });
            alarm.addAlarmAction(new cwActions.SnsAction(topics[severity]));
            this.alarms.push(alarm);
          }
        }
    if (this.rules.length > 0 && props.errorAlarms)
      for (const stream of props.streams) {
        const period = Duration.seconds(props.errorAlarms.periodSeconds(stream));
        const alarm = new cloudwatch.Alarm(this, `DetectionErrors-${stream}`, {
          alarmDescription:
            `Stream ${stream}: detection failed on stored events in the last ${period.toMinutes()} min (a rule threw on ` +
            "an event, or a batch of matches could not be logged). Ingestion is unaffected: the events are stored and " +
            "committed, but their matches are missing from RuleMatches and the detection alarms. The function's log has " +
            '"detection failed; the events are stored, ingestion goes on" with stage, eventId and error: report it; ' +
            `"npm start -- detect --stream ${stream}" over a copy of the lake lists the matches (README, Detections).`,
          metric: new cloudwatch.Metric({
            namespace: "MonitorLake",
            metricName: DETECTION_ERRORS_METRIC,
            dimensionsMap: { stream },
            statistic: "Sum",
            period,
          }),
          threshold: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 1,
          // Published only when a detection fails: no data is no failure.
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        });
        alarm.addAlarmAction(new cwActions.SnsAction(props.errorAlarms.topic));
        this.alarms.push(alarm);
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

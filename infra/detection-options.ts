/**
 * What a deployment tunes about detections (construct props or CDK context) and the rules it deploys,
 * checked once with every problem listed. The alarms themselves are in detection-alarms.ts.
 */
import {
  checkDetectionSettings,
  DEFAULT_RULES,
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
  /**
   * Quiet time after the alarm fires: the alarm stays in ALARM (no new notification) until this many
   * minutes pass without a period at the threshold, so an alert that keeps matching pages once, not
   * every period. It is also the alarm's evaluation window: a match this old can still raise it.
   * Whole minutes, up to 1440 (CloudWatch evaluates at most a day). @default 60
   */
  readonly suppressMinutes?: number;
}

/** How the rules page: one alarm per severity and stream (metric math), or one per rule and stream. */
export const DetectionAlarmShape = { PerSeverity: "per-severity", PerRule: "per-rule" } as const;
export type DetectionAlarmShape = (typeof DetectionAlarmShape)[keyof typeof DetectionAlarmShape];

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
  /**
   * `per-severity`: per stream one alarm per severity, on metric math over its rules' `RuleMatches`
   * (a rule counts when it reaches its threshold); `per-rule`: per stream one alarm per rule (about 20
   * per stream). Per-rule metrics, dashboard rows and queries are the same in both. @default per-severity
   */
  readonly alarms?: DetectionAlarmShape;
}

/** One rule as deployed. */
export interface DeployedRule {
  readonly rule: Rule;
  readonly threshold: number;
  readonly periodMinutes: number;
  readonly severity: Severity;
  readonly suppressMinutes: number;
  /** Periods the alarm evaluates (1 of them breaching raises it): max(lookback, suppression) long. */
  readonly evaluationPeriods: number;
}

export const DEFAULT_LOOKBACK_MINUTES = 60;
export const DEFAULT_SUPPRESS_MINUTES = 60;

/** Resolves the rules to deploy from the options; throws an Error that lists every invalid value. */
export function deployedRules(options: DetectionOptions): DeployedRule[] {
  if (options.enabled === false) return [];
  const problems: string[] = [];
  if (options.alarms !== undefined && !Object.values(DetectionAlarmShape).includes(options.alarms))
    problems.push(`alarms "${options.alarms}": use per-severity or per-rule.`);
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
    const suppressMinutes = o.suppressMinutes ?? DEFAULT_SUPPRESS_MINUTES;
    if (!(Number.isInteger(suppressMinutes) && suppressMinutes >= 1 && suppressMinutes <= 1440))
      problems.push(
        `rule "${rule.id}": suppressMinutes ${suppressMinutes} must be whole minutes from 1 to 1440.`,
      );
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
      suppressMinutes,
      // Any one period in the window reaching the threshold raises the alarm (1 of N), and it returns
      // to OK only once no period of the window does: the window is the lookback and the quiet time.
      evaluationPeriods: Math.max(1, Math.ceil(Math.max(lookback, suppressMinutes) / periodMinutes)),
    });
  }
  if (problems.length > 0) throw new Error(`monitor-lake detections:\n  ${problems.join("\n  ")}`);
  return deployed;
}

/**
 * Detection options from CDK context: `-c detections=false`, `-c allowedCountries=US,GB`,
 * `-c detectionAlarms=per-rule`,
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
        `-c detectionRules='{"<rule id>":{"threshold":5,"periodMinutes":60,"severity":"High","suppressMinutes":60,"enabled":false}}' (got ${JSON.stringify(raw)})`,
      );
    }
  }
  for (const id of parseList(text("detectionsOff"))) rules[id] = { ...rules[id], enabled: false };
  const countries = parseList(text("allowedCountries"));
  const lookback = text("detectionLookbackMinutes");
  const shape = text("detectionAlarms");
  if (problems.length > 0) throw new Error(`monitor-lake detections context:\n  ${problems.join("\n  ")}`);
  return {
    ...(enabled !== undefined ? { enabled: /^(true|on)$/i.test(enabled) } : {}),
    ...(Object.keys(rules).length > 0 ? { rules } : {}),
    ...(countries.length > 0 ? { allowedCountries: countries } : {}),
    ...(lookback !== undefined ? { lookbackMinutes: Number(lookback) } : {}),
    ...(shape !== undefined ? { alarms: shape as DetectionAlarmShape } : {}),
  };
}

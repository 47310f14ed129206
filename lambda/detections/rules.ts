/**
 * The detection rule pack: the security alarms a team wants from DocuSign Monitor, as data.
 *
 * Every exact value below is confirmed by monitor-api.md ("Event catalog": `Alert` codes,
 * `Account`/`UserAdded`, `Group`/`Deleted`, `data.SettingsKey`, `data.Severity`, the objects
 * `Account`/`Connect`/`User`/`PermissionSet` of peers' access-control content). What the catalog does
 * not confirm is a case-insensitive pattern (`Updated` in an action) or a setting (the country
 * allow-list). The Lambda (while it ingests), `npm start -- detect` (over a lake) and the CDK alarms
 * all read this one module.
 */

import { ADMIN_CHANGE_RULES } from "./admin-change-rules";

export const Severity = { High: "High", Medium: "Medium", Low: "Low" } as const;
export type Severity = (typeof Severity)[keyof typeof Severity];

/**
 * A field of the event: a dotted path (`action`, `data.Severity`, `ipAddressLocation.country`), or
 * several, of which the first one present counts (legacy and current generations name some fields
 * differently).
 */
export type FieldRef = string | readonly string[];

/** Settings a rule can compare against instead of a hard-coded value. */
export const Setting = { AllowedCountries: "allowedCountries" } as const;
export type Setting = (typeof Setting)[keyof typeof Setting];

/** One test on an event. "Present" means there and not `null`, `""` or `[]`. */
export type Condition =
  /** The field's value is exactly this string (or one of these), case-sensitive. */
  | { readonly field: FieldRef; readonly equals: string | readonly string[] }
  /** The field's value matches this regular expression, case-insensitively. */
  | { readonly field: FieldRef; readonly pattern: string }
  /** The field is present (`true`) or absent (`false`). */
  | { readonly field: FieldRef; readonly present: boolean }
  /** The field is present and its value (case-insensitively) is not in this list-valued setting. */
  | { readonly field: FieldRef; readonly notInSetting: Setting }
  /** At least one of these holds (where a change may show in `object`, `property` or a setting's key). */
  | { readonly anyOf: readonly Condition[] };

export interface Rule {
  /** Stable id: the metric's `rule` dimension, the alarm's and the saved query's name. Never rename. */
  readonly id: string;
  readonly title: string;
  /** What a match means, for the alarm description and the README. */
  readonly description: string;
  readonly severity: Severity;
  /** Every condition must hold. */
  readonly when: readonly Condition[];
  /** The event does not match if every one of these holds. @default none */
  readonly unless?: readonly Condition[];
  /** The alarm fires when matches in one period reach this many. */
  readonly threshold: number;
  /** The alarm's period, in minutes. */
  readonly periodMinutes: number;
  /** How to tune it: what a team usually changes. */
  readonly tuning: string;
  /** The rule is active only when this setting is given. @default always active */
  readonly requires?: Setting;
}

/** The confirmed Monitor alert codes (monitor-api.md). */
export const ALERT_CODES = {
  TooManyLoginFailures: "TooManyLoginFailures",
  IpAddressOutsideAllowedRanges: "IpAddressOutsideAllowedRanges",
  CredentialLeakDetected: "CredentialLeakDetected",
  SameSenderAndSigner: "SameSenderAndSigner",
} as const;

const isAlert: Condition = { field: "object", equals: "Alert" };
const alertCode = (code: string): readonly Condition[] => [isAlert, { field: "action", equals: code }];
const alertSeverity = (severity: Severity): readonly Condition[] => [
  isAlert,
  { field: "data.Severity", pattern: `^${severity}$` },
];
/** Generic verbs are confirmed (Created/Updated/Deleted); which ones each object uses is not: a pattern. */
const CHANGE_VERB = "(Created|Updated|Deleted|Added|Removed|Changed)";
/** Connect and webhook configuration (unconfirmed beyond the object `Connect`). */
const CONNECT = "webhook|connect.?(config|configuration|listener)";

export const DEFAULT_RULES: readonly Rule[] = [
  {
    id: "alert-too-many-login-failures",
    title: "Monitor alert: too many login failures",
    description:
      "DocuSign Monitor raised TooManyLoginFailures: repeated failed sign-ins, a password-guessing or credential-stuffing attempt.",
    severity: Severity.High,
    when: alertCode(ALERT_CODES.TooManyLoginFailures),
    threshold: 1,
    periodMinutes: 15,
    tuning:
      "Raise the threshold if a known integration with a stale password trips it; check data.EventIds for the failed logins.",
  },
  {
    id: "alert-ip-outside-allowed-ranges",
    title: "Monitor alert: IP address outside the allowed ranges",
    description:
      "DocuSign Monitor raised IpAddressOutsideAllowedRanges: activity from an address outside the account's allowed IP ranges.",
    severity: Severity.Medium,
    when: alertCode(ALERT_CODES.IpAddressOutsideAllowedRanges),
    threshold: 1,
    periodMinutes: 15,
    tuning:
      "Fix the allowed ranges in DocuSign when a new office or VPN egress trips it; raise the threshold only as a stopgap.",
  },
  {
    id: "alert-credential-leak",
    title: "Monitor alert: credential leak detected",
    description:
      "DocuSign Monitor raised CredentialLeakDetected: a user's credentials were found exposed. Reset them now.",
    severity: Severity.High,
    when: alertCode(ALERT_CODES.CredentialLeakDetected),
    threshold: 1,
    periodMinutes: 15,
    tuning: "Keep at 1: every match needs a password reset and a review of the user's sessions.",
  },
  {
    id: "alert-same-sender-and-signer",
    title: "Monitor alert: same sender and signer",
    description:
      "DocuSign Monitor raised SameSenderAndSigner: an envelope was signed by its own sender (data.SignerIp, data.SignerUserId), a sign of self-approval fraud.",
    severity: Severity.Medium,
    when: alertCode(ALERT_CODES.SameSenderAndSigner),
    threshold: 1,
    periodMinutes: 60,
    tuning:
      "Teams where senders legitimately countersign raise the threshold or disable it and rely on alert-severity-high.",
  },
  {
    id: "alert-severity-high",
    title: "Monitor alert of High severity",
    description: "Any DocuSign Monitor alert whose data.Severity is High, whatever its code.",
    severity: Severity.High,
    when: alertSeverity(Severity.High),
    threshold: 1,
    periodMinutes: 15,
    tuning: "Overlaps the per-code rules on purpose: it also catches codes this pack does not name.",
  },
  {
    id: "alert-severity-medium",
    title: "Monitor alert of Medium severity",
    description: "Any DocuSign Monitor alert whose data.Severity is Medium.",
    severity: Severity.Medium,
    when: alertSeverity(Severity.Medium),
    threshold: 1,
    periodMinutes: 60,
    tuning: "Raise the threshold if Medium alerts are routine in your organization.",
  },
  {
    id: "alert-severity-low",
    title: "Monitor alert of Low severity",
    description: "Any DocuSign Monitor alert whose data.Severity is Low.",
    severity: Severity.Low,
    when: alertSeverity(Severity.Low),
    threshold: 5,
    periodMinutes: 60,
    tuning: "A digest rather than a page: raise the threshold or disable it if the Low topic is noisy.",
  },
  {
    id: "alert-other",
    title: "Monitor alert of another kind",
    description:
      "A DocuSign Monitor alert whose code is none of the four confirmed ones (for example mass envelope deletion or removed recipient authentication, whose codes are not confirmed).",
    severity: Severity.Medium,
    when: [isAlert],
    unless: [{ field: "action", pattern: `^(${Object.values(ALERT_CODES).join("|")})$` }],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Read the alert's action to learn its code; the severity rules rank it by data.Severity.",
  },
  {
    id: "users-added",
    title: "Users added to an account",
    description:
      "Account/UserAdded: a user was added (data.AffectedUserId, data.PermissionProfileId). Several at once can be an attacker creating a foothold.",
    severity: Severity.Low,
    when: [
      { field: "object", equals: "Account" },
      { field: "action", equals: "UserAdded" },
    ],
    threshold: 5,
    periodMinutes: 60,
    tuning: "Set the threshold above your usual onboarding batch; 1 pages on every new user.",
  },
  {
    id: "account-settings-changed",
    title: "Account settings changed",
    description:
      "An Account event naming a setting (data.SettingsKey): security settings such as signer authentication or allowed IP ranges may have changed.",
    severity: Severity.Medium,
    when: [
      { field: "object", equals: "Account" },
      { field: "data.SettingsKey", present: true },
    ],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Raise the threshold if administrators change settings often; the log line names the user.",
  },
  {
    id: "user-access-changed",
    title: "User permissions changed",
    description:
      "A User event whose action contains Updated (peers' access-control pattern): a user's permission profile or rights may have changed.",
    severity: Severity.Medium,
    when: [
      { field: "object", equals: "User" },
      { field: "action", pattern: "Updated" },
    ],
    threshold: 3,
    periodMinutes: 60,
    tuning:
      "User updates include profile edits: raise the threshold, or narrow it by `property` in the module.",
  },
  {
    id: "permission-set-changed",
    title: "Permission set changed",
    description:
      "A permission set (or permission profile) was created, updated or deleted: what a whole class of users may do changed.",
    severity: Severity.High,
    when: [
      {
        anyOf: [
          { field: "object", equals: "PermissionSet" },
          { field: "object", pattern: "^permission.?profiles?$" },
        ],
      },
      { field: "action", pattern: CHANGE_VERB },
    ],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Rare and powerful: keep at 1.",
  },
  {
    id: "group-changed",
    title: "Group changed",
    description:
      "A Group event whose action contains Updated: group membership or the group's permissions changed.",
    severity: Severity.Low,
    when: [
      { field: "object", equals: "Group" },
      { field: "action", pattern: "Updated" },
    ],
    threshold: 3,
    periodMinutes: 60,
    tuning: "Raise the threshold if groups follow your HR system and change daily.",
  },
  {
    id: "group-deleted",
    title: "Group deleted",
    description: "Group/Deleted (data.GroupId): a group and the access it granted were removed.",
    severity: Severity.Medium,
    when: [
      { field: "object", equals: "Group" },
      { field: "action", equals: "Deleted" },
    ],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Keep at 1 unless groups are deleted by automation.",
  },
  {
    id: "connect-configuration-changed",
    title: "Connect configuration changed",
    description:
      "A Connect (webhook) configuration created, updated or deleted (object Connect, or a webhook/Connect object or setting key): envelope data may now flow to a new endpoint.",
    severity: Severity.High,
    when: [
      {
        anyOf: [
          { field: "object", equals: "Connect" },
          { field: "object", pattern: CONNECT },
          { field: "data.SettingsKey", pattern: CONNECT },
        ],
      },
      { field: "action", pattern: CHANGE_VERB },
    ],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Keep at 1: a new Connect endpoint is a classic exfiltration path.",
  },
  ...ADMIN_CHANGE_RULES,
  {
    id: "activity-outside-allowed-countries",
    title: "Activity from a country outside the allow-list",
    description:
      "An event located (ipAddressLocation.country or country) in a country that is not in the configured allow-list.",
    severity: Severity.Medium,
    when: [{ field: ["ipAddressLocation.country", "country"], notInSetting: Setting.AllowedCountries }],
    threshold: 1,
    periodMinutes: 60,
    tuning:
      "Active only with an allow-list (-c allowedCountries=US,GB); add a country when travel or a new office trips it.",
    requires: Setting.AllowedCountries,
  },
];

/** Settings the rules read; the Lambda gets them from its environment, the CLI from flags. */
export interface DetectionSettings {
  /** ISO 3166 alpha-2 codes, upper case. Without it the country rule is off. @default none */
  readonly allowedCountries?: readonly string[];
  /** Rule ids switched off. @default none */
  readonly disabledRules?: readonly string[];
}

/** The EMF metric counting matches, dimensions `stream` and `rule`. */
export const DETECTION_METRIC = "RuleMatches";
/** The `message` of the per-match log line; the saved Logs Insights queries filter on it. */
export const DETECTION_LOG_MESSAGE = "detection";

/** The Lambda's environment variables for detections; `infra/` sets them from construct props. */
export const DETECTION_ENV = {
  allowedCountries: "DETECTION_ALLOWED_COUNTRIES",
  disabledRules: "DETECTION_DISABLED_RULES",
} as const;

/** A comma- or space-separated list, trimmed, without empties. */
export function parseList(text: string | undefined): string[] {
  return (text ?? "")
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

/**
 * Reads and checks the settings; returns the problems (empty when valid), each naming its setting by
 * `labels` (an environment variable, a flag), so that callers raise their own error with every problem.
 */
export function checkDetectionSettings(
  input: { readonly allowedCountries?: string | undefined; readonly disabledRules?: string | undefined },
  labels: { readonly allowedCountries: string; readonly disabledRules: string } = DETECTION_ENV,
  rules: readonly Rule[] = DEFAULT_RULES,
): { settings: DetectionSettings; problems: string[] } {
  const problems: string[] = [];
  const countries = parseList(input.allowedCountries).map((c) => c.toUpperCase());
  const badCountries = countries.filter((c) => !/^[A-Z]{2}$/.test(c));
  if (badCountries.length > 0)
    problems.push(
      `${labels.allowedCountries}: "${badCountries.join(", ")}" is not a list of two-letter ISO 3166 country codes: use e.g. US,GB,DE.`,
    );
  const disabled = parseList(input.disabledRules);
  const ids = new Set(rules.map((r) => r.id));
  const unknown = disabled.filter((id) => !ids.has(id));
  if (unknown.length > 0)
    problems.push(
      `${labels.disabledRules}: unknown detection rule(s) "${unknown.join(", ")}"; the rule ids are ${[...ids].join(", ")}.`,
    );
  return {
    settings: {
      ...(countries.length > 0 ? { allowedCountries: countries } : {}),
      ...(disabled.length > 0 ? { disabledRules: disabled } : {}),
    },
    problems,
  };
}

/** The rules that run: not disabled, and with the settings they require. */
export function activeRules(settings: DetectionSettings, rules: readonly Rule[] = DEFAULT_RULES): Rule[] {
  const disabled = new Set(settings.disabledRules ?? []);
  return rules.filter(
    (r) =>
      !disabled.has(r.id) &&
      (r.requires !== Setting.AllowedCountries || (settings.allowedCountries ?? []).length > 0),
  );
}

/**
 * Which OCSF 1.1.0 class and activity each DocuSign Monitor event becomes: an ordered list of rules
 * over the columns of the `ocsf_events` view (`obj` = object, `act` = lower-cased action), the
 * first that holds wins, and an event no rule takes is a Base Event (class 0, activity 99 Other):
 * emitted and counted, never dropped.
 *
 * Only `Account`/`UserAdded`, `Envelope`/`Created`|`Sent`, `Template`/`Created`, `Group`/`Deleted`
 * and the `Alert` object are confirmed DocuSign strings (docs/monitor-api.md); every other rule
 * is a case-insensitive pattern on the action, so that a real code we have not seen still lands in
 * its class. A rule also requires what its class cannot do without (the target user of an account
 * change, the envelope id of an envelope activity): an event lacking it falls through to a later
 * rule or to the Base Event, so every record validates.
 */

/** The classes the views emit, with OCSF 1.1.0's names and uids. */
export const OCSF_CLASSES = {
  base_event: { uid: 0, caption: "Base Event", categoryUid: 0, category: "Uncategorized" },
  detection_finding: { uid: 2004, caption: "Detection Finding", categoryUid: 2, category: "Findings" },
  account_change: {
    uid: 3001,
    caption: "Account Change",
    categoryUid: 3,
    category: "Identity & Access Management",
  },
  authentication: {
    uid: 3002,
    caption: "Authentication",
    categoryUid: 3,
    category: "Identity & Access Management",
  },
  entity_management: {
    uid: 3004,
    caption: "Entity Management",
    categoryUid: 3,
    category: "Identity & Access Management",
  },
  user_access: {
    uid: 3005,
    caption: "User Access Management",
    categoryUid: 3,
    category: "Identity & Access Management",
  },
  group_management: {
    uid: 3006,
    caption: "Group Management",
    categoryUid: 3,
    category: "Identity & Access Management",
  },
  web_resources_activity: {
    uid: 6001,
    caption: "Web Resources Activity",
    categoryUid: 6,
    category: "Application Activity",
  },
} as const;

export type OcsfClassName = keyof typeof OCSF_CLASSES;

/** OCSF 1.1.0's activity captions per class (0 Unknown and 99 Other in every class). */
export const ACTIVITIES: Readonly<Record<OcsfClassName, Readonly<Record<number, string>>>> = {
  base_event: { 0: "Unknown", 99: "Other" },
  detection_finding: { 0: "Unknown", 1: "Create", 2: "Update", 3: "Close", 99: "Other" },
  account_change: {
    0: "Unknown",
    1: "Create",
    2: "Enable",
    3: "Password Change",
    4: "Password Reset",
    5: "Disable",
    6: "Delete",
    7: "Attach Policy",
    8: "Detach Policy",
    9: "Lock",
    10: "MFA Factor Enable",
    11: "MFA Factor Disable",
    99: "Other",
  },
  authentication: {
    0: "Unknown",
    1: "Logon",
    2: "Logoff",
    3: "Authentication Ticket",
    4: "Service Ticket Request",
    5: "Service Ticket Renew",
    99: "Other",
  },
  entity_management: { 0: "Unknown", 1: "Create", 2: "Read", 3: "Update", 4: "Delete", 99: "Other" },
  user_access: { 0: "Unknown", 1: "Assign Privileges", 2: "Revoke Privileges", 99: "Other" },
  group_management: {
    0: "Unknown",
    1: "Assign Privileges",
    2: "Revoke Privileges",
    3: "Add User",
    4: "Remove User",
    5: "Delete",
    6: "Create",
    99: "Other",
  },
  web_resources_activity: {
    0: "Unknown",
    1: "Create",
    2: "Read",
    3: "Update",
    4: "Delete",
    5: "Search",
    6: "Import",
    7: "Export",
    8: "Share",
    99: "Other",
  },
};

export interface Rule {
  readonly class: OcsfClassName;
  readonly activity: number;
  /** SQL over `ocsf_events`' extraction columns. */
  readonly when: string;
}

const like = (...patterns: string[]): string => `(${patterns.map((p) => `act LIKE '${p}'`).join(" OR ")})`;
const has = (column: string): string => `${column} IS NOT NULL`;

/** Entity Management's activity by verb, for any object without a class of its own. */
const entityVerbs: readonly [number, string][] = [
  [1, like("%created%", "%added%")],
  [2, like("%viewed%", "%read%")],
  [3, like("%updated%", "%changed%", "%modified%", "%claimed%")],
  [4, like("%deleted%", "%removed%")],
  [99, "true"],
];

/** Envelope verbs (Created and Sent are confirmed; the rest are patterns). */
const envelopeVerbs: readonly [number, string][] = [
  [1, "act = 'created'"],
  [8, `(act = 'sent' OR ${like("%shared%")})`],
  [2, like("%viewed%", "%opened%")],
  [7, like("%download%")],
  [4, like("%deleted%", "%purged%")],
  [3, like("%updated%", "%corrected%", "%changed%", "%removed%")],
  [99, "true"],
];

export const RULES: readonly Rule[] = [
  // Monitor's own alerts (object "Alert" is confirmed; the action is the alert's code).
  { class: "detection_finding", activity: 1, when: "obj = 'Alert'" },
  // Group membership: a user added to or removed from a group.
  {
    class: "group_management",
    activity: 3,
    when: `obj = 'Group' AND ${has("group_id")} AND ${has("member_user_id")} AND ${like("%user%added%", "%member%added%")}`,
  },
  {
    class: "group_management",
    activity: 4,
    when: `obj = 'Group' AND ${has("group_id")} AND ${has("member_user_id")} AND ${like("%user%removed%", "%member%removed%")}`,
  },
  // Permission-profile and administrator-right changes of a user.
  {
    class: "user_access",
    activity: 1,
    when: `obj = 'User' AND ${has("target_user_id")} AND (lower(property) LIKE '%permission%' OR ${has("new_profile_id")})`,
  },
  { class: "user_access", activity: 1, when: `${has("target_user_id")} AND ${like("%admin%added%")}` },
  { class: "user_access", activity: 2, when: `${has("target_user_id")} AND ${like("%admin%removed%")}` },
  // Account changes. Self-service ones (password, second factor, lockout) target the acting user.
  {
    class: "account_change",
    activity: 1,
    when: `obj = 'Account' AND act = 'useradded' AND ${has("target_user_id")}`,
  },
  { class: "account_change", activity: 4, when: `${has("self_user_id")} AND ${like("%password%reset%")}` },
  { class: "account_change", activity: 3, when: `${has("self_user_id")} AND ${like("%password%")}` },
  {
    class: "account_change",
    activity: 10,
    when: `${has("self_user_id")} AND ${like("%twofactor%enabled%", "%mfa%enabled%")}`,
  },
  {
    class: "account_change",
    activity: 11,
    when: `${has("self_user_id")} AND ${like("%twofactor%disabled%", "%mfa%disabled%")}`,
  },
  {
    class: "account_change",
    activity: 9,
    when: `${has("self_user_id")} AND ${like("%lockedout%", "%lockout%")}`,
  },
  {
    class: "account_change",
    activity: 5,
    when: `obj IN ('User', 'Account') AND ${has("target_user_id")} AND ${like("%closed%", "%disabled%", "%deactivated%")}`,
  },
  {
    class: "account_change",
    activity: 2,
    when: `obj IN ('User', 'Account') AND ${has("target_user_id")} AND ${like("%reactivated%", "%enabled%", "%activated%")}`,
  },
  {
    class: "account_change",
    activity: 6,
    when: `${has("target_user_id")} AND ((obj = 'User' AND ${like("%deleted%")}) OR (obj = 'Account' AND ${like("%userremoved%", "%userdeleted%")}))`,
  },
  // Sign-ins and sign-outs (codes unconfirmed: patterns), and a failed second factor.
  {
    class: "authentication",
    activity: 2,
    when: `${has("user_id")} AND ${like("%logout%", "%logoff%", "%signout%", "%signedout%")}`,
  },
  {
    class: "authentication",
    activity: 1,
    when: `${has("user_id")} AND ${like("%login%", "%logon%", "%signin%", "%signedin%", "%twofactor%", "%mfa%")}`,
  },
  // Envelope activity.
  ...envelopeVerbs.map(
    ([activity, verb]): Rule => ({
      class: "web_resources_activity",
      activity,
      when: `obj = 'Envelope' AND ${has("envelope_id")} AND ${verb}`,
    }),
  ),
  // Templates, settings, groups, permission sets, Connect, integration keys and every other object.
  ...entityVerbs.map(
    ([activity, verb]): Rule => ({
      class: "entity_management",
      activity,
      when: `obj IS NOT NULL AND obj NOT IN ('Envelope', 'Alert') AND ${verb}`,
    }),
  ),
];

/** `class_uid * 100 + activity_id` of the first rule that holds, else 99 (Base Event: Other). */
export function typeUidSql(): string {
  const arms = RULES.map((r) => `WHEN ${r.when} THEN ${OCSF_CLASSES[r.class].uid * 100 + r.activity}`);
  return `CASE ${arms.join(" ")} ELSE 99 END`;
}

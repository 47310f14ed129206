import { describe, expect, it } from "vitest";
import type { MonitorEvent } from "../../lambda/core/ports";
import { createMatcher, RecentIds } from "../../lambda/detections/match";
import {
  activeRules,
  type Condition,
  checkDetectionSettings,
  DEFAULT_RULES,
  type DetectionSettings,
} from "../../lambda/detections/rules";

let n = 0;
/** A hand-built event with the catalog's shape; `over` sets or replaces fields. */
function event(over: Record<string, unknown>): MonitorEvent {
  n++;
  return {
    timestamp: "2026-11-20T10:42:19.8996904Z",
    eventId: `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`,
    site: "DEMO",
    accountId: "a1",
    userId: "u1",
    ipAddress: "103.108.207.58",
    ipAddressLocation: { country: "US", city: "Seattle" },
    object: "Envelope",
    action: "Sent",
    property: "",
    field: "",
    result: "Success",
    source: "Web",
    data: {},
    ...over,
  };
}

const alert = (action: string, data: Record<string, unknown> = {}): MonitorEvent =>
  event({
    object: "Alert",
    action,
    result: "",
    source: "Other",
    accountId: "",
    data: { EventIds: ["x"], ...data },
  });

const settings: DetectionSettings = { allowedCountries: ["US", "GB"] };
const matcher = createMatcher(activeRules(settings), settings);
const ruleIds = (e: MonitorEvent): string[] => matcher.match(e).map((m) => m.rule.id);

/** Per default rule: events it must match, and near misses it must not. */
const CASES: Record<string, { match: MonitorEvent[]; miss: MonitorEvent[] }> = {
  "alert-too-many-login-failures": {
    match: [alert("TooManyLoginFailures", { Count: "12" })],
    miss: [alert("toomanyloginfailures"), event({ object: "User", action: "TooManyLoginFailures" })],
  },
  "alert-ip-outside-allowed-ranges": {
    // The sample Sumo Logic published (monitor-api.md), verbatim.
    match: [
      JSON.parse(
        '{"timestamp":"2023-02-20T10:42:19.8996904Z","eventId":"285e7634-07fd-4877-ac12-b921d0e4b626","site":"DEMO","accountId":"","organizationId":"7f46f1ee-828e-41d4-9d85-755fa1814fd4","userId":"9cfb472b-ef1f-4116-8df2-17c53841fd6c","integratorKey":"","userAgent":"","ipAddress":"103.108.207.58","object":"Alert","action":"IpAddressOutsideAllowedRanges","property":"","field":"","result":"","source":"Other","referencedUserId":"","data":{"EventIds":["16b4a651-1e21-42a3-90ea-f5227224b591","1addc090-d227-4166-a279-dc6c5277247b"],"Count":"18"}}',
      ) as MonitorEvent,
    ],
    miss: [event({ object: "Account", action: "IpAddressOutsideAllowedRanges" })],
  },
  "alert-credential-leak": {
    match: [alert("CredentialLeakDetected", { Severity: "High" })],
    miss: [alert("CredentialLeak")],
  },
  "alert-same-sender-and-signer": {
    match: [alert("SameSenderAndSigner", { SignerIp: "203.0.113.9", Severity: "Low" })],
    miss: [event({ object: "Envelope", action: "SameSenderAndSigner" })],
  },
  "alert-severity-high": {
    match: [alert("SomethingNew", { Severity: "High" }), alert("TooManyLoginFailures", { Severity: "high" })],
    miss: [alert("SomethingNew", { Severity: "Highest" }), event({ data: { Severity: "High" } })],
  },
  "alert-severity-medium": {
    match: [alert("SameSenderAndSigner", { Severity: "Medium" })],
    miss: [alert("SameSenderAndSigner", { Severity: "Low" }), alert("SameSenderAndSigner")],
  },
  "alert-severity-low": {
    match: [alert("TooManyLoginFailures", { Severity: "LOW" })],
    miss: [alert("TooManyLoginFailures", { Severity: "Medium" })],
  },
  "alert-other": {
    match: [alert("MassEnvelopeDeletion", { Count: "120" })],
    miss: [alert("TooManyLoginFailures"), alert("CredentialLeakDetected"), event({ action: "Deleted" })],
  },
  "users-added": {
    match: [event({ object: "Account", action: "UserAdded", data: { AffectedUserId: "u2" } })],
    miss: [
      event({ object: "Account", action: "UserRemoved" }),
      event({ object: "User", action: "UserAdded" }),
    ],
  },
  "account-settings-changed": {
    match: [
      event({
        object: "Account",
        action: "Updated",
        property: "AccountSettings",
        data: { SettingsKey: "EnableAutoNav" },
      }),
    ],
    miss: [
      event({ object: "Account", action: "Updated", data: {} }),
      event({ object: "Account", action: "Updated", data: { SettingsKey: "" } }),
      event({ object: "Envelope", action: "Updated", data: { SettingsKey: "X" } }),
    ],
  },
  "user-access-changed": {
    match: [
      event({ object: "User", action: "Updated", property: "PermissionProfile" }),
      event({ object: "User", action: "PermissionsUpdated" }),
    ],
    miss: [event({ object: "User", action: "Login" }), event({ object: "Envelope", action: "Updated" })],
  },
  "permission-set-changed": {
    match: [
      event({ object: "PermissionSet", action: "Updated" }),
      event({ object: "PermissionSet", action: "Created" }),
      event({ object: "PermissionProfile", action: "Created" }),
    ],
    miss: [
      event({ object: "PermissionSet", action: "Viewed" }),
      event({ object: "permissionset", action: "Updated" }),
    ],
  },
  "group-changed": {
    match: [event({ object: "Group", action: "Updated", data: { GroupId: "7" } })],
    miss: [event({ object: "Group", action: "Created" }), event({ object: "Group", action: "Deleted" })],
  },
  "group-deleted": {
    match: [event({ object: "Group", action: "Deleted", data: { GroupId: "7" } })],
    miss: [event({ object: "Group", action: "deleted" }), event({ object: "Template", action: "Deleted" })],
  },
  "connect-configuration-changed": {
    match: [
      event({ object: "Connect", action: "Updated", property: "ConnectConfiguration" }),
      event({ object: "Connect", action: "Deleted" }),
      event({ object: "Webhook", action: "Created" }),
      event({ object: "Account", action: "Updated", data: { SettingsKey: "ConnectConfiguration" } }),
    ],
    miss: [event({ object: "Connect", action: "Published" }), event({ object: "Webhook", action: "Viewed" })],
  },
  "admin-granted": {
    match: [
      event({ object: "Account", action: "AdminAdded" }),
      event({ object: "User", action: "Updated", property: "IsAdmin" }),
      event({ object: "Organization", action: "AdministratorAssigned" }),
      event({
        object: "Account",
        action: "UserAdded",
        data: { PermissionProfileName: "Account Administrator" },
      }),
    ],
    miss: [
      event({ object: "Account", action: "UserAdded", data: { PermissionProfileName: "DocuSign Sender" } }),
      event({ object: "User", action: "AdminRemoved" }),
      event({ object: "User", action: "Login", property: "Admin" }),
      alert("AdminAdded"),
    ],
  },
  "identity-provider-changed": {
    match: [
      event({ object: "IdentityProvider", action: "Created" }),
      event({ object: "Organization", action: "Updated", property: "SAML2Configuration" }),
      event({ object: "Account", action: "Updated", data: { SettingsKey: "SsoEnabled" } }),
      event({ object: "Organization", action: "Updated", property: "Single Sign-On" }),
      event({ object: "Organization", action: "IdentityProviderUpdated" }),
    ],
    miss: [
      event({ object: "IdentityProvider", action: "Viewed" }),
      event({ object: "Account", action: "Updated", property: "Password", data: { SettingsKey: "Lesson" } }),
      event({ object: "Envelope", action: "Updated", property: "Association" }),
      event({ object: "User", action: "SsoLogin", data: { IdentityProvider: "Okta" } }),
    ],
  },
  "integration-key-changed": {
    match: [
      event({ object: "IntegrationKey", action: "Created" }),
      event({ object: "App", action: "Added", property: "ClientSecret" }),
      event({ object: "IntegratorKey", action: "RsaKeyGenerated" }),
      event({ object: "Account", action: "Updated", property: "ApiKey" }),
      event({ object: "IntegratorKey", action: "SecretAdded" }),
    ],
    miss: [
      event({ object: "IntegrationKey", action: "Deleted" }),
      event({ object: "Envelope", action: "Sent", integratorKey: "ik-1" }),
    ],
  },
  "domain-changed": {
    match: [
      event({ object: "Domain", action: "Claimed" }),
      event({ object: "Domain", action: "Released" }),
      event({ object: "Organization", action: "Updated", property: "ReservedDomain" }),
      event({ object: "OrganizationDomain", action: "Verified" }),
      event({ object: "Organization", action: "DomainClaimed" }),
    ],
    miss: [
      event({ object: "Domain", action: "Viewed" }),
      event({ object: "User", action: "Updated", property: "Email" }),
    ],
  },
  "activity-outside-allowed-countries": {
    match: [
      event({ ipAddressLocation: { country: "RU" } }),
      // Current generation: the flattened `country` when the nested location is empty.
      event({ ipAddressLocation: { country: "" }, country: "ng" }),
    ],
    miss: [
      event({ ipAddressLocation: { country: "gb" } }),
      event({ ipAddressLocation: undefined, country: "US" }),
      event({ ipAddressLocation: { country: "" } }),
    ],
  },
};

describe("the default rule pack", () => {
  it("has a case for every rule, and unique ids usable as metric dimensions and alarm names", () => {
    expect(Object.keys(CASES).sort()).toEqual(DEFAULT_RULES.map((r) => r.id).sort());
    for (const r of DEFAULT_RULES) {
      expect(r.id).toMatch(/^[a-z0-9-]{1,64}$/);
      expect(r.threshold).toBeGreaterThanOrEqual(1);
      expect(r.periodMinutes).toBeGreaterThanOrEqual(1);
    }
  });

  for (const [id, c] of Object.entries(CASES)) {
    it(`${id}: matches its planted events and not the near misses`, () => {
      for (const e of c.match) expect(ruleIds(e), JSON.stringify(e)).toContain(id);
      for (const e of c.miss) expect(ruleIds(e), JSON.stringify(e)).not.toContain(id);
    });
  }

  it("matches nothing on routine activity", () => {
    for (const e of [
      event({}),
      event({ object: "Envelope", action: "Created" }),
      event({ object: "Template", action: "Created" }),
      event({ object: "User", action: "Login", result: "Failed" }),
    ])
      expect(ruleIds(e)).toEqual([]);
  });

  it("ships no guessed string: exact objects and actions are confirmed (monitor-api.md), the rest are patterns", () => {
    const confirmed: Record<string, Set<string>> = {
      action: new Set([
        "UserAdded",
        "Deleted",
        "TooManyLoginFailures",
        "IpAddressOutsideAllowedRanges",
        "CredentialLeakDetected",
        "SameSenderAndSigner",
      ]),
      object: new Set(["Alert", "Account", "User", "Group", "PermissionSet", "Connect"]),
    };
    const flat = (cs: readonly Condition[]): Condition[] =>
      cs.flatMap((c) => ("anyOf" in c ? flat(c.anyOf) : [c]));
    let exact = 0;
    for (const r of DEFAULT_RULES)
      for (const c of flat([...r.when, ...(r.unless ?? [])]))
        if ("equals" in c) {
          const allowed = confirmed[String(c.field)];
          expect(allowed, `${r.id}: ${String(c.field)}`).toBeDefined();
          for (const v of typeof c.equals === "string" ? [c.equals] : c.equals) {
            expect(allowed).toContain(v);
            exact++;
          }
        }
    expect(exact).toBeGreaterThan(10);
  });
});

describe("settings", () => {
  it("turns the country rule on only with an allow-list, and drops disabled rules", () => {
    expect(activeRules({}).map((r) => r.id)).not.toContain("activity-outside-allowed-countries");
    const ids = activeRules({ allowedCountries: ["US"], disabledRules: ["users-added"] }).map((r) => r.id);
    expect(ids).toContain("activity-outside-allowed-countries");
    expect(ids).not.toContain("users-added");
  });

  it("lists every bad value with its setting and the fix", () => {
    const { problems } = checkDetectionSettings(
      { allowedCountries: "US, Germany", disabledRules: "users-added,no-such-rule" },
      { allowedCountries: "--allowed-countries", disabledRules: "--disable" },
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/--allowed-countries: "GERMANY" .*two-letter ISO 3166.*e\.g\. US,GB,DE/);
    expect(problems[1]).toMatch(
      /--disable: unknown detection rule\(s\) "no-such-rule"; the rule ids are .*users-added/,
    );
    expect(checkDetectionSettings({ allowedCountries: "us gb" }).settings.allowedCountries).toEqual([
      "US",
      "GB",
    ]);
  });
});

describe("RecentIds", () => {
  it("forgets the oldest id first", () => {
    const ids = new RecentIds(2);
    expect([ids.add("a"), ids.add("b"), ids.add("a"), ids.add("c"), ids.add("a"), ids.add("c")]).toEqual([
      true,
      true,
      false,
      true,
      true,
      false,
    ]);
    expect([ids.has("a"), ids.has("b"), ids.has("c")]).toEqual([true, false, true]);
  });
});

/**
 * The event types the simulator produces. Those marked `confirmed` use strings confirmed by peers'
 * sample data or detection content (monitor-api.md, "Event catalog"). All others are ILLUSTRATIVE:
 * plausible shapes invented for the simulator, not DocuSign's real strings. Never copy them into
 * shipped queries or alarms.
 */

export interface EventType {
  readonly object: string;
  readonly action: string;
  readonly confirmed: boolean;
  /** Relative frequency. */
  readonly weight: number;
  readonly property?: string;
  readonly result?: "Success" | "Failed" | "";
  readonly source?: "API" | "Web" | "Other";
  /** Builds `data`; `pick` returns a random element, `id` a random GUID. */
  readonly data?: (ctx: DataContext) => Record<string, unknown>;
}

export interface DataContext {
  readonly id: () => string;
  readonly int: (max: number) => number;
  readonly pick: <T>(items: readonly T[]) => T;
  readonly recentEventIds: () => string[];
}

const severities = ["Low", "Medium", "High"] as const;

export const EVENT_TYPES: readonly EventType[] = [
  // Confirmed by peers' sample data or detection content.
  {
    object: "Account",
    action: "UserAdded",
    confirmed: true,
    weight: 3,
    result: "Success",
    data: (c) => ({
      AffectedUserId: c.id(),
      AffectedMembershipId: c.id(),
      PermissionProfileId: String(10000 + c.int(9000)),
    }),
  },
  {
    object: "Envelope",
    action: "Created",
    confirmed: true,
    weight: 30,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Sent",
    confirmed: true,
    weight: 25,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Template",
    action: "Created",
    confirmed: true,
    weight: 4,
    result: "Success",
    data: (c) => ({ TemplateId: c.id() }),
  },
  {
    object: "Group",
    action: "Deleted",
    confirmed: true,
    weight: 1,
    result: "Success",
    data: (c) => ({ GroupId: String(c.int(99999)) }),
  },
  {
    object: "Account",
    action: "Updated",
    confirmed: true,
    weight: 3,
    property: "AccountSettings",
    result: "Success",
    data: (c) => ({
      SettingsKey: c.pick([
        "EnableSignerAttachments",
        "AllowEnvelopeCorrect",
        "EnableAutoNav",
        "RequireSignerCertificate",
      ]),
    }),
  },
  {
    object: "Alert",
    action: "IpAddressOutsideAllowedRanges",
    confirmed: true,
    weight: 1,
    result: "",
    source: "Other",
    data: (c) => ({ EventIds: c.recentEventIds(), Count: String(2 + c.int(30)) }),
  },
  {
    object: "Alert",
    action: "SameSenderAndSigner",
    confirmed: true,
    weight: 1,
    result: "",
    source: "Other",
    data: (c) => ({
      EventIds: c.recentEventIds(),
      EnvelopeId: c.id(),
      EnvelopeType: "Envelope",
      SignerIp: `203.0.113.${c.int(254)}`,
      SignerUserId: c.id(),
      SignerUserAgent: "Mozilla/5.0",
      Severity: c.pick(severities),
    }),
  },
  {
    object: "Alert",
    action: "TooManyLoginFailures",
    confirmed: true,
    weight: 1,
    result: "",
    source: "Other",
    data: (c) => ({
      EventIds: c.recentEventIds(),
      Count: String(5 + c.int(20)),
      Severity: c.pick(severities),
    }),
  },
  {
    object: "Alert",
    action: "CredentialLeakDetected",
    confirmed: true,
    weight: 0.3,
    result: "",
    source: "Other",
    data: (c) => ({ EventIds: c.recentEventIds(), Severity: "High" }),
  },
  // ILLUSTRATIVE from here on: invented names, not DocuSign's confirmed strings.
  {
    object: "User",
    action: "Login",
    confirmed: false,
    weight: 40,
    result: "Success",
    data: () => ({ AuthenticationMethod: "Password" }),
  },
  {
    object: "User",
    action: "Login",
    confirmed: false,
    weight: 6,
    result: "Failed",
    data: (c) => ({ FailureReason: c.pick(["InvalidPassword", "UserLocked", "UnknownUser"]) }),
  },
  { object: "User", action: "Logout", confirmed: false, weight: 10, result: "Success" },
  { object: "User", action: "PasswordChanged", confirmed: false, weight: 2, result: "Success" },
  { object: "User", action: "PasswordResetRequested", confirmed: false, weight: 1, result: "Success" },
  { object: "User", action: "TwoFactorEnabled", confirmed: false, weight: 1, result: "Success" },
  { object: "User", action: "TwoFactorFailed", confirmed: false, weight: 1, result: "Failed" },
  {
    object: "User",
    action: "SsoLogin",
    confirmed: false,
    weight: 8,
    result: "Success",
    data: () => ({ IdentityProvider: "Okta" }),
  },
  { object: "User", action: "LockedOut", confirmed: false, weight: 0.5, result: "Failed" },
  {
    object: "User",
    action: "Updated",
    confirmed: false,
    weight: 2,
    property: "PermissionProfile",
    result: "Success",
    data: (c) => ({
      AffectedUserId: c.id(),
      OldPermissionProfileId: "1",
      NewPermissionProfileId: String(c.int(20)),
    }),
  },
  {
    object: "User",
    action: "Deleted",
    confirmed: false,
    weight: 0.5,
    result: "Success",
    data: (c) => ({ AffectedUserId: c.id() }),
  },
  {
    object: "User",
    action: "Closed",
    confirmed: false,
    weight: 0.5,
    result: "Success",
    data: (c) => ({ AffectedUserId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Viewed",
    confirmed: false,
    weight: 20,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Downloaded",
    confirmed: false,
    weight: 10,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id(), DocumentCount: String(1 + c.int(5)) }),
  },
  {
    object: "Envelope",
    action: "Voided",
    confirmed: false,
    weight: 2,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Deleted",
    confirmed: false,
    weight: 1,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Corrected",
    confirmed: false,
    weight: 1,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Completed",
    confirmed: false,
    weight: 15,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "Printed",
    confirmed: false,
    weight: 1,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Envelope",
    action: "RecipientAuthenticationRemoved",
    confirmed: false,
    weight: 0.3,
    result: "Success",
    data: (c) => ({ EnvelopeId: c.id() }),
  },
  {
    object: "Template",
    action: "Updated",
    confirmed: false,
    weight: 2,
    result: "Success",
    data: (c) => ({ TemplateId: c.id() }),
  },
  {
    object: "Template",
    action: "Deleted",
    confirmed: false,
    weight: 0.5,
    result: "Success",
    data: (c) => ({ TemplateId: c.id() }),
  },
  {
    object: "Template",
    action: "Shared",
    confirmed: false,
    weight: 1,
    result: "Success",
    data: (c) => ({ TemplateId: c.id() }),
  },
  {
    object: "Group",
    action: "Created",
    confirmed: false,
    weight: 0.5,
    result: "Success",
    data: (c) => ({ GroupId: String(c.int(99999)) }),
  },
  {
    object: "Group",
    action: "Updated",
    confirmed: false,
    weight: 1,
    result: "Success",
    data: (c) => ({ GroupId: String(c.int(99999)) }),
  },
  {
    object: "PermissionSet",
    action: "Updated",
    confirmed: false,
    weight: 0.5,
    property: "Permissions",
    result: "Success",
  },
  { object: "PermissionSet", action: "Created", confirmed: false, weight: 0.3, result: "Success" },
  {
    object: "Connect",
    action: "Updated",
    confirmed: false,
    weight: 0.5,
    property: "ConnectConfiguration",
    result: "Success",
  },
  { object: "Connect", action: "Created", confirmed: false, weight: 0.2, result: "Success" },
  { object: "IntegratorKey", action: "Created", confirmed: false, weight: 0.2, result: "Success" },
  { object: "IntegratorKey", action: "SecretAdded", confirmed: false, weight: 0.2, result: "Success" },
  { object: "Account", action: "BrandUpdated", confirmed: false, weight: 0.3, result: "Success" },
  {
    object: "Account",
    action: "UserRemoved",
    confirmed: false,
    weight: 0.5,
    result: "Success",
    data: (c) => ({ AffectedUserId: c.id() }),
  },
  { object: "Organization", action: "DomainClaimed", confirmed: false, weight: 0.1, result: "Success" },
  {
    object: "Organization",
    action: "AdminAdded",
    confirmed: false,
    weight: 0.1,
    result: "Success",
    data: (c) => ({ AffectedUserId: c.id() }),
  },
  {
    object: "Organization",
    action: "IdentityProviderUpdated",
    confirmed: false,
    weight: 0.1,
    result: "Success",
  },
  {
    object: "Alert",
    action: "MassEnvelopeDeletion",
    confirmed: false,
    weight: 0.2,
    result: "",
    source: "Other",
    data: (c) => ({ EventIds: c.recentEventIds(), Count: String(50 + c.int(200)), Severity: "High" }),
  },
];

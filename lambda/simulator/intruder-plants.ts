import { type Plant, WEB_INTEGRATOR_KEY } from "./plant";

/**
 * A takeover's administrative steps, three hours back: a new administrator, an identity provider
 * changed, an integration key with a new secret, a Connect endpoint, a permission set, a domain
 * claimed and another released (the detection rules of admin-change-rules.ts; strings ILLUSTRATIVE).
 */
export const INTRUDER = {
  userId: "5eed0000-0000-4000-8000-0000000000a9",
  newAdmin: "5eed0000-0000-4000-8000-0000000000aa",
} as const;

const HOUR = 3600_000;

/** The intruder's steps, a minute apart from three hours before `now`, from a Russian IP. */
export function intruderPlants(now: number): Plant[] {
  const takeover: [string, string, string, Record<string, unknown>][] = [
    ["Organization", "AdminAdded", "OrganizationAdministrator", { AffectedUserId: INTRUDER.newAdmin }],
    ["IdentityProvider", "Updated", "SAML2Configuration", { IdentityProviderId: "idp-7" }],
    ["IntegrationKey", "Created", "", { IntegrationKeyId: "5eed0000-0000-4000-8000-0000000000ab" }],
    [
      "IntegrationKey",
      "SecretAdded",
      "ClientSecret",
      { IntegrationKeyId: "5eed0000-0000-4000-8000-0000000000ab" },
    ],
    ["Connect", "Created", "ConnectConfiguration", { ConnectId: "9", Url: "https://203.0.113.50/hook" }],
    ["PermissionSet", "Created", "Permissions", { PermissionSetId: "8" }],
    ["Domain", "Claimed", "", { Domain: "example.net" }],
    ["Domain", "Released", "", { Domain: "example.com" }],
  ];
  return takeover.map(([object, action, property, data], i) => ({
    at: now - 3 * HOUR + i * 60_000,
    userId: INTRUDER.userId,
    object,
    action,
    property,
    ipAddress: "203.0.113.50",
    country: "RU",
    integratorKey: WEB_INTEGRATOR_KEY,
    data,
  }));
}

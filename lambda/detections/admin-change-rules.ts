/**
 * Rules for the administrative changes that precede data theft through DocuSign: a new administrator,
 * an identity-provider/SSO change, a new integration key or secret, a domain claimed or released.
 * monitor-api.md confirms none of their codes, so every condition here is a case-insensitive pattern
 * on `object`, `property`, `action` or `data.SettingsKey`, never an exact guessed string; alerts
 * (`object` = `Alert`, confirmed) are left to the alert rules.
 */
import type { Rule } from "./rules";

/** Verbs that grant or create (unconfirmed: a pattern). */
const GRANT_VERB = "(Added|Created|Granted|Assigned|Updated|Changed|Enabled|Generated)";
/** Where an administrator role shows (unconfirmed). */
const ADMIN = "admin";
/** Identity-provider and SSO names (unconfirmed); `sso` only as a word or a camel-case prefix. */
const IDENTITY_PROVIDER =
  "identity.?provider|single.?sign.?on|saml|(^|[^a-z])sso([^a-z]|$)|^sso|sso(config|setting|enabled|provider)";
/** Integration keys and their secrets (unconfirmed). */
const INTEGRATION_KEY = "integrat(ion|or).?key|client.?secret|secret.?key|rsa.?key|api.?key";
/** Generic verbs (confirmed: Created/Updated/Deleted; the others a pattern). */
const CHANGE_VERB = "(Created|Updated|Deleted|Added|Removed|Changed)";
/** Organization domains (unconfirmed). */
const DOMAIN = "domain";

export const ADMIN_CHANGE_RULES: readonly Rule[] = [
  {
    id: "admin-granted",
    title: "Administrator added or granted",
    description:
      "A change that names an administrator role (action, property or data.PermissionProfileName containing Admin, with a grant verb): a new organization or account administrator, the first step of most takeovers.",
    severity: "High",
    when: [
      {
        anyOf: [
          { field: "action", pattern: ADMIN },
          { field: "property", pattern: ADMIN },
          { field: "data.PermissionProfileName", pattern: ADMIN },
        ],
      },
      { field: "action", pattern: GRANT_VERB },
    ],
    unless: [{ field: "object", equals: "Alert" }],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Keep at 1; disable only if your administrators are granted by automation you audit elsewhere.",
  },
  {
    id: "identity-provider-changed",
    title: "Identity provider or SSO configuration changed",
    description:
      "An identity provider, SAML or SSO configuration created, updated or deleted (action, object, property or data.SettingsKey): sign-in can now go through someone else's provider.",
    severity: "High",
    when: [
      {
        anyOf: [
          { field: "action", pattern: IDENTITY_PROVIDER },
          { field: "object", pattern: IDENTITY_PROVIDER },
          { field: "property", pattern: IDENTITY_PROVIDER },
          { field: "data.SettingsKey", pattern: IDENTITY_PROVIDER },
        ],
      },
      { field: "action", pattern: CHANGE_VERB },
    ],
    unless: [{ field: "object", equals: "Alert" }],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Keep at 1: identity-provider changes are rare and each one needs a second pair of eyes.",
  },
  {
    id: "integration-key-changed",
    title: "Integration key or secret added",
    description:
      "An integration key (API app) or a secret or RSA key on one was created or changed (action, object or property): a new way in that bypasses sign-in.",
    severity: "High",
    when: [
      {
        anyOf: [
          { field: "action", pattern: INTEGRATION_KEY },
          { field: "object", pattern: INTEGRATION_KEY },
          { field: "property", pattern: INTEGRATION_KEY },
        ],
      },
      { field: "action", pattern: GRANT_VERB },
    ],
    unless: [{ field: "object", equals: "Alert" }],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Raise only if a deployment pipeline rotates secrets often; check the key's owner (userId).",
  },
  {
    id: "domain-changed",
    title: "Domain claimed or released",
    description:
      "An organization domain claimed, verified, released or removed (action, object or property containing Domain): it decides whose users the organization controls.",
    severity: "Medium",
    when: [
      {
        anyOf: [
          { field: "action", pattern: DOMAIN },
          { field: "object", pattern: DOMAIN },
          { field: "property", pattern: DOMAIN },
        ],
      },
      { field: "action", pattern: "(Claim|Releas|Verif|Added|Removed|Deleted|Created|Updated)" },
    ],
    unless: [{ field: "object", equals: "Alert" }],
    threshold: 1,
    periodMinutes: 60,
    tuning: "Keep at 1: domains change a few times a year.",
  },
];

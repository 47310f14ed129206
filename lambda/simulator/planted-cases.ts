import type { EventFactory, StoredEvent } from "./event-factory";
import { intruderPlants } from "./intruder-plants";
import { type Country, type Plant, toEvent, WEB_INTEGRATOR_KEY } from "./plant";

/**
 * The cases each saved Athena query exists to find, planted among the simulator's background events
 * so that the demo lake answers every query (and the tests can assert the exact rows). Identities are
 * fixed and distinct from the background's, times are relative to the dataset's `now`. The strings
 * of login and download events are ILLUSTRATIVE, like the catalog's (event-catalog.ts).
 */
export const PLANTED = {
  /** Failed sign-ins from two IPs within the last six hours. */
  bruteForce: {
    userId: "5eed0000-0000-4000-8000-0000000000b1",
    ips: [
      { ipAddress: "203.0.113.66", country: "RU", failures: 6 },
      { ipAddress: "198.51.100.23", country: "NG", failures: 4 },
    ],
  },
  /** Signs in from the US for days, then from Nigeria two hours ago. */
  traveller: {
    userId: "5eed0000-0000-4000-8000-0000000000c2",
    homeCountry: "US",
    newCountry: "NG",
    newIpAddress: "102.89.34.10",
  },
  /** An administrator who adds the `oneDay` user and changes permissions. */
  admin: { userId: "5eed0000-0000-4000-8000-0000000000a3" },
  /** Downloads 40 envelopes within 40 minutes on one day. */
  bulkDownloader: { userId: "5eed0000-0000-4000-8000-0000000000d4", downloads: 40 },
  /** A new integration key used from two IPs. */
  integration: {
    integratorKey: "5eed0000-0000-4000-8000-0000000000e5",
    userId: "5eed0000-0000-4000-8000-0000000000e6",
    ipAddresses: ["192.0.2.10", "192.0.2.11"],
    events: 12,
  },
  /** One user's working day, with every timestamp form DocuSign emits. */
  oneDay: { userId: "5eed0000-0000-4000-8000-0000000000f7", ipAddress: "198.51.100.77" },
} as const;

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * Every planted event (the saved queries' cases and the intruder's steps, intruder-plants.ts), in time
 * order, each ingested 20 s after its own time.
 */
export function plantedEvents(now: number, factory: EventFactory): StoredEvent[] {
  const plants: Plant[] = [];
  const web = WEB_INTEGRATOR_KEY;
  const { bruteForce, traveller, admin, bulkDownloader, integration, oneDay } = PLANTED;

  // failed-logins-by-user-and-ip, and the alert that follows.
  const attempts = bruteForce.ips.flatMap((ip) => Array.from({ length: ip.failures }, () => ip));
  attempts.forEach((ip, i) => {
    plants.push({
      at: now - 6 * HOUR + (i + 1) * 7 * 60_000,
      userId: bruteForce.userId,
      object: "User",
      action: "Login",
      result: "Failed",
      ipAddress: ip.ipAddress,
      country: ip.country as Country,
      integratorKey: web,
      data: { FailureReason: "InvalidPassword" },
    });
  });
  // sign-ins-from-new-countries: at home 4, 3 and 2 days back and today, then abroad.
  for (const back of [96, 72, 50, 3]) {
    plants.push({
      at: now - back * HOUR,
      userId: traveller.userId,
      object: "User",
      action: "Login",
      ipAddress: "198.51.100.40",
      country: "US",
      integratorKey: web,
    });
  }
  plants.push({
    at: now - 2 * HOUR,
    userId: traveller.userId,
    object: "User",
    action: "Login",
    ipAddress: traveller.newIpAddress,
    country: "NG",
    integratorKey: web,
  });
  // permission-and-admin-changes: a day and a half back.
  const changedAt = now - 36 * HOUR;
  const change = (
    object: string,
    action: string,
    property: string,
    data: Record<string, unknown>,
    referencedUserId = "",
  ) =>
    plants.push({
      at: changedAt + plants.length * 60_000,
      userId: admin.userId,
      object,
      action,
      property,
      ipAddress: "198.51.100.5",
      country: "US",
      integratorKey: web,
      referencedUserId,
      data,
    });
  change(
    "Account",
    "UserAdded",
    "",
    {
      AffectedUserId: oneDay.userId,
      AffectedMembershipId: "5eed0000-0000-4000-8000-0000000000a4",
      PermissionProfileId: "10001",
    },
    oneDay.userId,
  );
  change("User", "Updated", "PermissionProfile", {
    AffectedUserId: oneDay.userId,
    OldPermissionProfileId: "1",
    NewPermissionProfileId: "2",
  });
  change("PermissionSet", "Updated", "Permissions", { PermissionSetId: "7" });
  change("Connect", "Updated", "ConnectConfiguration", { ConnectId: "3" });
  plants.push(...intruderPlants(now));
  // one-user-activity: the new user's first day, ten hours after being added.
  const dayStart = now - 26 * HOUR;
  const forms = [
    (ms: number) => `${new Date(ms).toISOString().slice(0, 23)}1234Z`, // seven fractional digits
    (ms: number) => new Date(ms).toISOString(), // three
    (ms: number) => `${new Date(ms).toISOString().slice(0, 21)}Z`, // one (trailing zeros trimmed)
    (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`, // none
  ];
  const day: [string, string][] = [
    ["User", "Login"],
    ["Envelope", "Created"],
    ["Envelope", "Sent"],
    ["Envelope", "Viewed"],
    ["Template", "Created"],
    ["Envelope", "Downloaded"],
    ["Envelope", "Completed"],
    ["User", "Logout"],
  ];
  day.forEach(([object, action], i) => {
    const at = dayStart + i * 37 * 60_000 + 137 * i;
    const form = forms[i % forms.length] as (ms: number) => string;
    plants.push({
      at,
      userId: oneDay.userId,
      object,
      action,
      ipAddress: oneDay.ipAddress,
      country: "US",
      integratorKey: web,
      timestamp: form(at),
      data:
        object === "User"
          ? {}
          : { [`${object}Id`]: `5eed0000-0000-4000-8000-${String(100 + i).padStart(12, "0")}` },
    });
  });
  // envelope-download-volume-by-user: 10:00 to 10:40 UTC of yesterday, within one dt.
  const yesterday = Math.floor((now - DAY) / DAY) * DAY;
  for (let i = 0; i < bulkDownloader.downloads; i++) {
    plants.push({
      at: yesterday + 10 * HOUR + i * 60_000,
      userId: bulkDownloader.userId,
      object: "Envelope",
      action: "Downloaded",
      ipAddress: "203.0.113.200",
      country: "US",
      integratorKey: web,
      data: {
        EnvelopeId: `5eed0000-0000-4000-8000-${String(200 + i).padStart(12, "0")}`,
        DocumentCount: "3",
      },
    });
  }
  // api-integration-key-activity: every six hours over the last three days.
  for (let i = 0; i < integration.events; i++) {
    plants.push({
      at: now - 72 * HOUR + i * 6 * HOUR,
      userId: integration.userId,
      object: "Envelope",
      action: i % 2 === 0 ? "Created" : "Sent",
      source: "API",
      ipAddress: integration.ipAddresses[i % 2] as string,
      country: "US",
      integratorKey: integration.integratorKey,
      data: { EnvelopeId: `5eed0000-0000-4000-8000-${String(300 + i).padStart(12, "0")}` },
    });
  }
  plants.sort((a, b) => a.at - b.at);

  const events = plants.map((p) => ({ ingestedAt: p.at + 20_000, event: toEvent(p, factory) }));
  // monitor-alerts: each confirmed alert code once; TooManyLoginFailures points at the failures.
  const failures = events
    .filter((e) => e.event.userId === bruteForce.userId)
    .map((e) => String(e.event.eventId));
  const alertAt = now - 60 * 60_000;
  const alerts: [string, Record<string, unknown>][] = [
    ["TooManyLoginFailures", { EventIds: failures, Count: String(failures.length), Severity: "High" }],
    ["IpAddressOutsideAllowedRanges", { EventIds: failures.slice(0, 2), Count: "2" }],
    [
      "SameSenderAndSigner",
      {
        EventIds: [],
        EnvelopeId: "5eed0000-0000-4000-8000-000000000400",
        EnvelopeType: "Envelope",
        SignerIp: "198.51.100.77",
        SignerUserId: oneDay.userId,
        SignerUserAgent: "Mozilla/5.0",
        Severity: "Medium",
      },
    ],
    ["CredentialLeakDetected", { EventIds: [], Severity: "High" }],
  ];
  alerts.forEach(([action, data], i) => {
    const at = alertAt + i * 60_000;
    events.push({
      ingestedAt: at + 20_000,
      event: toEvent(
        {
          at,
          userId: bruteForce.userId,
          object: "Alert",
          action,
          result: "",
          source: "Other",
          ipAddress: "203.0.113.66",
          country: "RU",
          integratorKey: "",
          data,
        },
        factory,
      ),
    });
  });
  return events;
}

import type { EventFactory } from "./event-factory";

/**
 * A planted event: the values a planted case sets (planted-cases.ts, intruder-plants.ts), and the
 * background-shaped event it becomes.
 */

/** The `integratorKey` of DocuSign's own web app. */
export const WEB_INTEGRATOR_KEY = "##DOCUSIGN_INTERNAL_NOT_USED##";

const LOCATION = {
  US: { country: "US", state: "California", city: "San Francisco", latitude: 37.7749, longitude: -122.4194 },
  RU: { country: "RU", state: "Moscow", city: "Moscow", latitude: 55.7558, longitude: 37.6173 },
  NG: { country: "NG", state: "Lagos", city: "Lagos", latitude: 6.5244, longitude: 3.3792 },
} as const;
export type Country = keyof typeof LOCATION;

export interface Plant {
  readonly at: number;
  readonly userId: string;
  readonly object: string;
  readonly action: string;
  readonly result?: string;
  readonly property?: string;
  readonly source?: "API" | "Web" | "Other";
  readonly ipAddress: string;
  readonly country: Country;
  readonly integratorKey?: string;
  readonly referencedUserId?: string;
  readonly data?: Record<string, unknown>;
  /** The timestamp text, when not DocuSign's usual seven fractional digits. */
  readonly timestamp?: string;
}

/** A background-shaped event (every field, both generations) carrying the plant's values. */
export function toEvent(p: Plant, factory: EventFactory): Record<string, unknown> {
  const event = factory.make(p.at);
  const location = LOCATION[p.country];
  Object.assign(event, {
    ...(p.timestamp === undefined ? {} : { timestamp: p.timestamp }),
    userId: p.userId,
    object: p.object,
    action: p.action,
    property: p.property ?? "",
    field: "",
    result: p.result ?? "Success",
    source: p.source ?? (p.object === "Alert" ? "Other" : "Web"),
    ipAddress: p.ipAddress,
    ipAddressLocation: { ...location },
    integratorKey: p.integratorKey ?? "",
    referencedUserId: p.referencedUserId ?? "",
    data: p.data ?? {},
  });
  if (p.object === "Alert") Object.assign(event, { accountId: "", userAgent: "" });
  if ("country" in event) {
    Object.assign(event, {
      latitude: location.latitude,
      longitude: location.longitude,
      city: location.city,
      state: location.state,
      country: location.country,
      application: event.source === "API" ? "eSignature API" : "eSignature",
    });
  }
  return event;
}

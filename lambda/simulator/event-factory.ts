import { EVENT_TYPES, type EventType } from "./event-catalog";

/** An event as the simulator stores it: the JSON DocuSign would send, plus when DocuSign ingested it. */
export interface StoredEvent {
  readonly ingestedAt: number;
  readonly event: Record<string, unknown>;
}

/** mulberry32: small, fast, deterministic. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const LOCATIONS = [
  { country: "US", state: "California", city: "San Francisco", latitude: 37.7749, longitude: -122.4194 },
  { country: "US", state: "New York", city: "New York", latitude: 40.7128, longitude: -74.006 },
  { country: "US", state: "Washington", city: "Seattle", latitude: 47.6062, longitude: -122.3321 },
  { country: "GB", state: "England", city: "London", latitude: 51.5072, longitude: -0.1276 },
  { country: "DE", state: "Berlin", city: "Berlin", latitude: 52.52, longitude: 13.405 },
  { country: "FR", state: "Île-de-France", city: "Paris", latitude: 48.8566, longitude: 2.3522 },
  { country: "JP", state: "Tokyo", city: "Tokyo", latitude: 35.6762, longitude: 139.6503 },
  { country: "BR", state: "São Paulo", city: "São Paulo", latitude: -23.5558, longitude: -46.6396 },
  { country: "NG", state: "Lagos", city: "Lagos", latitude: 6.5244, longitude: 3.3792 },
  { country: "RU", state: "Moscow", city: "Moscow", latitude: 55.7558, longitude: 37.6173 },
] as const;

const AGENTS = [
  {
    ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    browser: { family: "Chrome", version: { major: "120", minor: "0", patch: "0" } },
    os: { family: "Windows", version: { major: "10", minor: "", patch: "" } },
    device: { family: "Other", brand: "", model: "" },
  },
  {
    ua: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15",
    browser: { family: "Safari", version: { major: "17", minor: "1", patch: "" } },
    os: { family: "Mac OS X", version: { major: "10", minor: "15", patch: "7" } },
    device: { family: "Mac", brand: "Apple", model: "Mac" },
  },
  {
    ua: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    browser: { family: "Mobile Safari", version: { major: "17", minor: "1", patch: "" } },
    os: { family: "iOS", version: { major: "17", minor: "1", patch: "" } },
    device: { family: "iPhone", brand: "Apple", model: "iPhone" },
  },
  {
    ua: "DocuSign-Integration/2.1 (+https://example.com)",
    browser: { family: "Other", version: { major: "", minor: "", patch: "" } },
    os: { family: "Other", version: { major: "", minor: "", patch: "" } },
    device: { family: "Other", brand: "", model: "" },
  },
] as const;

/** A GUID from the generator (deterministic, not a real UUID v4). */
function guid(random: () => number): string {
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join("");
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${"89ab"[Math.floor(random() * 4)]}${hex(3)}-${hex(12)}`;
}

/** `2023-03-03T09:10:06.0512813Z`: DocuSign's seven fractional digits. */
export function docuSignTimestamp(ms: number, random: () => number): string {
  const iso = new Date(ms).toISOString(); // ...SS.mmmZ
  return `${iso.slice(0, 23)}${String(Math.floor(random() * 10000)).padStart(4, "0")}Z`;
}

export class EventFactory {
  private readonly random: () => number;
  private readonly users: string[];
  private readonly accounts: string[];
  private readonly integratorKeys: string[];
  private readonly cumulative: number[];
  private readonly totalWeight: number;
  private readonly recent: string[] = [];

  constructor(
    seed: number,
    private readonly organizationStream: boolean,
    private readonly organizationId: string,
  ) {
    this.random = createRandom(seed);
    this.users = Array.from({ length: 40 }, () => guid(this.random));
    this.accounts = Array.from({ length: 3 }, () => guid(this.random));
    this.integratorKeys = Array.from({ length: 4 }, () => guid(this.random));
    let sum = 0;
    this.cumulative = EVENT_TYPES.map((t) => (sum += t.weight));
    this.totalWeight = sum;
  }

  /** One event whose own time is `timestampMs`. */
  make(timestampMs: number, timestampOverride?: string): Record<string, unknown> {
    const r = this.random;
    const pick = <T>(items: readonly T[]): T => items[Math.floor(r() * items.length)] as T;
    const type = this.pickType();
    const eventId = guid(r);
    const userId = pick(this.users);
    const location = pick(LOCATIONS.slice(0, r() < 0.97 ? 6 : LOCATIONS.length));
    const agent = pick(AGENTS);
    const web = (type.source ?? (r() < 0.6 ? "Web" : "API")) === "Web";
    const source = type.source ?? (web ? "Web" : "API");
    const event: Record<string, unknown> = {
      timestamp: timestampOverride ?? docuSignTimestamp(timestampMs, r),
      eventId,
      site: "DEMO",
      accountId: type.object === "Alert" ? "" : pick(this.accounts),
      organizationId: this.organizationId,
      userId,
      integratorKey:
        type.object === "Alert" ? "" : web ? "##DOCUSIGN_INTERNAL_NOT_USED##" : pick(this.integratorKeys),
      userAgent: type.object === "Alert" ? "" : agent.ua,
      userAgentClientInfo: { browser: agent.browser, device: agent.device, os: agent.os },
      ipAddress: `${pick([198, 203, 192, 45, 103])}.${Math.floor(r() * 256)}.${Math.floor(r() * 256)}.${1 + Math.floor(r() * 254)}`,
      ipAddressLocation: {
        latitude: location.latitude,
        longitude: location.longitude,
        country: location.country,
        state: location.state,
        city: location.city,
      },
      object: type.object,
      action: type.action,
      property: type.property ?? "",
      field: "",
      result: type.result ?? "Success",
      source,
      data: type.data
        ? type.data({
            id: () => guid(r),
            int: (max) => Math.floor(r() * max),
            pick,
            recentEventIds: () => this.recent.slice(-2 - Math.floor(r() * 3)),
          })
        : {},
    };
    if (this.organizationStream) {
      Object.assign(event, {
        isUserMemberOfDomain: r() < 0.8,
        referencedUserId: type.action === "UserAdded" ? guid(r) : "",
        referencedUserIsMemberOfDomain: false,
        affectedUserId: "",
        affectedUserIsMemberOfDomain: false,
        proxyStatus: "",
        proxyType: "",
        proxyLevel: "",
        latitude: location.latitude,
        longitude: location.longitude,
        city: location.city,
        state: location.state,
        country: location.country,
        device: agent.device.family,
        browser: agent.browser.family,
        os: agent.os.family,
        // Listed by AWS Glue's DocuSign Monitor connector (monitor-api.md); values illustrative.
        application: source === "API" ? "eSignature API" : "eSignature",
        environment: "demo",
        traceToken: guid(r),
        customerVisible: true,
        version: "1.0",
      });
    } else {
      event.referencedUserId = type.action === "UserAdded" ? guid(r) : "";
    }
    this.recent.push(eventId);
    if (this.recent.length > 10) this.recent.shift();
    return event;
  }

  chance(p: number): boolean {
    return this.random() < p;
  }

  next(): number {
    return this.random();
  }

  private pickType(): EventType {
    const x = this.random() * this.totalWeight;
    const index = this.cumulative.findIndex((c) => x < c);
    return EVENT_TYPES[index === -1 ? EVENT_TYPES.length - 1 : index] as EventType;
  }
}

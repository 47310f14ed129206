/** Counts injected faults by kind, for the chaos report. */
export class FaultCounter {
  readonly counts = new Map<string, number>();

  count(kind: string, n = 1): void {
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + n);
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries(this.counts);
  }
}

/** A promise that never settles: what a killed process's pending calls become. */
export function hang<T>(): Promise<T> {
  return new Promise<T>(() => undefined);
}

interface CursorState {
  readonly p: number;
}

/** The position in the simulator's stream an opaque cursor stands for (test code may know its format). */
export function cursorPosition(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return undefined;
  try {
    const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<CursorState>;
    return typeof value.p === "number" ? value.p : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Classifies what the DocuSign side answered, so the report counts the faults a run actually met:
 * statuses, unreadable bodies and the cursor pathologies.
 */
export async function classifyDocuSign(
  url: string,
  response: Response,
  previousCursor: string | undefined,
  faults: FaultCounter,
): Promise<void> {
  const isToken = url.includes("/oauth/token");
  if (isToken) {
    if (response.status >= 500) faults.count("docusign token 5xx");
    else if (response.status === 400) faults.count("docusign token refused (invalid_grant)");
    return;
  }
  if (response.status === 429) return faults.count("docusign 429");
  if (response.status >= 500) return faults.count("docusign 5xx");
  if (response.status === 401) return faults.count("docusign token expired/revoked (401)");
  if (response.status !== 200) return faults.count(`docusign HTTP ${response.status}`);
  const text = await response.clone().text();
  let body: { endCursor?: unknown; data?: unknown; resultData?: unknown };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    return faults.count("docusign truncated body");
  }
  const events = body.data ?? body.resultData;
  if (!Array.isArray(events) || typeof body.endCursor !== "string") {
    return faults.count("docusign malformed body");
  }
  const sent = new URL(url).searchParams.get("cursor") ?? "";
  const ids = events.map((e: { eventId?: unknown }) => e.eventId);
  if (new Set(ids).size < ids.length) faults.count("docusign duplicate event in page");
  if (events.length === 0) return;
  if (body.endCursor === "") return faults.count("cursor: empty endCursor");
  if (body.endCursor === sent) return faults.count("cursor: unchanged although events came");
  if (previousCursor !== undefined && body.endCursor === previousCursor) {
    return faults.count("cursor: cycle back to the previous cursor");
  }
  const from = cursorPosition(sent);
  const to = cursorPosition(body.endCursor);
  if (from !== undefined && to !== undefined && to < from + new Set(ids).size) {
    faults.count("cursor: rewound (next page repeats events)");
  }
}

/** Events only exact text keeps: integers beyond a double, a number beyond its range, escapes, spaces. */
export function awkwardEvents(seed: number, count: number, nowMs: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const timestamp = new Date(nowMs - (i + 1) * 60_000).toISOString();
    return (
      `{"timestamp":"${timestamp}","eventId":"awkward-${seed}-${i}","accountId":12345678901234567890${i},` +
      `"score":1e400,"ratio":0.10000000000000000555,"note":"caf\\u00e9 \\ud83d\\ude00","data": { "a" :[1, 2.50]} }`
    );
  });
}

/**
 * Events with odd or missing timestamps, without `eventId`, and one that reuses a served event's id
 * with other text: each must be stored once, by its exact text, under the day the product gives it.
 * `counts` says which of them the list holds (for the class table).
 */
export function oddEvents(
  seed: number,
  nowMs: number,
  takenId: string | undefined,
): { texts: string[]; counts: Record<string, number> } {
  const at = (minutes: number): string => new Date(nowMs - minutes * 60_000).toISOString();
  const timestamps = [
    `"eventId":"odd-${seed}-missing","action":"no timestamp"`,
    `"timestamp":1700000000000,"eventId":"odd-${seed}-number","action":"timestamp is a number"`,
    `"timestamp":null,"eventId":"odd-${seed}-null","action":"timestamp is null"`,
    `"timestamp":"yesterday at noon","eventId":"odd-${seed}-words","action":"unparseable"`,
    `"timestamp":"2023-02-30T10:00:00Z","eventId":"odd-${seed}-feb30","action":"no such day"`,
    `"timestamp":"9999-12-31T23:59:59.9999999Z","eventId":"odd-${seed}-9999","action":"year 9999"`,
    `"timestamp":"1969-07-20T20:17:40Z","eventId":"odd-${seed}-1969","action":"before 1970"`,
  ].map((fields) => `{${fields}}`);
  const idless = [
    `{"timestamp":"${at(3)}","action":"no eventId","data":{"eventId":"nested-${seed}"}}`,
    `{"timestamp":"${at(4)}","action":"no eventId either","data":{"eventId":"nested-${seed}"}}`,
    `{"timestamp":"${at(5)}","eventId":"","action":"empty eventId"}`,
    `{"timestamp":"${at(6)}","eventId":12345,"action":"numeric eventId"}`,
  ];
  const reused =
    takenId === undefined
      ? []
      : [`{"timestamp":"${at(7)}","eventId":${JSON.stringify(takenId)},"action":"same id, other text"}`];
  return {
    texts: [...timestamps, ...idless, ...reused],
    counts: {
      "events with odd or missing timestamps": timestamps.length,
      "events without eventId": idless.length,
      "same eventId, different text": reused.length,
    },
  };
}

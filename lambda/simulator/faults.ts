/**
 * The simulator's fault switchboard: which faults are switched on, and how each one alters the answer
 * the server would otherwise give. Pure decisions; the server (simulator.ts) counts requests and pages
 * and sends what these functions decide.
 */

export interface SimulatorFaults {
  /** Every Nth stream request answers 429 (with Retry-After when `retryAfterSeconds` is set). */
  rateLimitEvery?: number;
  retryAfterSeconds?: number;
  /** Every Nth stream request answers 503 with an HTML body. */
  serverErrorEvery?: number;
  /** Every Nth stream request is answered after `slowMs`. */
  slowEvery?: number;
  slowMs?: number;
  /** Every Nth stream request gets a 200 whose JSON body is cut in half. */
  truncateEvery?: number;
  /** Every Nth token request answers 503 (OAuth host hiccup). */
  tokenErrorEvery?: number;
  /** Lifetime of issued access tokens. @default 3600 */
  tokenLifetimeSeconds?: number;
  /** The token endpoint answers 400 consent_required. */
  consentRequired?: boolean;
  /** The stream answers 403 like an organization without the Monitor entitlement. */
  noEntitlement?: boolean;
  /**
   * The user holds no admin role Monitor accepts (neither Organization Administrator nor Security
   * Reports Administrator): userinfo still names the organization, the stream answers 403. DocuSign's
   * exact answer for such a user is not documented; the body here is illustrative.
   */
  notAdministrator?: boolean;
  /** Every Nth page contains one of its events twice. */
  duplicateEvery?: number;
  /** Every Nth page's endCursor points a few events back, so the next page repeats them. */
  repeatEvery?: number;
  /** New live events appended before each stream request is answered. */
  liveEventsPerPage?: number;
  /** Every Nth stream request gets a 200 whose JSON is not a page (`data` is not a list, no cursor). */
  malformedEvery?: number;
  /** Every Nth page hands back the cursor it was sent although it holds events (a stuck cursor). */
  sameCursorEvery?: number;
  /** Every Nth page's endCursor is the cursor sent on the page before: A -> B -> A, a cycle. */
  cycleEvery?: number;
  /** Every Nth page's endCursor is the empty string. */
  emptyCursorEvery?: number;
}

/** What the stream answers instead of a page when a fault is due before the page is read. */
export type StreamRefusal =
  | { readonly kind: "rate-limited"; readonly retryAfterSeconds: number | undefined }
  | { readonly kind: "unavailable" }
  | { readonly kind: "forbidden"; readonly error: string };

/** Whether a fault switched on for every `n`th time is due the `count`th time. */
function due(n: number | undefined, count: number): boolean {
  return n !== undefined && n > 0 && count % n === 0;
}

/** The OAuth host answers the `n`th token request with a 503. */
export function tokenOutage(faults: SimulatorFaults, n: number): boolean {
  return due(faults.tokenErrorEvery, n);
}

/** Lifetime, in seconds, of the access tokens the token endpoint issues. */
export function tokenLifetimeSeconds(faults: SimulatorFaults): number {
  return faults.tokenLifetimeSeconds ?? 3600;
}

/** How long the `n`th stream request waits before it is answered; undefined: not slowed. */
export function slowDownMs(faults: SimulatorFaults, n: number): number | undefined {
  return due(faults.slowEvery, n) ? (faults.slowMs ?? 1000) : undefined;
}

/** The refusal due on the `n`th stream request, if any, in the order the stream checks them. */
export function streamRefusal(faults: SimulatorFaults, n: number): StreamRefusal | undefined {
  if (due(faults.rateLimitEvery, n)) {
    return { kind: "rate-limited", retryAfterSeconds: faults.retryAfterSeconds };
  }
  if (due(faults.serverErrorEvery, n)) return { kind: "unavailable" };
  if (faults.noEntitlement)
    return { kind: "forbidden", error: "Organization does not have Monitor entitlement" };
  if (faults.notAdministrator) {
    return { kind: "forbidden", error: "User is not an administrator of this organization" };
  }
  return undefined;
}

/** The `page`th page's event texts, one of them twice when a duplicate is due (and there are two). */
export function withDuplicate(faults: SimulatorFaults, page: number, events: readonly string[]): string[] {
  return events.length > 1 && due(faults.duplicateEvery, page)
    ? [events[0] as string, ...events]
    : [...events];
}

/** Where the `page`th page's endCursor points: `end`, or three events back when a repeat is due. */
export function endPositionOf(faults: SimulatorFaults, page: number, position: number, end: number): number {
  return end - position > 3 && due(faults.repeatEvery, page) ? end - 3 : end;
}

/**
 * The endCursor of a cursor fault due on the `page`th page, if any (opt-in, see `SimulatorFaults`):
 * empty, the cursor `sent` with this request, or the one `previous`ly sent.
 */
export function cursorPathology(
  faults: SimulatorFaults,
  page: number,
  sent: string,
  previous: string | undefined,
): string | undefined {
  if (due(faults.emptyCursorEvery, page)) return "";
  if (due(faults.sameCursorEvery, page)) return sent;
  if (due(faults.cycleEvery, page) && previous !== undefined) return previous;
  return undefined;
}

/**
 * The body the `n`th stream request gets instead of the page's `body`, if a body fault is due: JSON
 * that is not a page, or the page cut in half.
 */
export function alteredBody(
  faults: SimulatorFaults,
  n: number,
  field: string,
  body: string,
): string | undefined {
  if (due(faults.malformedEvery, n)) return JSON.stringify({ [field]: "unavailable" });
  if (due(faults.truncateEvery, n)) return body.slice(0, Math.floor(body.length / 2));
  return undefined;
}

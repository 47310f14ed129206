import type { PendingChunk, StreamState } from "./ports";

/**
 * Checks a stored stream state field by field. Returns the problems found, each naming the field and
 * what it holds; an empty list means the state can be trusted. Shared by the file and DynamoDB stores.
 */
export function stateProblems(state: Readonly<Record<string, unknown>>): string[] {
  const problems: string[] = [];
  const check = (field: string, ok: boolean, expected: string): void => {
    if (!ok) problems.push(`"${field}" is ${describe(state[field])}, expected ${expected}`);
  };
  const optional = (field: string, test: (v: unknown) => boolean, expected: string): void =>
    check(field, state[field] === undefined || test(state[field]), expected);
  check("version", isCount(state.version), "a whole number from 0");
  check("totalEvents", isCount(state.totalEvents), "a whole number from 0");
  optional("cursor", (v) => typeof v === "string" && v !== "", "a non-empty string (or no field)");
  optional("newestEventTime", isTime, "an ISO-8601 date-time (or no field)");
  optional("recentEventIds", isStrings, "a list of strings (or no field)");
  optional("staleKeys", isStrings, "a list of strings (or no field)");
  optional(
    "staleUntil",
    (v) => typeof v === "number" && Number.isFinite(v),
    "epoch milliseconds (or no field)",
  );
  optional("pending", isPending, "{ owner, startCursor, endCursor, keys[] } (or no field)");
  return problems;
}

/** The fields of a validated state the core reads. */
export function toStreamState(state: Readonly<Record<string, unknown>>): StreamState {
  const s = state as unknown as StreamState;
  return {
    version: s.version,
    totalEvents: s.totalEvents,
    ...(s.cursor === undefined ? {} : { cursor: s.cursor }),
    ...(s.newestEventTime === undefined ? {} : { newestEventTime: s.newestEventTime }),
    ...(s.recentEventIds === undefined ? {} : { recentEventIds: s.recentEventIds }),
    ...(s.pending === undefined ? {} : { pending: s.pending }),
    ...(s.staleKeys === undefined ? {} : { staleKeys: s.staleKeys }),
    ...(s.staleUntil === undefined ? {} : { staleUntil: s.staleUntil }),
  };
}

function isCount(v: unknown): boolean {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function isTime(v: unknown): boolean {
  return typeof v === "string" && !Number.isNaN(Date.parse(v));
}

function isStrings(v: unknown): boolean {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

function isPending(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const p = v as Partial<Record<keyof PendingChunk, unknown>>;
  return (
    typeof p.owner === "string" &&
    typeof p.startCursor === "string" &&
    typeof p.endCursor === "string" &&
    isStrings(p.keys)
  );
}

function describe(v: unknown): string {
  if (v === undefined) return "missing";
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

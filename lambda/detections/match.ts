/**
 * The matcher: runs the rule pack over events. Pure: no AWS, no environment, no clock. Rules are
 * compiled once into closures (paths split, patterns built) so that matching stays a small share of
 * ingest time (bench/detect-bench.ts).
 */
import type { MonitorEvent } from "../core/ports";
import type { Condition, DetectionSettings, FieldRef, Rule } from "./rules";

/** One event that matched one rule. */
export interface Match {
  readonly rule: Rule;
  readonly event: MonitorEvent;
}

type Test = (event: MonitorEvent) => boolean;

interface CompiledRule {
  readonly rule: Rule;
  readonly test: Test;
}

/** The value at a dotted path, or undefined. */
function valueAt(event: MonitorEvent, path: readonly string[]): unknown {
  let value: unknown = event;
  for (const key of path) {
    if (typeof value !== "object" || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function isPresent(value: unknown): boolean {
  return (
    value !== undefined && value !== null && value !== "" && !(Array.isArray(value) && value.length === 0)
  );
}

/** A reader for a field reference: the first present value among its paths. */
function reader(field: FieldRef): (event: MonitorEvent) => unknown {
  const paths = (typeof field === "string" ? [field] : field).map((p) => p.split("."));
  if (paths.length === 1) {
    const only = paths[0] as string[];
    return (event) => valueAt(event, only);
  }
  return (event) => {
    for (const path of paths) {
      const value = valueAt(event, path);
      if (isPresent(value)) return value;
    }
    return undefined;
  };
}

function compileCondition(condition: Condition, settings: DetectionSettings): Test {
  if ("anyOf" in condition) {
    const tests = condition.anyOf.map((c) => compileCondition(c, settings));
    return (event) => {
      for (const test of tests) if (test(event)) return true;
      return false;
    };
  }
  const read = reader(condition.field);
  if ("equals" in condition) {
    const wanted = typeof condition.equals === "string" ? [condition.equals] : condition.equals;
    if (wanted.length === 1) {
      const only = wanted[0];
      return (event) => read(event) === only;
    }
    const set = new Set(wanted);
    return (event) => {
      const value = read(event);
      return typeof value === "string" && set.has(value);
    };
  }
  if ("pattern" in condition) {
    const regex = new RegExp(condition.pattern, "i");
    return (event) => {
      const value = read(event);
      return typeof value === "string" && regex.test(value);
    };
  }
  if ("present" in condition) {
    const wanted = condition.present;
    return (event) => isPresent(read(event)) === wanted;
  }
  const allowed = new Set((settings[condition.notInSetting] ?? []).map((v) => v.toUpperCase()));
  // Without the setting there is nothing to compare against: the condition never holds.
  if (allowed.size === 0) return () => false;
  return (event) => {
    const value = read(event);
    return typeof value === "string" && value !== "" && !allowed.has(value.toUpperCase());
  };
}

function compileAll(conditions: readonly Condition[], settings: DetectionSettings): Test {
  const tests = conditions.map((c) => compileCondition(c, settings));
  return (event) => {
    for (const test of tests) if (!test(event)) return false;
    return true;
  };
}

/** The exact `object` values a rule requires, or undefined when it can match any object. */
function requiredObjects(rule: Rule): readonly string[] | undefined {
  for (const c of rule.when)
    if ("field" in c && c.field === "object" && "equals" in c)
      return typeof c.equals === "string" ? [c.equals] : c.equals;
  return undefined;
}

/**
 * Compiles `rules` (already filtered with `activeRules`) against the settings they read. Rules are
 * indexed by the `object` they require, so an event is tested only against the rules that can match it.
 */
export interface Matcher {
  readonly rules: readonly Rule[];
  /** The rules `event` matches. Total over any JSON value: reads fixed paths, compares strings only. */
  match(event: MonitorEvent): Match[];
}

export function createMatcher(rules: readonly Rule[], settings: DetectionSettings): Matcher {
  const byObject = new Map<string, CompiledRule[]>();
  const anyObject: CompiledRule[] = [];
  for (const rule of rules) {
    const when = compileAll(rule.when, settings);
    const unless = rule.unless === undefined ? undefined : compileAll(rule.unless, settings);
    const compiled: CompiledRule = { rule, test: unless ? (e) => when(e) && !unless(e) : when };
    const objects = requiredObjects(rule);
    if (objects === undefined) anyObject.push(compiled);
    else
      for (const o of objects) {
        const list = byObject.get(o) ?? [];
        list.push(compiled);
        byObject.set(o, list);
      }
  }
  return {
    rules,
    match(event) {
      const matches: Match[] = [];
      const object = event.object;
      const candidates = typeof object === "string" ? byObject.get(object) : undefined;
      if (candidates) for (const c of candidates) if (c.test(event)) matches.push({ rule: c.rule, event });
      for (const c of anyObject) if (c.test(event)) matches.push({ rule: c.rule, event });
      return matches;
    },
  };
}

/**
 * Remembers the last `size` event ids, so that an event DocuSign repeats (monitor-api.md) is matched
 * once, even after the ingest core's own window of recent ids has forgotten it.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly size: number) {}

  /** Whether `id` is within the window. */
  has(id: string): boolean {
    return this.ids.has(id);
  }

  /** True the first time an id is seen within the window. */
  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.order.length < this.size) this.order.push(id);
    else {
      const evicted = this.order[this.head] as string;
      this.ids.delete(evicted);
      this.order[this.head] = id;
      this.head = (this.head + 1) % this.size;
    }
    return true;
  }
}

/** How many event ids the detector remembers. 20,000 ids are about 2 MB. */
export const DETECTION_DEDUP_WINDOW = 20_000;

/** The longest event value a match shows; longer ones are cut (then "…"). */
export const MATCH_FIELD_MAX = 256;

/**
 * An event value as text, total over any JSON value: strings (cut at `MATCH_FIELD_MAX`), numbers and
 * booleans as written; objects and arrays are "" — never `String(v)` on them, which runs the event's own
 * `toString` (`{"toString":0}` throws) or recurses through nested arrays (100,000 levels overflow the stack).
 */
export function fieldText(value: unknown): string {
  if (typeof value === "string")
    return value.length > MATCH_FIELD_MAX ? `${value.slice(0, MATCH_FIELD_MAX)}…` : value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return "";
}

/** What the log line, the CLI and the examples show of a match. */
export interface MatchFields {
  readonly rule: string;
  readonly severity: string;
  readonly eventId: string;
  readonly eventTime: string;
  readonly userId: string;
  readonly ipAddress: string;
  readonly country: string;
  readonly object: string;
  readonly action: string;
  readonly result: string;
}

/** The fields of a match that the log line, the CLI and the examples show. Never throws. */
export function matchFields(m: Match): MatchFields {
  const e = m.event;
  const location = e.ipAddressLocation;
  const nested =
    typeof location === "object" && location !== null && !Array.isArray(location)
      ? (location as Record<string, unknown>).country
      : undefined;
  const country = fieldText(nested);
  return {
    rule: m.rule.id,
    severity: m.rule.severity,
    eventId: fieldText(e.eventId),
    eventTime: fieldText(e.timestamp),
    userId: fieldText(e.userId),
    ipAddress: fieldText(e.ipAddress),
    country: country === "" ? fieldText(e.country) : country,
    object: fieldText(e.object),
    action: fieldText(e.action),
    result: fieldText(e.result),
  };
}

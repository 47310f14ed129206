/**
 * The matcher: runs the rule pack over events. Pure: no AWS, no environment, no clock. Rules are
 * compiled once into closures (paths split, patterns built) so that matching stays a small share of
 * ingest time (bench/detect-bench.ts).
 */
import type { EventPage, EventSource, FetchPageRequest, MonitorEvent } from "../core/ports";
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
    if (c.field === "object" && "equals" in c) return typeof c.equals === "string" ? [c.equals] : c.equals;
  return undefined;
}

/**
 * Compiles `rules` (already filtered with `activeRules`) against the settings they read. Rules are
 * indexed by the `object` they require, so an event is tested only against the rules that can match it.
 */
export function createMatcher(
  rules: readonly Rule[],
  settings: DetectionSettings,
): { readonly rules: readonly Rule[]; match(event: MonitorEvent): Match[] } {
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
 * Remembers the last `size` event ids, so that an event DocuSign repeats (monitor-api.md), or a page
 * fetched again after a failed run in the same warm container, is matched once.
 */
export class RecentIds {
  private readonly ids = new Set<string>();
  private readonly order: string[] = [];
  private head = 0;

  constructor(private readonly size: number) {}

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

export interface Detector {
  /** Matches new events (repeats within the window skipped) and returns what matched. */
  inspect(events: readonly MonitorEvent[]): Match[];
}

export function createDetector(
  rules: readonly Rule[],
  settings: DetectionSettings,
  windowSize = DETECTION_DEDUP_WINDOW,
): Detector {
  const matcher = createMatcher(rules, settings);
  const seen = new RecentIds(windowSize);
  return {
    inspect(events) {
      const matches: Match[] = [];
      for (const event of events) {
        const id = event.eventId;
        if (typeof id === "string" && id !== "" && !seen.add(id)) continue;
        for (const m of matcher.match(event)) matches.push(m);
      }
      return matches;
    },
  };
}

/**
 * Decorates an event source: every page fetched is run through the detector and its matches are
 * handed to `onMatches` before the page goes on to the ingest core. The core is unchanged; a page
 * the core later fails to store is refetched and its events skipped by the detector's window.
 */
export function detectingSource(
  source: EventSource,
  detector: Detector,
  onMatches: (matches: Match[]) => void,
): EventSource {
  return {
    async fetchPage(request: FetchPageRequest): Promise<EventPage> {
      const page = await source.fetchPage(request);
      const matches = detector.inspect(page.events.map((received) => received.event));
      if (matches.length > 0) onMatches(matches);
      return page;
    },
  };
}

/** The fields of a match that the log line, the CLI and the examples show. */
export function matchFields(m: Match): Record<string, string> {
  const text = (v: unknown): string =>
    typeof v === "string" ? v : v === undefined || v === null ? "" : String(v);
  const e = m.event;
  const location = e.ipAddressLocation as Record<string, unknown> | undefined;
  return {
    rule: m.rule.id,
    severity: m.rule.severity,
    eventId: text(e.eventId),
    eventTime: text(e.timestamp),
    userId: text(e.userId),
    ipAddress: text(e.ipAddress),
    country: text(location?.country ?? e.country),
    object: text(e.object),
    action: text(e.action),
    result: text(e.result),
  };
}

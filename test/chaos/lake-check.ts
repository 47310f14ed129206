import { gunzipSync } from "node:zlib";
import { streamOfObjectName } from "../../lambda/core/object-key";
import { RECENT_EVENTS } from "../../lambda/core/run-ingest";
import { expectedDays, type IngestWindow } from "./event-day";

/** One object as read from the lake, with the recovery epoch its writer started in (see `Writes`). */
export interface SeenObject {
  readonly key: string;
  readonly body: Uint8Array;
}

/** What the lake holds compared with what the source served. */
export interface LakeCheck {
  /** Source events absent from the lake. */
  readonly lost: number;
  /**
   * Copies of an event's exact text beyond the first that no documented rule allows: a DocuSign repeat
   * beyond the id window, or a re-read across a recovery (see `viewDuplicates`). Must be 0.
   */
  readonly rawDuplicates: number;
  /**
   * Copies beyond the first that the documentation allows and `events_dedup` removes (same `dt`, same
   * top-level `eventId`, or the same line for an event without one): DocuSign repeating an event more than RECENT_EVENTS distinct events after it
   * served it before, or an event stored before a recovery and again by a run that started after it
   * (README "Recovering a corrupt or lost state": beyond the reseeded window, or a write that landed
   * after recover listed the lake). Bounded per event by the number of such repeats or recoveries.
   */
  readonly viewDuplicates: number;
  /** Lines whose text differs from every text the stream served but that carry a served event's id. */
  readonly altered: number;
  /** Lines with no served event's text or id. */
  readonly unknown: number;
  /** Lines under a `dt=` that is not the day the product's day function gives the event. */
  readonly wrongDay: number;
  /** Objects whose key is not `events/dt=YYYY-MM-DD/<name>` with `streamOfObjectName(name)` the stream. */
  readonly badNames: number;
  /** Keys that held two different contents with events over the scenario (every put and read tracked). */
  readonly keysOverwritten: number;
  /** Reads of the lake while a run was in flight, and what they showed that no reader may see. */
  readonly midRun: { readonly samples: number; readonly violations: number };
  /** A few examples, for the failure report. */
  readonly examples: readonly string[];
}

export interface CheckInput {
  readonly stream: string;
  readonly sourceTexts: readonly string[];
  /** The lake at the end. */
  readonly objects: readonly SeenObject[];
  /** The clocks' range, for the day of an event the product files under its ingestion day. */
  readonly ingestWindow: IngestWindow;
  /** Every content each key was seen or written with, in order (puts and reads). */
  readonly contents: ReadonlyMap<string, readonly Uint8Array[]>;
  /** Recovery epoch of each key's writer (recoveries finished before its run started); default 0. */
  readonly epochOf: (key: string) => number;
  /** What DocuSign served, for repeats beyond the id window; absent when the harness cannot see pages. */
  readonly served?: ServedLog;
  /** Reads of the lake taken while a run was in flight. */
  readonly samples: readonly (readonly SeenObject[])[];
}

/**
 * Checks the lake against the source, keyed by each event's exact text (never by a field a regex
 * finds, which collides on a nested `data.eventId` and maps every id-less event to one): each source
 * text exactly once (copies beyond it only as documented, see `viewDuplicates`), each line byte for
 * byte a text the stream served, under the day the product's day function gives it, in an object named
 * for the stream; no key ever held two contents; and every read taken mid-run shows no altered line and
 * no copy the documentation does not allow ("What a query sees mid-run": a failed attempt's objects and
 * their replacement never coexist, because the replacement is written only after the fencing).
 */
export function checkLake(input: CheckInput): LakeCheck {
  const examples: string[] = [];
  const note = (example: string): void => {
    if (examples.length < 6) examples.push(example);
  };
  const expected = new Set(input.sourceTexts);
  const ids = new Set(input.sourceTexts.map(idOf).filter((id) => id !== ""));
  const allowed = allowance(input);

  const final = readLines(input.objects, input, expected, ids, note);
  let rawDuplicates = 0;
  let viewDuplicates = 0;
  for (const [text, copies] of final.copies) {
    if (copies.length < 2) continue;
    const { hard, view } = judgeCopies(copies, allowed(text, copies));
    rawDuplicates += hard;
    viewDuplicates += view;
    if (hard > 0)
      note(
        `event ${text.slice(0, 70)} stored ${copies.length} times (${copies.map((c) => c.key).join(", ")})`,
      );
  }
  let lost = 0;
  for (const text of expected) {
    if (final.copies.has(text)) continue;
    lost++;
    note(`event ${text.slice(0, 80)} lost`);
  }

  let keysOverwritten = 0;
  for (const [key, contents] of input.contents) {
    const withEvents = new Set(
      contents.filter((c) => lineCount(c) > 0).map((c) => Buffer.from(c).toString("base64")),
    );
    if (withEvents.size > 1) {
      keysOverwritten++;
      note(`key ${key} held ${withEvents.size} different contents with events`);
    }
  }

  let violations = 0;
  for (const sample of input.samples) {
    const seen = readLines(sample, input, expected, ids, () => undefined);
    let bad = seen.altered + seen.unknown;
    for (const [text, copies] of seen.copies) {
      if (copies.length > 1) bad += judgeCopies(copies, allowed(text, copies)).hard;
    }
    if (bad > 0) note(`a read mid-run saw ${bad} lines no reader may see (altered, unknown or copies)`);
    violations += bad;
  }

  return {
    lost,
    rawDuplicates,
    viewDuplicates,
    altered: final.altered,
    unknown: final.unknown,
    wrongDay: final.wrongDay,
    badNames: final.badNames,
    keysOverwritten,
    midRun: { samples: input.samples.length, violations },
    examples,
  };
}

interface Copy {
  readonly key: string;
  readonly day: string;
}

function readLines(
  objects: readonly SeenObject[],
  input: CheckInput,
  expected: ReadonlySet<string>,
  ids: ReadonlySet<string>,
  note: (example: string) => void,
): { copies: Map<string, Copy[]>; altered: number; unknown: number; wrongDay: number; badNames: number } {
  const copies = new Map<string, Copy[]>();
  let altered = 0;
  let unknown = 0;
  let wrongDay = 0;
  let badNames = 0;
  const days = new Map<string, readonly string[]>();
  for (const object of objects) {
    const where = /^events\/dt=(\d{4}-\d{2}-\d{2})\/([^/]+)$/.exec(object.key);
    const day = where?.[1] ?? "";
    if (where === null || streamOfObjectName(where[2] ?? "") !== input.stream) {
      badNames++;
      note(`object ${object.key} is not events/dt=YYYY-MM-DD/<name> of stream ${input.stream}`);
    }
    for (const line of linesOf(object.body)) {
      if (!expected.has(line)) {
        const id = idOf(line);
        if (id !== "" && ids.has(id)) {
          altered++;
          note(`event ${id} in ${object.key} differs from the source's text`);
        } else {
          unknown++;
          note(`unknown line in ${object.key}: ${line.slice(0, 80)}`);
        }
        continue;
      }
      let want = days.get(line);
      if (want === undefined) {
        want = expectedDays(line, input.ingestWindow);
        days.set(line, want);
      }
      if (!want.includes(day)) {
        wrongDay++;
        note(
          `event ${line.slice(0, 60)} under dt=${day}, the product's day function says ${want.join(" or ")}`,
        );
      }
      const list = copies.get(line) ?? [];
      list.push({ key: object.key, day });
      copies.set(line, list);
    }
  }
  return { copies, altered, unknown, wrongDay, badNames };
}

/**
 * Of an event's copies beyond the first, how many are allowed (`allowedExtra`) and removed by the view
 * (`events_dedup` keeps one row per dt and top-level eventId, or per dt and exact line for an event
 * without one; copies of one text are one event either way), and how many are not (`hard`).
 */
function judgeCopies(copies: readonly Copy[], allowedExtra: number): { hard: number; view: number } {
  const extra = copies.length - 1;
  const removable = copies.length - new Set(copies.map((c) => c.day)).size;
  const view = Math.min(extra, allowedExtra, removable);
  return { hard: extra - view, view };
}

/** How many extra copies of a text the documented rules allow: repeats beyond the window, recoveries crossed. */
function allowance(input: CheckInput): (text: string, copies: readonly Copy[]) => number {
  const beyondWindow = input.served?.beyondWindowRepeats(input.sourceTexts) ?? new Map<string, number>();
  return (text, copies) => {
    const epochs = new Set(copies.map((c) => input.epochOf(c.key)));
    return (beyondWindow.get(text) ?? 0) + (epochs.size - 1);
  };
}

/**
 * The events DocuSign served (pages answered 200 and read whole), in order, by their parsed content
 * (`JSON.stringify` of the parsed event: the exact text is recovered from the source at the end). A
 * repeat is beyond the id window when the documented window no longer holds it: the window is the last
 * RECENT_EVENTS distinct events stored (README "Exactly once"), so the log replays the served events
 * through such a window, oldest pushed out first, and every serving of an event the window did not
 * hold is one stored copy. A repeat stored again pushes out older events like any new one.
 */
export class ServedLog {
  private readonly served: string[] = [];

  page(events: readonly unknown[]): void {
    for (const event of events) this.served.push(JSON.stringify(event));
  }

  get size(): number {
    return this.served.length;
  }

  /** Per source text: how many of its servings beyond the first the window did not hold (stored again). */
  beyondWindowRepeats(sourceTexts: readonly string[]): Map<string, number> {
    const textOf = new Map<string, string>();
    for (const text of sourceTexts) {
      try {
        textOf.set(JSON.stringify(JSON.parse(text)), text);
      } catch {
        // not JSON: never served as an event
      }
    }
    const window: string[] = [];
    let oldest = 0;
    const held = new Set<string>();
    const stored = new Map<string, number>();
    for (const canonical of this.served) {
      if (held.has(canonical)) continue;
      held.add(canonical);
      window.push(canonical);
      stored.set(canonical, (stored.get(canonical) ?? 0) + 1);
      while (window.length - oldest > RECENT_EVENTS) held.delete(window[oldest++] as string);
    }
    const result = new Map<string, number>();
    for (const [canonical, copies] of stored) {
      const text = textOf.get(canonical);
      if (copies > 1 && text !== undefined) result.set(text, copies - 1);
    }
    return result;
  }
}

function linesOf(body: Uint8Array): string[] {
  return gunzipSync(body)
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
}

function lineCount(body: Uint8Array): number {
  try {
    return linesOf(body).length;
  } catch {
    return 1; // not gzip: content all the same
  }
}

/** The top-level `eventId` of an event's text (what `events_dedup` partitions by), or "". */
export function idOf(text: string): string {
  try {
    const id = (JSON.parse(text) as { eventId?: unknown }).eventId;
    return typeof id === "string" ? id : "";
  } catch {
    return "";
  }
}

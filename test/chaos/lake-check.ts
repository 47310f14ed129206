import { gunzipSync } from "node:zlib";

/** What the lake holds compared with what the source served. */
export interface LakeCheck {
  /** Source events absent from the lake. */
  readonly lost: number;
  /** Lines beyond the first for an event id: the raw lake's duplicates. */
  readonly rawDuplicates: number;
  /** Lines whose text differs from the event's JSON as the source served it. */
  readonly altered: number;
  /** Lines with an event id the source never served. */
  readonly unknown: number;
  /** A few examples, for the failure report. */
  readonly examples: readonly string[];
}

/**
 * Checks every gzipped NDJSON object against the source, keyed by each event's exact text (never by a
 * field a regex finds, which collides on a nested `data.eventId` and maps every id-less event to one):
 * each source text exactly once, and each line byte for byte a text the stream served. A line that is
 * no source text but carries a source event's id is "altered", any other such line "unknown". Fences
 * (objects of no lines) hold nothing to count.
 */
export function checkLake(
  sourceTexts: readonly string[],
  objects: readonly { readonly key: string; readonly body: Uint8Array }[],
): LakeCheck {
  const expected = new Set(sourceTexts);
  const ids = new Set(sourceTexts.map(idOf).filter((id) => id !== ""));
  const seen = new Map<string, number>();
  const examples: string[] = [];
  let altered = 0;
  let unknown = 0;
  let rawDuplicates = 0;
  const note = (example: string): void => {
    if (examples.length < 5) examples.push(example);
  };
  for (const object of objects) {
    const text = gunzipSync(object.body).toString("utf8");
    for (const line of text.split("\n")) {
      if (line === "") continue;
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
      const count = (seen.get(line) ?? 0) + 1;
      seen.set(line, count);
      if (count > 1) {
        rawDuplicates++;
        note(`event ${line.slice(0, 60)} stored ${count} times (again in ${object.key})`);
      }
    }
  }
  let lost = 0;
  for (const text of expected) {
    if (seen.has(text)) continue;
    lost++;
    note(`event ${text.slice(0, 80)} lost`);
  }
  return { lost, rawDuplicates, altered, unknown, examples };
}

/** The top-level `eventId` of an event's text, for naming an altered line only. */
function idOf(text: string): string {
  try {
    const id = (JSON.parse(text) as { eventId?: unknown }).eventId;
    return typeof id === "string" ? id : "";
  } catch {
    return "";
  }
}

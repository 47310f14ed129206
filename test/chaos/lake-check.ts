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
 * Checks every gzipped NDJSON object against the source: each source event exactly once, and each
 * line byte for byte the event's JSON text as the stream served it.
 */
export function checkLake(
  sourceTexts: readonly string[],
  objects: readonly { readonly key: string; readonly body: Uint8Array }[],
): LakeCheck {
  const expected = new Map<string, string>();
  for (const text of sourceTexts) expected.set(idOf(text), text);
  const seen = new Map<string, number>();
  const examples: string[] = [];
  let altered = 0;
  let unknown = 0;
  let rawDuplicates = 0;
  for (const object of objects) {
    const text = gunzipSync(object.body).toString("utf8");
    for (const line of text.split("\n")) {
      if (line === "") continue;
      const id = idOf(line);
      const want = expected.get(id);
      if (want === undefined) {
        unknown++;
        if (examples.length < 5) examples.push(`unknown line in ${object.key}: ${line.slice(0, 80)}`);
        continue;
      }
      if (line !== want) {
        altered++;
        if (examples.length < 5) examples.push(`event ${id} in ${object.key} differs from the source's text`);
      }
      const count = (seen.get(id) ?? 0) + 1;
      seen.set(id, count);
      if (count > 1) {
        rawDuplicates++;
        if (examples.length < 5) examples.push(`event ${id} stored ${count} times (again in ${object.key})`);
      }
    }
  }
  let lost = 0;
  for (const id of expected.keys()) {
    if (seen.has(id)) continue;
    lost++;
    if (examples.length < 5) examples.push(`event ${id} lost`);
  }
  return { lost, rawDuplicates, altered, unknown, examples };
}

function idOf(text: string): string {
  return /"eventId"\s*:\s*"([^"]+)"/.exec(text)?.[1] ?? "";
}

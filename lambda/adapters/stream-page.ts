import type { MonitorEvent, ReceivedEvent } from "../core/ports";

/** A Monitor stream page as read from its body: each event's original text and parsed value. */
export interface StreamPage {
  readonly events: ReceivedEvent[];
  readonly endCursor: string;
}

/**
 * Reads a stream page body: `{ "endCursor": "...", "data": [ ... ] }` (the lens stream) or the same with
 * `resultData` (the organization stream). `JSON.parse` validates the body and gives the values; a scan
 * of the text gives each element's original JSON text, so the lake keeps it byte for byte (a number such
 * as `12345678901234567890` or `1e400` is not rounded by a round trip through a JavaScript number).
 * CR and LF are removed from an element's text: outside strings, where JSON allows them, they are
 * insignificant whitespace, and one line must stay one event. Returns undefined when the body is not a
 * page (not JSON, no array of objects, no string endCursor).
 */
export function parseStreamPage(text: string, parsed: unknown = parseJson(text)): StreamPage | undefined {
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const record = parsed as Record<string, unknown>;
  // The organization stream's field wins, as in monitor-api.md; the lens stream's `data` otherwise.
  const field = record.resultData !== undefined && record.resultData !== null ? "resultData" : "data";
  const events = record[field];
  if (!Array.isArray(events) || typeof record.endCursor !== "string") return undefined;
  if (!events.every((e) => typeof e === "object" && e !== null && !Array.isArray(e))) return undefined;
  const texts = elementTexts(text, field);
  if (texts === undefined || texts.length !== events.length) return undefined;
  return {
    events: events.map((event: MonitorEvent, i) => ({ raw: oneLine(texts[i] as string), event })),
    endCursor: record.endCursor,
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function oneLine(raw: string): string {
  return raw.includes("\n") || raw.includes("\r") ? raw.replace(/[\r\n]/g, "") : raw;
}

/**
 * The texts of the elements of the top-level object's array `field` (its last occurrence, as
 * `JSON.parse` keeps the last of duplicate keys). The text is known to be valid JSON.
 */
function elementTexts(text: string, field: string): string[] | undefined {
  let i = skipSpace(text, 0);
  if (text[i] !== "{") return undefined;
  i = skipSpace(text, i + 1);
  let result: string[] | undefined;
  while (text[i] !== "}") {
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, skipSpace(text, keyEnd) + 1); // past the colon
    if (key === field && text[i] === "[") {
      result = [];
      i = skipSpace(text, i + 1);
      while (text[i] !== "]") {
        const end = skipValue(text, i);
        result.push(text.slice(i, end));
        i = skipSpace(text, end);
        if (text[i] === ",") i = skipSpace(text, i + 1);
      }
      i++;
    } else {
      i = skipValue(text, i);
    }
    i = skipSpace(text, i);
    if (text[i] === ",") i = skipSpace(text, i + 1);
    else if (text[i] !== "}") return undefined;
  }
  return result;
}

function skipSpace(text: string, i: number): number {
  let j = i;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) j++;
    else return j;
  }
}

/** `i` is at an opening quote; returns the index after the closing one. */
function skipString(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const quote = text.indexOf('"', j);
    if (quote < 0) return text.length;
    let backslashes = 0;
    for (let k = quote - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    j = quote + 1;
  }
}

/**
 * From `lastIndex`: up to 64 runs of plain characters or strings without escapes. Bounded, so the
 * regex engine's backtracking stack stays small whatever the event's size; a string with escapes is
 * left to `skipString`.
 */
const PLAIN = /(?:[^"\\[\]{}]+|"[^"\\]*"){0,64}/y;
const LITERAL_END = /[\s,\]}]/g;

/** `i` is at the start of a value; returns the index after its end. The text is valid JSON. */
function skipValue(text: string, i: number): number {
  const first = text[i];
  if (first === '"') return skipString(text, i);
  if (first !== "{" && first !== "[") {
    LITERAL_END.lastIndex = i;
    const match = LITERAL_END.exec(text);
    return match ? match.index : text.length;
  }
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const c = text[j];
    if (c === '"') j = skipString(text, j);
    else if (c === "{" || c === "[") {
      depth++;
      j++;
    } else if (c === "}" || c === "]") {
      depth--;
      j++;
      if (depth === 0) return j;
    } else j++;
    PLAIN.lastIndex = j;
    PLAIN.exec(text);
    j = PLAIN.lastIndex;
  }
  return text.length;
}

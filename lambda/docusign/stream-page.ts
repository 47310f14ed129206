import type { MonitorEvent, ReceivedEvent } from "../core/ports";

/** A Monitor stream page as read from its body: each event's original text and parsed value. */
export interface StreamPage {
  readonly events: ReceivedEvent[];
  readonly endCursor: string;
}

/** Where an array value sits in the body, and where each of its elements does (start, end pairs). */
class ArraySpan {
  constructor(
    readonly start: number,
    readonly end: number,
    readonly elements: readonly number[],
  ) {}
}

/**
 * Reads a stream page body: `{ "endCursor": "...", "data": [ ... ] }` (the lens stream) or the same with
 * `resultData` (the organization stream), in one pass over the text. The pass finds each element's
 * original JSON text, so the lake keeps it byte for byte (a number such as `12345678901234567890` or
 * `1e400` is not rounded by a round trip through a JavaScript number), and `JSON.parse` reads each
 * element from that text: the body is parsed once, not once whole and once more by a scan. Every value
 * is parsed (the elements of the page's array one by one, other values whole) and the pass checks the
 * punctuation between them, so a body that is not valid JSON is refused as `JSON.parse` would refuse it.
 * CR and LF are removed from an element's text: outside strings, where JSON allows them, they are
 * insignificant whitespace, and one line must stay one event. Returns undefined when the body is not a
 * page (not JSON, no array of objects, no string endCursor).
 */
export function parseStreamPage(text: string): StreamPage | undefined {
  try {
    return readPage(text);
  } catch {
    return undefined; // JSON.parse refused a value: the body is not JSON
  }
}

function readPage(text: string): StreamPage | undefined {
  let i = skipSpace(text, 0);
  if (text.charCodeAt(i) !== 0x7b) return undefined; // {
  i = skipSpace(text, i + 1);
  // JSON.parse keeps the last of duplicate keys; so does this pass.
  let data: unknown;
  let resultData: unknown;
  let endCursor: unknown;
  if (text.charCodeAt(i) === 0x7d)
    i++; // {}
  else {
    for (;;) {
      if (text.charCodeAt(i) !== 0x22) return undefined; // a key
      const keyEnd = skipString(text, i);
      const key = JSON.parse(text.slice(i, keyEnd)) as string;
      i = skipSpace(text, keyEnd);
      if (text.charCodeAt(i) !== 0x3a) return undefined; // :
      i = skipSpace(text, i + 1);
      const start = i;
      let value: unknown;
      if ((key === "data" || key === "resultData") && text.charCodeAt(i) === 0x5b) {
        const span = arraySpan(text, i);
        if (span === undefined) return undefined;
        value = span;
        i = span.end;
      } else {
        i = skipValue(text, i);
        value = JSON.parse(text.slice(start, i));
      }
      if (key === "data") data = validated(text, data, value);
      else if (key === "resultData") resultData = validated(text, resultData, value);
      else if (key === "endCursor") endCursor = value;
      i = skipSpace(text, i);
      const c = text.charCodeAt(i);
      i = skipSpace(text, i + 1);
      if (c === 0x7d) break; // }
      if (c !== 0x2c) return undefined; // ,
    }
  }
  if (skipSpace(text, i) !== text.length) return undefined; // trailing text
  // The organization stream's field wins, as in monitor-api.md; the lens stream's `data` otherwise,
  // or when `resultData` is an empty array beside a `data` with events. Both with events is no page:
  // keeping either would drop the other's events.
  const holdsEvents = (v: unknown): boolean => v instanceof ArraySpan && v.elements.length > 0;
  if (holdsEvents(data) && holdsEvents(resultData)) return undefined;
  const useResultData = resultData !== undefined && resultData !== null && !holdsEvents(data);
  const chosen = useResultData ? resultData : data;
  const other = useResultData ? data : resultData;
  if (other instanceof ArraySpan) JSON.parse(text.slice(other.start, other.end)); // is it JSON?
  if (!(chosen instanceof ArraySpan) || typeof endCursor !== "string") return undefined;
  const { elements } = chosen;
  const events: ReceivedEvent[] = [];
  let objects = true;
  for (let k = 0; k < elements.length; k += 2) {
    const raw = text.slice(elements[k], elements[k + 1]);
    const event = JSON.parse(raw) as MonitorEvent; // parse them all: a later one may not be JSON
    if (raw.charCodeAt(0) !== 0x7b) objects = false; // an object's text starts with {
    events.push({ raw: oneLine(raw), event });
  }
  return objects ? { events, endCursor } : undefined;
}

/** A duplicate key's earlier array is parsed whole before it is dropped, so invalid JSON in it is refused. */
function validated(text: string, previous: unknown, value: unknown): unknown {
  if (previous instanceof ArraySpan) JSON.parse(text.slice(previous.start, previous.end));
  return value;
}

/** `i` is at `[`: the array's end and its elements' boundaries; undefined when its punctuation is not JSON. */
function arraySpan(text: string, start: number): ArraySpan | undefined {
  const elements: number[] = [];
  let i = skipSpace(text, start + 1);
  if (text.charCodeAt(i) !== 0x5d) {
    for (;;) {
      const end = skipValue(text, i);
      if (end === i) return undefined; // no value here
      elements.push(i, end);
      i = skipSpace(text, end);
      const c = text.charCodeAt(i);
      if (c === 0x5d) break; // ]
      if (c !== 0x2c) return undefined; // ,
      i = skipSpace(text, i + 1);
    }
  }
  return new ArraySpan(start, i + 1, elements);
}

function oneLine(raw: string): string {
  return raw.includes("\n") || raw.includes("\r") ? raw.replace(/[\r\n]/g, "") : raw;
}

function skipSpace(text: string, i: number): number {
  let j = i;
  for (;;) {
    const c = text.charCodeAt(j);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) j++;
    else return j;
  }
}

/** `i` is at an opening quote; returns the index after the closing one (the text's end if none). */
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
 * `i` is at the start of a value; returns the index after its end, found by its delimiters only (a
 * string's closing quote, the bracket that closes an object or array, the character that ends a
 * literal). The value's text is parsed afterwards, which refuses what is not JSON.
 */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === 0x22) return skipString(text, i);
  if (first !== 0x7b && first !== 0x5b) {
    let j = i;
    for (;;) {
      const c = text.charCodeAt(j);
      // a literal ends at whitespace, a comma, a closing bracket or the text's end (NaN)
      if (c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09)
        return j;
      if (Number.isNaN(c)) return j;
      j++;
    }
  }
  let depth = 0;
  const n = text.length;
  let j = i;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (c === 0x22) {
      j = skipString(text, j);
      continue;
    }
    if (c === 0x7b || c === 0x5b) depth++;
    else if ((c === 0x7d || c === 0x5d) && --depth === 0) return j + 1;
    j++;
  }
  return n;
}

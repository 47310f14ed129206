import { keyOf } from "./object-key";
import type { PendingChunk } from "./ports";

/** One day of a chunk and how many parts (objects) it has there: parts 0 to `parts - 1`. */
export interface DayParts {
  readonly day: string;
  readonly parts: number;
}

/** More parts than this on one day in a stored intent is corruption, not a chunk (a day splits by size). */
export const MAX_PARTS_PER_DAY = 100_000;

const DAY_MS = 24 * 3600 * 1000;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const ENTRY = /^(\d{4}-\d{2}-\d{2}|[1-9]\d{0,6})(?:\*([1-9]\d{0,5}))?$/;

/**
 * The days and part counts of a chunk as one short text, so that its intent stays a few bytes per day
 * whatever the page (the keys themselves are about 110 bytes each with a long stream id, and a page of
 * 4,500 events on 4,500 days made a list of them larger than a DynamoDB item). Days in order, separated
 * by commas: the first written out (`2024-01-01`), each next one as the number of days after the one
 * before (`1` for the next day), and `*N` after a day with N parts when it has more than one:
 * `2024-01-01*2,1,30` is 2024-01-01 (parts 0 and 1), 2024-01-02 and 2024-02-01. At most about two
 * bytes per day when every day is present, so the intent of any chunk is bounded by the days events
 * can fall on.
 */
export function encodeParts(days: readonly DayParts[]): string {
  const sorted = [...days].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : 0));
  const entries: string[] = [];
  let previous: number | undefined;
  for (const { day, parts } of sorted) {
    const number = dayNumber(day);
    if (number === undefined) throw new RangeError(`"${day}" is not a YYYY-MM-DD day`);
    if (!Number.isSafeInteger(parts) || parts < 1 || parts > MAX_PARTS_PER_DAY) {
      throw new RangeError(`day ${day} has ${parts} parts, expected 1 to ${MAX_PARTS_PER_DAY}`);
    }
    if (previous !== undefined && number <= previous) throw new RangeError(`day ${day} is listed twice`);
    entries.push(
      `${previous === undefined ? day : String(number - previous)}${parts > 1 ? `*${parts}` : ""}`,
    );
    previous = number;
  }
  return entries.join(",");
}

/** The days and part counts `encodeParts` wrote, or undefined when `text` is not such a text. */
export function decodeParts(text: string): DayParts[] | undefined {
  if (text === "") return [];
  const days: DayParts[] = [];
  let previous: number | undefined;
  for (const entry of text.split(",")) {
    const m = ENTRY.exec(entry);
    if (!m) return undefined;
    const [, head = "", count] = m;
    const number =
      previous === undefined ? dayNumber(head) : head.includes("-") ? undefined : previous + Number(head);
    if (number === undefined) return undefined;
    const day = dayText(number);
    const parts = count === undefined ? 1 : Number(count);
    if (day === undefined || parts > MAX_PARTS_PER_DAY) return undefined;
    days.push({ day, parts });
    previous = number;
  }
  return days;
}

/** Every key the chunk of `pending` may have written: the same keys as its objects', derived again. */
export function pendingKeys(stream: string, pending: PendingChunk): string[] {
  const days = decodeParts(pending.parts);
  if (days === undefined) throw new RangeError(`the pending chunk's parts "${pending.parts}" cannot be read`);
  return days.flatMap(({ day, parts }) =>
    Array.from({ length: parts }, (_, part) => keyOf(stream, pending.chunk, day, part)),
  );
}

/** Days since 1970-01-01 of a valid `YYYY-MM-DD` day, else undefined. */
function dayNumber(day: string): number | undefined {
  const m = DAY.exec(day);
  if (!m) return undefined;
  const date = new Date(0);
  // setUTCFullYear, not Date.UTC: Date.UTC reads years 0-99 as 1900-1999.
  date.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  const number = Math.round(date.getTime() / DAY_MS);
  return dayText(number) === day ? number : undefined;
}

/** Day 9999-12-31: no later day has a `YYYY-MM-DD` form. */
const LAST_DAY_NUMBER = 2_932_896;

function dayText(number: number): string | undefined {
  if (number > LAST_DAY_NUMBER) return undefined;
  const text = new Date(number * DAY_MS).toISOString().slice(0, 10);
  return DAY.test(text) ? text : undefined;
}

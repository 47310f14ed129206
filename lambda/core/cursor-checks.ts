import { CursorError } from "../errors";

/** Largest cursor the state stores; a larger one stops the run (the DynamoDB item must stay far below 400 KB). */
export const MAX_CURSOR_BYTES = 8 * 1024;

/**
 * The cursors sent in one run, in order, to tell a page's `endCursor` the run can follow from one it
 * cannot: empty, too large to store, or one already sent (a cycle: A → B → A would page forever).
 */
export class CursorTrail {
  private readonly sent: string[] = [];
  private readonly index = new Map<string, number>();

  constructor(
    private readonly stream: string,
    start: string,
  ) {
    const size = Buffer.byteLength(start);
    if (size > MAX_CURSOR_BYTES) {
      throw new CursorError(
        stream,
        `Stream "${stream}": the start cursor is ${size} bytes, more than the ${MAX_CURSOR_BYTES} bytes the state stores. ` +
          "Start from an ISO-8601 date-time instead (--start / START_CURSOR).",
      );
    }
    this.add(start);
  }

  /**
   * Checks the `endCursor` page number `page` returned for `cursorSent` and records it; throws a
   * `CursorError` when it cannot be followed.
   */
  follow(endCursor: string, cursorSent: string, page: number): void {
    const { stream } = this;
    const where = `page ${page} (sent cursor ${shorten(cursorSent)})`;
    const after = "Everything before this page is committed; the cursor stays at the one sent.";
    if (endCursor === "") {
      throw new CursorError(
        stream,
        `Stream "${stream}": DocuSign returned an empty endCursor for ${where}. ${after} Run again later; if it persists, report it to DocuSign support.`,
      );
    }
    const size = Buffer.byteLength(endCursor);
    if (size > MAX_CURSOR_BYTES) {
      throw new CursorError(
        stream,
        `Stream "${stream}": DocuSign returned a ${size}-byte endCursor for ${where}, more than the ${MAX_CURSOR_BYTES} bytes the state can store. ${after} Report it to DocuSign support.`,
      );
    }
    if (endCursor === cursorSent) return; // nothing new: caught up
    const first = this.index.get(endCursor);
    if (first !== undefined) {
      const cycle = [...this.sent.slice(first), endCursor].map(shorten).join(" → ");
      throw new CursorError(
        stream,
        `Stream "${stream}": the cursor cycles: ${where} returned endCursor ${shorten(endCursor)}, already sent in this run (cycle ${cycle}). ` +
          `${after} Following it would fetch the same pages forever; report the cycle to DocuSign support with the cursors above.`,
      );
    }
    this.add(endCursor);
  }

  private add(cursor: string): void {
    this.index.set(cursor, this.sent.length);
    this.sent.push(cursor);
  }
}

/**
 * A cursor as quoted in a message: shortened, and every character outside printable ASCII written as
 * `\uXXXX`. DocuSign chose it, so it may carry terminal escapes or newlines that would forge lines;
 * escaped, it stays exact enough to quote to DocuSign support.
 */
function shorten(cursor: string): string {
  const short = cursor.length <= 24 ? cursor : `${cursor.slice(0, 12)}…${cursor.slice(-8)}`;
  return short.replace(/[^\x20-\x7e…]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

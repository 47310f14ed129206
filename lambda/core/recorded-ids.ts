/**
 * The `eventId` of one NDJSON line as the chunk reads it (a non-empty string at the top level), or
 * undefined: a line that is not a JSON object, or has no such id.
 */
export function eventIdOfLine(line: string): string | undefined {
  if (line === "") return undefined;
  try {
    const event = JSON.parse(line) as unknown;
    if (typeof event !== "object" || event === null) return undefined;
    const id = (event as Record<string, unknown>).eventId;
    return typeof id === "string" && id !== "" ? id : undefined;
  } catch {
    return undefined;
  }
}

/** The ids of the lines of a line stream, in order. */
export async function eventIdsOfLines(lines: AsyncIterable<string>): Promise<string[]> {
  const ids: string[] = [];
  for await (const line of lines) {
    const id = eventIdOfLine(line);
    if (id !== undefined) ids.push(id);
  }
  return ids;
}

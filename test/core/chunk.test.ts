import { randomUUID } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { makeEvents, received } from "../../dev/fakes";
import { Chunk, MAX_OPEN_PARTS } from "../../lambda/core/chunk";
import { eventHash } from "../../lambda/core/event-text";
import { RECENT_EVENTS } from "../../lambda/core/run-ingest";

const INGEST_MS = Date.UTC(2024, 0, 10);

describe("Chunk", () => {
  it("stores each event's original text, byte for byte, one per line", async () => {
    const raws = [
      '{"eventId":"big","timestamp":"2024-01-01T00:00:00Z","n":12345678901234567890,"huge":1e400}',
      '{ "eventId" : "spaced" ,"timestamp":"2024-01-01T00:00:01Z", "x": 1.0, "u": "\\u00e9" }',
    ];
    const chunk = new Chunk("c0", [], 1_000_000);
    for (const raw of raws) chunk.add(received(JSON.parse(raw) as Record<string, unknown>, raw), INGEST_MS);
    await chunk.compress();

    const [object] = await chunk.finish("s1", 1, "c2", "2024-01-10T00:00:00Z");

    expect(gunzipSync(object?.body ?? new Uint8Array()).toString("utf8")).toBe(`${raws.join("\n")}\n`);
    expect(object?.metadata.eventCount).toBe(2);
  });

  it("writes multi-byte UTF-8 text exactly, compressed per page or at the end, and counts its bytes", async () => {
    const raws = [
      '{"eventId":"é","timestamp":"2024-01-01T00:00:00Z","s":"日本語"}',
      '{"eventId":"emoji","timestamp":"2024-01-01T00:00:01Z","s":"🔐 \u2028"}',
      '{"eventId":"last","timestamp":"2024-01-01T00:00:02Z","s":"ß"}',
    ];
    const chunk = new Chunk("c0", [], 1_000_000);
    for (const raw of raws.slice(0, 2))
      chunk.add(received(JSON.parse(raw) as Record<string, unknown>, raw), INGEST_MS);
    await chunk.compress();
    const last = raws[2] as string;
    chunk.add(received(JSON.parse(last) as Record<string, unknown>, last), INGEST_MS); // left for finish

    const [object] = await chunk.finish("s1", 1, "c3", "2024-01-10T00:00:00Z");

    const ndjson = `${raws.join("\n")}\n`;
    expect(gunzipSync(object?.body ?? new Uint8Array()).toString("utf8")).toBe(ndjson);
    expect(chunk.bytes).toBe(Buffer.byteLength(ndjson));
  });

  it("files events on either side of midnight UTC under their own day, in any order", async () => {
    const times = [
      "2024-01-02T00:00:00.000Z",
      "2024-01-01T23:59:59.999Z",
      "2024-01-01T00:00:00.000Z",
      "2024-01-02T00:00:00.001Z",
      "2024-01-01T23:59:59.999+00:00",
      "2024-01-02T01:00:00+02:00", // 2024-01-01T23:00Z
      "2024-01-03T00:00:00Z",
    ];
    const chunk = new Chunk("c0", [], 1_000_000);
    times.forEach((timestamp, i) => {
      chunk.add(received({ eventId: `e${i}`, timestamp }), INGEST_MS);
    });

    const objects = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00Z");

    const idsByDay = objects.map((o) => [
      o.key.split("/")[1],
      gunzipSync(o.body)
        .toString("utf8")
        .trim()
        .split("\n")
        .map((line) => (JSON.parse(line) as { eventId: string }).eventId),
    ]);
    expect(idsByDay).toEqual([
      ["dt=2024-01-01", ["e1", "e2", "e4", "e5"]],
      ["dt=2024-01-02", ["e0", "e3"]],
      ["dt=2024-01-03", ["e6"]],
    ]);
  });

  it("keeps one event per line even when a source passes text with line breaks", async () => {
    const chunk = new Chunk("c0", [], 1_000_000);
    chunk.add(received({ eventId: "x" }, '{\r\n "eventId": "x"\n}'), INGEST_MS);
    await chunk.compress();

    const [object] = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00Z");

    expect(gunzipSync(object?.body ?? new Uint8Array()).toString("utf8")).toBe('{ "eventId": "x"}\n');
  });

  it("holds the compressed size, not the NDJSON, once a page is compressed", async () => {
    const chunk = new Chunk("c0", [], 64 * 1024 * 1024);
    const events = makeEvents(20_000, 1);
    for (let i = 0; i < events.length; i += 2000) {
      for (const event of events.slice(i, i + 2000)) chunk.add(received(event), INGEST_MS);
      await chunk.compress();
    }

    expect(chunk.bytes).toBeGreaterThan(4_000_000);
    expect(chunk.bufferedBytes).toBeLessThan(chunk.bytes / 8);
    const objects = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00Z");
    const text = objects.map((o) => gunzipSync(o.body).toString("utf8")).join("");
    expect(text).toBe(events.map((e) => `${JSON.stringify(e)}\n`).join(""));
  });

  it("splits a day into parts of at most partMaxBytes of NDJSON, in order, keyed by the version", async () => {
    const chunk = new Chunk("c0", [], 3_000);
    const events = makeEvents(100, 1);
    for (const event of events) chunk.add(received(event), INGEST_MS);
    await chunk.compress();

    const keys = chunk.keys("s1", 7);
    const objects = await chunk.finish("s1", 7, "c100", "2024-01-10T00:00:00Z");

    expect(objects.map((o) => o.key)).toEqual(keys);
    expect(objects.length).toBeGreaterThan(5);
    const sizes = objects.map((o) => gunzipSync(o.body).byteLength);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(3_000);
    const lines = objects.flatMap((o) => gunzipSync(o.body).toString("utf8").split("\n").filter(Boolean));
    expect(lines).toEqual(events.map((e) => JSON.stringify(e)));
    expect(keys[1]).toMatch(/^events\/dt=2024-01-01\/s1-[0-9a-f]{16}-001\.json\.gz$/);
  });

  it("holds at most twice MAX_OPEN_PARTS zlib states when a page's 2,000 events span 2,000 days", async () => {
    const chunk = new Chunk("c0", [], 1_000_000);
    const events = makeEvents(2000, 2000); // one event a day
    let most = 0;
    for (const event of events) {
      chunk.add(received(event), Date.UTC(2030, 0, 1));
      most = Math.max(most, chunk.liveStreams);
      if (chunk.mustRelieve) await chunk.relieve(); // as runIngest does
    }
    await chunk.compress();
    const objects = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00Z");

    expect(most).toBeLessThanOrEqual(2 * MAX_OPEN_PARTS);
    expect(objects).toHaveLength(new Set(events.map((e) => String(e.timestamp).slice(0, 10))).size);
    expect(objects.length).toBeGreaterThan(1900);
    expect(chunk.liveStreams).toBe(0);
  });

  it("keeps at most MAX_OPEN_PARTS gzip streams open when a page spans many days", async () => {
    const chunk = new Chunk("c0", [], 1_000_000);
    const events = makeEvents(2000, 400); // 5 events a day over 400 days, interleaved twice
    const order = [...events.filter((_, i) => i % 2 === 0), ...events.filter((_, i) => i % 2 === 1)];
    let most = 0;
    // Ingested after the last of the 400 days, so that no event is "untimed" (more than a day ahead).
    const ingestedLater = Date.UTC(2025, 6, 1);
    for (const event of order) {
      chunk.add(received(event), ingestedLater);
      most = Math.max(most, chunk.openStreams);
    }
    await chunk.compress();

    const objects = await chunk.finish("s1", 1, "c1", "2024-01-10T00:00:00Z");

    expect(most).toBe(MAX_OPEN_PARTS);
    expect(new Set(objects.map((o) => o.key)).size).toBe(objects.length);
    const lines = objects.flatMap((o) => gunzipSync(o.body).toString("utf8").split("\n").filter(Boolean));
    expect(lines.sort()).toEqual(order.map((e) => JSON.stringify(e)).sort());
  });

  it("keeps the text hashes of the last 4,000 events (twice the largest page)", () => {
    const chunk = new Chunk("c0", [], 1_000_000);
    const events = Array.from({ length: 5000 }, () => ({
      eventId: randomUUID(),
      timestamp: "2024-01-01T00:00:00Z",
    }));
    for (const event of events) chunk.add(received(event), INGEST_MS);

    const hashes = chunk.recentHashes(RECENT_EVENTS);

    expect(hashes).toHaveLength(4000);
    expect(hashes).toEqual(events.slice(1000).map((e) => eventHash(JSON.stringify(e))));
  });

  it("remembers 24 hex characters per event however long its id or text", () => {
    const chunk = new Chunk("c0", [], 1_000_000);
    for (let i = 0; i < 1000; i++) {
      chunk.add(
        received({
          eventId: `${"x".repeat(1000)}-${i}`,
          timestamp: "2024-01-01T00:00:00Z",
          data: "y".repeat(5000),
        }),
        INGEST_MS,
      );
    }

    const hashes = chunk.recentHashes(RECENT_EVENTS);

    expect(hashes).toHaveLength(1000);
    for (const hash of hashes) expect(hash).toMatch(/^[0-9a-f]{24}$/);
  });
});

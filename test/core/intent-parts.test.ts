import { describe, expect, it } from "vitest";
import { makeEvents, received } from "../../dev/fakes";
import { Chunk, MAX_OPEN_PARTS } from "../../lambda/core/chunk";
import { decodeParts, encodeParts, pendingKeys } from "../../lambda/core/intent-parts";
import { chunkId } from "../../lambda/core/object-key";

describe("the intent's days and parts", () => {
  it("writes the first day out and each next one as the days after it, with *N for N parts", () => {
    const days = [
      { day: "2024-02-01", parts: 1 },
      { day: "2024-01-01", parts: 2 },
      { day: "2024-01-02", parts: 1 },
    ];

    expect(encodeParts(days)).toBe("2024-01-01*2,1,30");
    expect(decodeParts("2024-01-01*2,1,30")).toEqual([days[1], days[2], days[0]]);
    expect(decodeParts("")).toEqual([]);
  });

  it("reads back any day of years 0000 to 9999, leap days and centuries included", () => {
    const days = ["0000-01-01", "0099-12-31", "1900-02-28", "2000-02-29", "9999-12-31"].map((day) => ({
      day,
      parts: 3,
    }));

    expect(decodeParts(encodeParts(days))).toEqual(days);
  });

  it("refuses a text that is not one: bad days, zero or negative steps, zero or too many parts, days past 9999, stray text", () => {
    for (const bad of [
      "2024-13-01",
      "2024-02-30",
      "2024-01-01,0",
      "2024-01-01,-1",
      "2024-01-01*0",
      "1,2",
      "2024-01-01,2024-01-02",
      "2024-01-01;1",
      "2024-01-01,",
      "2024-01-01*200000",
      "9999-12-31,1",
      `2024-01-01${",9999999".repeat(20)}`,
    ]) {
      expect(decodeParts(bad), bad).toBeUndefined();
    }
  });

  it("names the very keys of the chunk's objects, across days, size splits and sealed parts", async () => {
    const chunk = new Chunk("c0", [], 2_000); // a few events per part
    const events = makeEvents(3000, 2 * MAX_OPEN_PARTS + 7); // more days than open parts, interleaved
    const order = [...events.filter((_, i) => i % 2 === 0), ...events.filter((_, i) => i % 2 === 1)];
    for (const event of order) {
      chunk.add(received(event), Date.UTC(2030, 0, 1));
      if (chunk.mustRelieve) await chunk.relieve();
    }
    const objects = await chunk.finish("s1", 7, "c1", "2024-01-10T00:00:00Z", "run-1");

    const keys = pendingKeys("s1", {
      owner: "run-1",
      startCursor: "c0",
      endCursor: "c1",
      chunk: chunkId("c0", 7, "run-1"),
      parts: chunk.intentParts(),
    });

    expect(objects.length).toBeGreaterThan(2 * (2 * MAX_OPEN_PARTS + 7));
    expect(keys.sort()).toEqual(objects.map((o) => o.key).sort());
  });

  it("stays about two bytes a day: every day from 1970 to 2100 with two parts each in under 200 KB", () => {
    const days = [];
    for (let ms = 0; ms < Date.UTC(2100, 0, 1); ms += 86_400_000) {
      days.push({ day: new Date(ms).toISOString().slice(0, 10), parts: 2 });
    }

    const text = encodeParts(days);

    expect(days.length).toBeGreaterThan(47_000);
    expect(Buffer.byteLength(text)).toBeLessThan(200_000);
    expect(decodeParts(text)).toHaveLength(days.length);
  });
});

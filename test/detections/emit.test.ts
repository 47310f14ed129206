import { describe, expect, it } from "vitest";
import { METRIC_MAX_AGE_MS, metricTimestamp } from "../../lambda/detections/emit";

describe("metricTimestamp", () => {
  const now = Date.parse("2026-11-26T12:00:30Z");

  it("is the event's own minute while CloudWatch accepts it", () => {
    expect(metricTimestamp(Date.parse("2026-11-20T08:15:59.999Z"), now)).toBe(
      Date.parse("2026-11-20T08:15:00Z"),
    );
    expect(metricTimestamp(now - METRIC_MAX_AGE_MS + 60_000, now)).toBeDefined();
  });

  it("is none for events older than CloudWatch keeps (14 days, less an hour for delivery)", () => {
    expect(metricTimestamp(now - METRIC_MAX_AGE_MS - 1, now)).toBeUndefined();
    expect(metricTimestamp(Date.parse("2026-11-01T00:00:00Z"), now)).toBeUndefined();
  });

  it("is the ingest minute for an event without a time or from the future", () => {
    const ingestMinute = Date.parse("2026-11-26T12:00:00Z");
    expect(metricTimestamp(undefined, now)).toBe(ingestMinute);
    expect(metricTimestamp(now + 3 * 3600_000, now)).toBe(ingestMinute);
    expect(metricTimestamp(now + 10 * 60_000, now)).toBe(Date.parse("2026-11-26T12:10:00Z"));
  });
});

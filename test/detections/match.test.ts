import { describe, expect, it } from "vitest";
import type { MonitorEvent } from "../../lambda/core/ports";
import { createMatcher, fieldText, MATCH_FIELD_MAX, matchFields } from "../../lambda/detections/match";
import { activeRules, type DetectionSettings } from "../../lambda/detections/rules";

const DEPTH = 100_000;
const deep = (inner = "1"): string => `${"[".repeat(DEPTH)}${inner}${"]".repeat(DEPTH)}`;
const settings: DetectionSettings = { allowedCountries: ["US"] };
const matcher = createMatcher(activeRules(settings), settings);

/** An alert as DocuSign's JSON text would carry it, with `fields` spliced in as raw JSON. */
function hostile(fields: Record<string, string>): MonitorEvent {
  const base: Record<string, string> = {
    timestamp: '"2026-11-20T10:42:19.8996904Z"',
    eventId: '"h-1"',
    object: '"Alert"',
    action: '"CredentialLeakDetected"',
    userId: '"u1"',
    ipAddressLocation: '{"country":"US"}',
    data: '{"Severity":"High"}',
    ...fields,
  };
  const text = `{${Object.entries(base)
    .map(([k, v]) => `${JSON.stringify(k)}:${v}`)
    .join(",")}}`;
  return JSON.parse(text) as MonitorEvent;
}

describe("matching is total over any JSON value", () => {
  it('an alert whose userId is {"toString":0} matches, and its fields are text', () => {
    const event = hostile({ userId: '{"toString":0}', ipAddress: '{"valueOf":1,"toString":"x"}' });
    expect(() => String(event.userId)).toThrow(TypeError); // what the detections used to do
    const matches = matcher.match(event);
    expect(matches.map((m) => m.rule.id).sort()).toEqual(["alert-credential-leak", "alert-severity-high"]);
    const fields = matchFields(matches[0] as (typeof matches)[0]);
    expect(fields).toMatchObject({
      eventId: "h-1",
      userId: "",
      ipAddress: "",
      action: "CredentialLeakDetected",
    });
    expect(() => JSON.stringify(fields)).not.toThrow();
  });

  it("a field nested 100,000 arrays deep, in any field a rule or the log line reads", () => {
    for (const field of [
      "userId",
      "ipAddress",
      "object",
      "action",
      "data",
      "ipAddressLocation",
      "country",
      "eventId",
    ]) {
      const event = hostile({ [field]: deep() });
      expect(() => String(event[field])).toThrow(RangeError); // Array.prototype.toString recurses
      const matches = matcher.match(event);
      for (const m of matches) expect(() => JSON.stringify(matchFields(m))).not.toThrow();
      if (!["object", "action", "data"].includes(field)) expect(matches.length, field).toBeGreaterThan(0);
    }
    const inData = hostile({ data: `{"Severity":${deep('"High"')},"SettingsKey":${deep()}}` });
    expect(matcher.match(inData).map((m) => m.rule.id)).toEqual(["alert-credential-leak"]);
  });

  it("prototype-named keys, odd location shapes and huge strings neither throw nor leak into fields", () => {
    const events = [
      hostile({ __proto__: '{"object":"Alert"}', constructor: '{"prototype":1}' }),
      hostile({ ipAddressLocation: '"RU"', country: '"RU"' }),
      hostile({ ipAddressLocation: "[1,2]", country: "null" }),
      hostile({ ipAddressLocation: '{"country":{"toString":0}}' }),
      hostile({ userId: JSON.stringify("x".repeat(5_000_000)) }),
    ];
    for (const e of events) for (const m of matcher.match(e)) matchFields(m);
    const located = matcher
      .match(events[1] as MonitorEvent)
      .find((m) => m.rule.id === "activity-outside-allowed-countries");
    expect(located && matchFields(located).country).toBe("RU");
    const long = matcher.match(events[4] as MonitorEvent)[0];
    expect(long && matchFields(long).userId).toBe(`${"x".repeat(MATCH_FIELD_MAX)}…`);
  });

  it("fieldText: strings, numbers and booleans as written; anything else is empty", () => {
    expect([fieldText("a"), fieldText(12), fieldText(false), fieldText(null), fieldText(undefined)]).toEqual([
      "a",
      "12",
      "false",
      "",
      "",
    ]);
    expect([fieldText({ toString: 0 }), fieldText([1, [2]]), fieldText(JSON.parse(deep()))]).toEqual([
      "",
      "",
      "",
    ]);
  });
});

import { describe, expect, it } from "vitest";
import { parseStreamPage } from "../../lambda/docusign/stream-page";

describe("parseStreamPage", () => {
  it("keeps each event's original text: big integers and out-of-range numbers survive", () => {
    const a = '{"eventId":"a","n":12345678901234567890,"huge":1e400,"f":1.10}';
    const b = '{ "eventId" : "b" , "s" : "a \\" ] } [ { , quote" }';
    const body = `{"endCursor":"c2","data":[${a}, ${b}]}`;

    const page = parseStreamPage(body);

    expect(page?.endCursor).toBe("c2");
    expect(page?.events.map((e) => e.raw)).toEqual([a, b]);
    expect(page?.events.map((e) => e.event.eventId)).toEqual(["a", "b"]);
    expect(JSON.stringify(page?.events[0]?.event)).not.toContain("12345678901234567890"); // why raw matters
  });

  it("removes CR and LF from a pretty-printed event, so one line stays one event", () => {
    const pretty = '{\r\n  "eventId": "p",\r\n  "data": {\n    "n": 12345678901234567890\n  }\n}';
    const body = `{\n  "resultData": [\n    ${pretty}\n  ],\n  "endCursor": "x"\n}`;

    const page = parseStreamPage(body);

    expect(page?.events.map((e) => e.raw)).toEqual([
      '{  "eventId": "p",  "data": {    "n": 12345678901234567890  }}',
    ]);
  });

  it("reads resultData before an empty data, and the last of duplicate keys as JSON.parse does", () => {
    const body =
      '{"data":[],"resultData":[{"eventId":"old"}],"endCursor":"e","resultData":[{"eventId":"r"}]}';

    expect(parseStreamPage(body)?.events.map((e) => e.raw)).toEqual(['{"eventId":"r"}']);
    expect(
      parseStreamPage('{"data":[{"eventId":"d"}],"resultData":[],"endCursor":"e"}')?.events,
    ).toHaveLength(1);
  });

  it("refuses a page with events in both data and resultData (issue 18 item 13)", () => {
    const body = '{"data":[{"eventId":"d"}],"resultData":[{"eventId":"r"}],"endCursor":"e"}';

    expect(parseStreamPage(body)).toBeUndefined();
  });

  it("handles an empty page and keys with escapes", () => {
    expect(parseStreamPage('{"endCursor":"c","d\\u0061ta":[ ]}')).toEqual({ events: [], endCursor: "c" });
    expect(parseStreamPage('{"x":[1,[2,{"y":"]"}]],"endCursor":"c","data":[{"a":[]}]}')?.events[0]?.raw).toBe(
      '{"a":[]}',
    );
  });

  it("scans very large events without exhausting the regex stack", () => {
    const big = JSON.stringify({ eventId: "big", s: 'a\\"b'.repeat(500_000) });
    const wide = JSON.stringify(Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])));
    const body = `{"endCursor":"c","data":[${big},${wide}]}`;

    expect(parseStreamPage(body)?.events.map((e) => e.raw)).toEqual([big, wide]);
  });

  it("refuses what is not a page", () => {
    expect(parseStreamPage('{"endCursor":"c","data":[{"a":1}')).toBeUndefined(); // truncated
    expect(parseStreamPage('{"data":[{"a":1}]}')).toBeUndefined(); // no endCursor
    expect(parseStreamPage('{"endCursor":"c","data":[1]}')).toBeUndefined(); // not objects
    expect(parseStreamPage("[]")).toBeUndefined();
    expect(parseStreamPage("<html>")).toBeUndefined();
  });

  it("refuses every body JSON.parse refuses, though it parses the events one by one", () => {
    const notJson = [
      '{"endCursor":"c","data":[{"a":1},]}', // trailing comma in the array
      '{"endCursor":"c","data":[{"a":1} {"b":2}]}', // missing comma
      '{"endCursor":"c","data":[{"a":1},{"b":tru}]}', // a later event is not JSON
      '{"endCursor":"c","data":[{"a":[1}]}]}', // mismatched brackets
      '{"endCursor":"c","data":[{"a":1}]} x', // text after the body
      '{"endCursor":"c","data":[{"a":1}],}', // trailing comma in the object
      '{"endCursor":"c" "data":[{"a":1}]}', // missing comma between keys
      '{"endCursor":"c","data":[{"a":1}],"other":[1,2,}', // another field is not JSON
      '{"endCursor":"c","data":[{"a":1}],"resultData":null,"x":01}', // a leading zero
      '{"endCursor":"c","resultData":[{"a":1}],"data":[{"a":}]}', // the field not read is not JSON
      '{"endCursor":"c","data":[{"a":}],"data":[{"a":1}]}', // an earlier duplicate is not JSON
      '{"endCursor":"c","data":[{"a":"\\x"}]}', // a bad escape
      '{endCursor:"c","data":[]}', // an unquoted key
    ];
    for (const body of notJson) {
      expect(() => JSON.parse(body), body).toThrow();
      expect(parseStreamPage(body), body).toBeUndefined();
    }
  });

  it("reads the same events as JSON.parse from bodies with any whitespace between values", () => {
    const body =
      ' \t{ "x" : { "y" : [ 1 , -2.5e3 , true , null ] } ,\r\n"data" : [ {"eventId":"a"} ,\n{"eventId":"b","v":[]} ] , "endCursor" : "c" } \n';
    const page = parseStreamPage(body);

    expect(page?.events.map((e) => e.event)).toEqual(JSON.parse(body).data);
    expect(page?.events.map((e) => e.raw)).toEqual(['{"eventId":"a"}', '{"eventId":"b","v":[]}']);
  });
});

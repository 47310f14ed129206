/**
 * Crafted Monitor events (issue 18): an alert whose `userId` is `{"toString":0}`, an alert with a field
 * nested 100,000 arrays deep, and an alert whose user name and fields carry terminal escapes (clear
 * screen, cursor moves, colours, a window-title OSC, a newline that forges a report line). All are
 * valid JSON, so DocuSign's stream may carry them and the lake must store them as received.
 */
const DEPTH = 100_000;

export const HOSTILE_IDS = {
  toStringUser: "0bad0000-0000-4000-8000-000000000001",
  deep: "0bad0000-0000-4000-8000-000000000002",
  escapes: "0bad0000-0000-4000-8000-000000000003",
} as const;

/** The escapes planted in the third event's values. */
export const ESCAPES =
  "\u001b[2J\u001b[H\u001b[31mX\u001b]0;pwned\u0007\u009b1A\nFAKE  High   alert-credential-leak  9999 match(es)";

/** The three events as JSON texts, timed `at` (ISO-8601). */
export function hostileEventTexts(at: string): string[] {
  const alert = (id: string, fields: string): string =>
    `{"timestamp":"${at}","eventId":"${id}","site":"DEMO","accountId":"","object":"Alert","action":"CredentialLeakDetected","property":"","field":"","result":"","source":"Other","ipAddress":"203.0.113.9","ipAddressLocation":{"country":"US"},"data":{"EventIds":[],"Severity":"High"},${fields}}`;
  return [
    alert(HOSTILE_IDS.toStringUser, '"userId":{"toString":0}'),
    alert(HOSTILE_IDS.deep, `"userId":"u-deep","nested":${"[".repeat(DEPTH)}1${"]".repeat(DEPTH)}`),
    alert(HOSTILE_IDS.escapes, `"userId":${JSON.stringify(ESCAPES)},"eventTag":${JSON.stringify(ESCAPES)}`),
  ];
}

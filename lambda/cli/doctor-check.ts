import { ConfigError, describeError } from "../errors";

/** How one of `doctor`'s checks ended. */
export const CheckStatus = { Ok: "ok", Warn: "warn", Fail: "FAIL", Skip: "skip" } as const;
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus];

/** One line of `doctor`'s report. */
export interface CheckResult {
  /** `key`, `token`, `userinfo`, `state`, `stream`, `rate-limit`, `lake`. */
  readonly check: string;
  readonly status: CheckStatus;
  /** What was found, on one line. */
  readonly detail: string;
  /** For a failure (or a warning): what to do, in full (it may span lines, e.g. a consent URL). */
  readonly fix?: string;
}

export function ok(check: string, detail: string): CheckResult {
  return { check, status: CheckStatus.Ok, detail };
}

export function warn(check: string, detail: string, fix: string): CheckResult {
  return { check, status: CheckStatus.Warn, detail, fix };
}

export function skip(check: string, why: string): CheckResult {
  return { check, status: CheckStatus.Skip, detail: why };
}

/**
 * A failed check: its line is the error's first sentence (up to 200 characters), its fix the whole
 * message, which says what failed, why and what to do.
 */
export function fail(check: string, error: unknown, detail?: string): CheckResult {
  const message = describeError(error);
  // A configuration error's first line only counts its problems: the line shows the first problem.
  const first = error instanceof ConfigError ? (error.problems[0] ?? message) : message;
  return { check, status: CheckStatus.Fail, detail: detail ?? firstSentence(first), fix: message };
}

function firstSentence(message: string): string {
  const line = message.split("\n")[0] ?? "";
  const end = line.search(/\.(\s|$)/);
  const sentence = end < 0 ? line : line.slice(0, end + 1);
  return sentence.length > 200 ? `${sentence.slice(0, 200)}…` : sentence;
}

/** The report's line for a check: `ok   key: RSA 2048 PKCS#1 from ./key.pem`. */
export function checkLine(result: CheckResult): string {
  return `${result.status.padEnd(4)} ${result.check}: ${result.detail}`;
}

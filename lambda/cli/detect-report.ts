/**
 * What `npm start -- detect` reports (detect.ts reads the lake): the report's shape, the human lines
 * printed from it, and the event values made safe for a terminal before they are kept.
 */
import type { MatchFields } from "../detections/match";
import type { Severity } from "../detections/rules";
import { sanitizeUntrusted } from "../docusign/untrusted-text";

export interface RuleReport {
  readonly id: string;
  readonly title: string;
  readonly severity: Severity;
  readonly matches: number;
  readonly threshold: number;
  readonly periodMinutes: number;
  /** The newest matches, newest first; event values with control characters removed. */
  readonly newest: readonly MatchFields[];
}

export interface DetectReport {
  readonly out: string;
  readonly since: string;
  readonly files: number;
  /** Distinct events read since `since`. */
  readonly events: number;
  readonly duplicatesSkipped: number;
  /** Lines that are not JSON objects; they are reported, not matched. */
  readonly unreadableLines: number;
  /** Events the rules failed on (counted, skipped; the report goes on). */
  readonly detectionErrors: number;
  /** The first such failure, if any. */
  readonly firstDetectionError?: { readonly eventId: string; readonly message: string };
  /** Every active rule, High severity first, then most matches first. */
  readonly rules: readonly RuleReport[];
  /** Rules that did not run, and why. */
  readonly off: readonly { readonly id: string; readonly reason: string }[];
}

/** Event text made safe for a terminal: escape sequences removed, other controls (newlines too) a space. */
export function printable(text: string): string {
  return sanitizeUntrusted(text);
}

/** Each matched field made `printable`. */
export function printableFields(fields: MatchFields): MatchFields {
  return Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [k, printable(v)]),
  ) as unknown as MatchFields;
}

/** The human report. */
export function reportLines(r: DetectReport): string[] {
  const lines = [
    `Detections in ${r.out} since ${r.since}: ${r.events} events in ${r.files} file(s)` +
      (r.duplicatesSkipped > 0 ? `, ${r.duplicatesSkipped} repeated events counted once` : "") +
      (r.unreadableLines > 0 ? `, ${r.unreadableLines} lines that are not JSON events (skipped)` : ""),
  ];
  if (r.detectionErrors > 0)
    lines.push(
      `  ${r.detectionErrors} event(s) the rules failed on were skipped (first: event "${r.firstDetectionError?.eventId ?? ""}": ${r.firstDetectionError?.message ?? ""})`,
    );
  for (const rule of r.rules.filter((x) => x.matches > 0)) {
    lines.push(
      `  ${rule.severity.padEnd(6)} ${rule.id.padEnd(36)} ${String(rule.matches).padStart(6)} match(es)` +
        `  (alarm: ${rule.threshold} in ${rule.periodMinutes} min)`,
    );
    for (const e of rule.newest)
      lines.push(
        `           ${e.eventTime}  user ${e.userId || "-"}  ip ${e.ipAddress || "-"} ${e.country}  ${e.object}/${e.action}  ${e.eventId}`,
      );
  }
  const quiet = r.rules.filter((x) => x.matches === 0).map((x) => x.id);
  if (quiet.length > 0) lines.push(`  no matches: ${quiet.join(", ")}`);
  for (const o of r.off) lines.push(`  off: ${o.id} (${o.reason})`);
  return lines;
}

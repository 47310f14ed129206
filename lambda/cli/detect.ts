/**
 * `npm start -- detect`: the Lambda's detection rules over a local lake, matches grouped by rule
 * with counts and the newest examples. Reads `<out>/events/dt=YYYY-MM-DD/*.json.gz`, skipping days
 * before `--since` (never the untimed day 1970-01-01, whose events have no time), and counts each
 * `eventId` once.
 */
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { parseArgs, promisify } from "node:util";
import { gunzip } from "node:zlib";
import { parseEventTime, UNTIMED_DAY, utcDay } from "../core/event-time";
import { streamOfObjectName } from "../core/object-key";
import type { MonitorEvent } from "../core/ports";
import { createMatcher, type Match, type Matcher, type MatchFields, matchFields } from "../detections/match";
import {
  activeRules,
  checkDetectionSettings,
  DEFAULT_RULES,
  DETECTION_ENV,
  type DetectionSettings,
  Setting,
  type Severity,
} from "../detections/rules";
import { type DetectReport, printable, printableFields, reportLines } from "./detect-report";

const gunzipAsync = promisify(gunzip);
const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { High: 0, Medium: 1, Low: 2 };

export const DETECT_USAGE = `npm start -- detect [--out DIR] [--since 7d] [--stream ID] [--allowed-countries US,GB] [--disable RULE,...] [--examples N] [--json]

Runs the detection rules over the lake in DIR (default ./data): matches per rule, newest first.
  --since D                 7d, 24h, 30m, or an ISO date or date-time (default 7d)
  --allowed-countries L     [${DETECTION_ENV.allowedCountries}] turns on activity-outside-allowed-countries
  --disable L               [${DETECTION_ENV.disabledRules}] rule ids to skip
  --stream ID               only that stream's events (default: every stream of the lake)
  --examples N              newest matches shown per rule (default 3)
  --json                    the last stdout line is the report as JSON`;

export interface DetectOptions {
  readonly root: string;
  /** Events older than this (epoch ms) are skipped. */
  readonly sinceMs: number;
  readonly settings: DetectionSettings;
  /** Only this stream's objects. @default every stream */
  readonly stream?: string;
  /** Newest matches kept per rule. @default 3 */
  readonly examples?: number;
  /** The matcher to run. @default the active rules of `settings` */
  readonly matcher?: Matcher;
}

/** Runs the active rules over the lake. Throws ENOENT when `<root>/events` does not exist. */
export async function detectLake(options: DetectOptions): Promise<DetectReport> {
  const root = resolve(options.root);
  const keep = options.examples ?? 3;
  const rules = activeRules(options.settings);
  const matcher = options.matcher ?? createMatcher(rules, options.settings);
  const sinceDay = utcDay(options.sinceMs);
  const counts = new Map<string, number>(rules.map((r) => [r.id, 0]));
  const newest = new Map<string, { ms: number; fields: MatchFields }[]>();
  const seen = new Set<string>();
  let files = 0;
  let events = 0;
  let duplicates = 0;
  let unreadable = 0;
  let failures = 0;
  let firstFailure: { eventId: string; message: string } | undefined;

  const days = (await readdir(join(root, "events"), { withFileTypes: true }))
    // The untimed day too: its events have no time, so no --since can place them before it.
    .filter(
      (d) =>
        d.isDirectory() &&
        /^dt=\d{4}-\d{2}-\d{2}$/.test(d.name) &&
        (d.name.slice(3) >= sinceDay || d.name.slice(3) === UNTIMED_DAY),
    )
    .map((d) => d.name)
    .sort();
  for (const day of days) {
    const names = (await readdir(join(root, "events", day)))
      .filter((n) => n.endsWith(".json.gz"))
      .filter((n) => options.stream === undefined || streamOfObjectName(n) === options.stream)
      .sort();
    for (const name of names) {
      files++;
      const text = (await gunzipAsync(await readFile(join(root, "events", day, name)))).toString("utf8");
      for (const line of text.split("\n")) {
        if (line === "") continue;
        let event: MonitorEvent;
        try {
          event = JSON.parse(line) as MonitorEvent;
        } catch {
          unreadable++;
          continue;
        }
        if (typeof event !== "object" || event === null || Array.isArray(event)) {
          unreadable++;
          continue;
        }
        const ms = parseEventTime(event.timestamp);
        if (ms !== undefined && ms < options.sinceMs) continue;
        const id = event.eventId;
        if (typeof id === "string" && id !== "") {
          if (seen.has(id)) {
            duplicates++;
            continue;
          }
          seen.add(id);
        }
        events++;
        let matches: Match[];
        try {
          matches = matcher.match(event);
        } catch (error) {
          failures++;
          firstFailure ??= {
            eventId: printable(typeof id === "string" ? id : ""),
            message: printable(error instanceof Error ? error.message : "not an Error"),
          };
          continue;
        }
        for (const m of matches) {
          counts.set(m.rule.id, (counts.get(m.rule.id) ?? 0) + 1);
          const list = newest.get(m.rule.id) ?? [];
          const at = ms ?? 0;
          if (list.length < keep || at > (list[list.length - 1]?.ms ?? 0)) {
            list.push({ ms: at, fields: printableFields(matchFields(m)) });
            list.sort((a, b) => b.ms - a.ms);
            if (list.length > keep) list.pop();
            newest.set(m.rule.id, list);
          }
        }
      }
    }
  }
  const active = new Set(rules.map((r) => r.id));
  return {
    out: root,
    since: new Date(options.sinceMs).toISOString(),
    files,
    events,
    duplicatesSkipped: duplicates,
    unreadableLines: unreadable,
    detectionErrors: failures,
    ...(firstFailure === undefined ? {} : { firstDetectionError: firstFailure }),
    rules: rules
      .map((r) => ({
        id: r.id,
        title: r.title,
        severity: r.severity,
        matches: counts.get(r.id) ?? 0,
        threshold: r.threshold,
        periodMinutes: r.periodMinutes,
        newest: (newest.get(r.id) ?? []).map((n) => n.fields),
      }))
      .sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] || b.matches - a.matches),
    off: DEFAULT_RULES.filter((r) => !active.has(r.id)).map((r) => ({
      id: r.id,
      reason:
        r.requires === Setting.AllowedCountries && !(options.settings.disabledRules ?? []).includes(r.id)
          ? "needs --allowed-countries"
          : "disabled",
    })),
  };
}

/** `7d`, `24h`, `30m`, or an ISO date / date-time: the epoch ms it stands for, or undefined. */
export function parseSince(text: string, now: number): number | undefined {
  const m = /^(\d+)([dhm])$/.exec(text.trim());
  if (m) return now - Number(m[1]) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[m[2] as "d" | "h" | "m"];
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return Date.parse(`${text}T00:00:00Z`) || undefined;
  return parseEventTime(text);
}

/** The `detect` command; returns the exit code (0 done, 1 the lake could not be read, 2 bad usage). */
export async function runDetectCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  io: { readonly stdout: (line: string) => void; readonly stderr: (line: string) => void },
  now: number = Date.now(),
): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options: {
        out: { type: "string" },
        since: { type: "string" },
        "allowed-countries": { type: "string" },
        disable: { type: "string" },
        stream: { type: "string" },
        examples: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (error) {
    const flag = /'(-[^' ]+)/.exec((error as Error).message)?.[1];
    const problem =
      (error as NodeJS.ErrnoException).code === "ERR_PARSE_ARGS_UNKNOWN_OPTION"
        ? `unknown option ${flag} for detect`
        : (error as Error).message;
    io.stderr(`monitor-lake detect: ${problem}. See: npm start -- detect --help`);
    return 2;
  }
  if (values.help) {
    io.stdout(DETECT_USAGE);
    return 0;
  }
  const problems: string[] = [];
  const sinceText = typeof values.since === "string" ? values.since : "7d";
  const sinceMs = parseSince(sinceText, now);
  if (sinceMs === undefined)
    problems.push(`--since "${sinceText}": use 7d, 24h, 30m or an ISO date such as 2026-01-31`);
  const examplesText = typeof values.examples === "string" ? values.examples : "3";
  const examples = Number(examplesText);
  if (!(Number.isInteger(examples) && examples >= 0))
    problems.push(`--examples "${examplesText}": use a whole number`);
  const { settings, problems: settingProblems } = checkDetectionSettings(
    {
      allowedCountries:
        (values["allowed-countries"] as string | undefined) ?? env[DETECTION_ENV.allowedCountries],
      disabledRules: (values.disable as string | undefined) ?? env[DETECTION_ENV.disabledRules],
    },
    { allowedCountries: "--allowed-countries", disabledRules: "--disable" },
  );
  problems.push(...settingProblems);
  if (problems.length > 0 || sinceMs === undefined) {
    for (const p of problems) io.stderr(`monitor-lake detect: ${p}`);
    return 2;
  }
  const out = typeof values.out === "string" ? values.out : "./data";
  let report: DetectReport;
  try {
    const stream = typeof values.stream === "string" ? values.stream : undefined;
    report = await detectLake({
      root: out,
      sinceMs,
      settings,
      examples,
      ...(stream === undefined ? {} : { stream }),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException | undefined)?.code;
    // A --out without a lake is a usage error (2); a lake that cannot be read is a failure (1).
    if (code === "ENOENT" && (error as NodeJS.ErrnoException).path === join(resolve(out), "events")) {
      io.stderr(
        `monitor-lake detect: no lake in ${resolve(out)} (no events/ directory). Ingest first (npm start, or npm start -- run --out ${out}), or pass --out DIR.`,
      );
      return 2;
    }
    const message = printable(error instanceof Error ? error.message : "a value that is not an Error");
    io.stderr(
      typeof code === "string"
        ? `monitor-lake detect: cannot read the lake in ${resolve(out)}: ${message}`
        : `monitor-lake detect: detect itself failed (not the lake in ${resolve(out)}): ${message}`,
    );
    return 1;
  }
  if (values.json) io.stdout(JSON.stringify(report));
  else for (const line of reportLines(report)) io.stdout(line);
  return 0;
}

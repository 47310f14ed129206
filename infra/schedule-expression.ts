/**
 * EventBridge Scheduler expressions as a stream's `schedule` accepts them: `rate(<n> minute|minutes|hour|
 * hours|day|days)` and `cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)`, in UTC
 * (https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html). Checked at synth, so that
 * a typo fails `cdk synth` instead of the deploy; the longest gap between two runs sizes the alarms.
 */

/** The longest gap between runs a stream may have: its alarms watch a few runs in CloudWatch's window. */
export const MAX_RUN_GAP_SECONDS = 24 * 3600;

export type ParsedSchedule =
  | { readonly ok: true; readonly gapSeconds: number; readonly runsPerDay: number }
  | { readonly ok: false; readonly problem: string };

const RATE_UNITS: Readonly<Record<string, number>> = { minute: 60, hour: 3600, day: 86400 };

/** Parses `expression`; `gapSeconds` is the longest time between two consecutive runs. */
export function parseSchedule(expression: string): ParsedSchedule {
  const text = expression.trim();
  const rate = /^rate\((.*)\)$/.exec(text);
  if (rate) return parseRate(rate[1] ?? "");
  const cron = /^cron\((.*)\)$/.exec(text);
  if (cron) return parseCron(cron[1] ?? "");
  if (/^at\(/.test(text))
    return fail("is a one-time at() schedule: a stream needs a recurring rate() or cron() schedule");
  return fail(
    'is not an EventBridge Scheduler expression: use e.g. "rate(5 minutes)" or "cron(0/15 * * * ? *)"',
  );
}

/** The longest gap of a schedule that `parseSchedule` accepted (validateProps checked it first). */
export function runGapSeconds(expression: string): number {
  const parsed = parseSchedule(expression);
  if (!parsed.ok) throw new Error(`schedule "${expression}" ${parsed.problem}`);
  return parsed.gapSeconds;
}

function fail(problem: string): ParsedSchedule {
  return { ok: false, problem };
}

function checkGap(gapSeconds: number, runsPerDay = 86400 / gapSeconds): ParsedSchedule {
  return gapSeconds > MAX_RUN_GAP_SECONDS
    ? fail(
        `runs up to ${Number.isFinite(gapSeconds) ? `${Math.round(gapSeconds / 3600)} hours` : "forever"} apart: ` +
          "a stream runs at least once a day, so that its stall alarm (three missed runs) pages within days",
      )
    : { ok: true, gapSeconds, runsPerDay };
}

function parseRate(body: string): ParsedSchedule {
  const m = /^\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*$/.exec(body);
  if (!m)
    return fail(
      'has a malformed rate(): use "rate(<whole number> minutes|hours|days)", e.g. "rate(5 minutes)"',
    );
  const value = Number(m[1]);
  const unit = m[2] as string;
  if (value < 1) return fail("has a rate() of 0: use 1 or more");
  // EventBridge: a value of 1 takes the singular unit, any other the plural.
  if ((value === 1) !== !unit.endsWith("s"))
    return fail(
      `has "${value} ${unit}": write "rate(${value} ${value === 1 ? unit.replace(/s$/, "") : `${unit}s`})"`,
    );
  return checkGap(value * (RATE_UNITS[unit.replace(/s$/, "")] as number));
}

interface CronField {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
  /** Characters beyond `, - * /` this field allows. */
  readonly extra: string;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"] as const;
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"] as const;
const CRON_FIELDS: readonly CronField[] = [
  { name: "minutes", min: 0, max: 59, extra: "" },
  { name: "hours", min: 0, max: 23, extra: "" },
  { name: "day-of-month", min: 1, max: 31, extra: "?LW" },
  { name: "month", min: 1, max: 12, names: MONTHS, extra: "" },
  { name: "day-of-week", min: 1, max: 7, names: DAYS, extra: "?L#" },
  { name: "year", min: 1970, max: 2199, extra: "" },
];

function parseCron(body: string): ParsedSchedule {
  const parts = body.trim().split(/\s+/);
  if (parts.length !== 6)
    return fail(
      `has a cron() with ${parts.length} fields: it needs 6 (minutes hours day-of-month month day-of-week year), e.g. "cron(0/15 * * * ? *)"`,
    );
  const [dom, dow] = [parts[2] as string, parts[4] as string];
  if ((dom === "?") === (dow === "?"))
    return fail("has a cron() where exactly one of day-of-month and day-of-week must be ?");
  const sets: Array<Set<number> | undefined> = [];
  for (const [i, field] of CRON_FIELDS.entries()) {
    const value = (parts[i] as string).toUpperCase();
    if (value === "?") {
      sets.push(undefined);
      continue;
    }
    // L, W and # pick days of a month (the last, a weekday, the n-th): runs weeks apart.
    if (/[LW#]/.test(value) && field.extra.length > 0) {
      if (!new RegExp(`^[0-9A-Z,\\-*/${field.extra}]+$`).test(value))
        return fail(`has an invalid cron() ${field.name} field "${parts[i]}"`);
      return checkGap(7 * 86400);
    }
    const set = expandField(value, field);
    if (set === undefined) return fail(`has an invalid cron() ${field.name} field "${parts[i]}"`);
    sets.push(set);
  }
  const { gap, runs } = cronRuns(sets);
  return checkGap(gap, runs / CRON_DAYS);
}

/** The values of one field (`*`, `a`, `a-b`, `a/n`, `a-b/n`, `*\/n`, lists of these), or undefined. */
function expandField(value: string, field: CronField): Set<number> | undefined {
  const number = (token: string): number | undefined => {
    const named = field.names?.indexOf(token) ?? -1;
    if (named >= 0) return named + field.min;
    if (!/^\d+$/.test(token)) return undefined;
    const n = Number(token);
    return n >= field.min && n <= field.max ? n : undefined;
  };
  const out = new Set<number>();
  for (const item of value.split(",")) {
    const m = /^([^/]+)(?:\/(\d+))?$/.exec(item);
    if (!m) return undefined;
    const [range, stepText] = [m[1] as string, m[2]];
    const step = stepText === undefined ? 1 : Number(stepText);
    if (step < 1) return undefined;
    let from: number | undefined;
    let to: number | undefined;
    if (range === "*") [from, to] = [field.min, field.max];
    else if (range.includes("-")) [from, to] = range.split("-").map(number) as [number?, number?];
    else [from, to] = [number(range), stepText === undefined ? number(range) : field.max];
    if (from === undefined || to === undefined || from > to) return undefined;
    for (let v = from; v <= to; v += step) out.add(v);
  }
  return out;
}

const CRON_DAYS = 400;

/** The longest gap (s) and the runs over 400 days from 2026-01-01 (UTC), ignoring the year field. */
function cronRuns(sets: ReadonlyArray<Set<number> | undefined>): { gap: number; runs: number } {
  const [minutes, hours, dom, months, dow] = sets;
  const times = [...(hours ?? [])]
    .flatMap((h) => [...(minutes ?? [])].map((m) => h * 60 + m))
    .sort((a, b) => a - b);
  const start = Date.UTC(2026, 0, 1);
  let last: number | undefined;
  let gap = 0;
  let runs = 0;
  for (let day = 0; day < CRON_DAYS; day++) {
    const date = new Date(start + day * 86400_000);
    if (!months?.has(date.getUTCMonth() + 1)) continue;
    if (dom && !dom.has(date.getUTCDate())) continue;
    if (dow && !dow.has(date.getUTCDay() + 1)) continue;
    for (const t of times) {
      const at = day * 1440 + t;
      if (last !== undefined) gap = Math.max(gap, at - last);
      last = at;
      runs++;
    }
  }
  return { gap: last === undefined ? Number.POSITIVE_INFINITY : Math.max(gap, 1) * 60, runs };
}

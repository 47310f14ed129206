/**
 * Detections for a local ingest run (`npm start -- run`, the demo): the same chunk observer as the
 * Lambda's, counting the matches of committed chunks per rule for the run summary instead of writing metrics.
 */
import type { ChunkObserver } from "../core/ports";
import { ConfigError } from "../errors";
import { createMatcher } from "./match";
import { createDetectionObserver, type DetectionFailure } from "./observer";
import { activeRules, checkDetectionSettings, DETECTION_ENV, type DetectionSettings } from "./rules";

export interface RunDetections {
  /** The run's chunk observer (IngestPorts.observer). */
  readonly observer: ChunkObserver;
  /** Matches per active rule id among the committed events (zero included), in rule-pack order. */
  counts(): Record<string, number>;
  /** Events that could not be matched (or batches not counted); the events themselves are stored. */
  errors(): number;
}

export function createRunDetections(
  settings: DetectionSettings = {},
  onError?: (failure: DetectionFailure) => void,
): RunDetections {
  const rules = activeRules(settings);
  const counts: Record<string, number> = Object.fromEntries(rules.map((r) => [r.id, 0]));
  let errors = 0;
  const observer = createDetectionObserver({
    matcher: createMatcher(rules, settings),
    onCommitted: (matches) => {
      for (const m of matches) counts[m.rule.id] = (counts[m.rule.id] ?? 0) + 1;
    },
    onError: (failure) => {
      errors++;
      onError?.(failure);
    },
  });
  return { observer, counts: () => ({ ...counts }), errors: () => errors };
}

/** Settings from `DETECTION_ALLOWED_COUNTRIES` and `DETECTION_DISABLED_RULES`; a ConfigError lists bad values. */
export function detectionSettingsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): DetectionSettings {
  const { settings, problems } = checkDetectionSettings({
    allowedCountries: env[DETECTION_ENV.allowedCountries],
    disabledRules: env[DETECTION_ENV.disabledRules],
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return settings;
}

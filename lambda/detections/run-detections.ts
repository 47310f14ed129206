/**
 * Detections for a local ingest run (`npm start -- run`, the demo): the same decorator as the
 * Lambda's, counting matches per rule for the run summary instead of writing metrics.
 */
import type { EventSource } from "../core/ports";
import { ConfigError } from "../errors";
import { createDetector, detectingSource } from "./match";
import { activeRules, checkDetectionSettings, DETECTION_ENV, type DetectionSettings } from "./rules";

export interface RunDetections {
  wrap(source: EventSource): EventSource;
  /** Matches per active rule id (zero included), in rule-pack order. */
  counts(): Record<string, number>;
}

export function createRunDetections(settings: DetectionSettings = {}): RunDetections {
  const rules = activeRules(settings);
  const counts: Record<string, number> = Object.fromEntries(rules.map((r) => [r.id, 0]));
  const detector = createDetector(rules, settings);
  return {
    wrap: (source) =>
      detectingSource(source, detector, (matches) => {
        for (const m of matches) counts[m.rule.id] = (counts[m.rule.id] ?? 0) + 1;
      }),
    counts: () => ({ ...counts }),
  };
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

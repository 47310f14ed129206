/**
 * Every `-c` context key the CDK app reads. Any other key fails the synth naming the nearest of these, so
 * that a misspelt `-c alarmemail=...` is not silently ignored (zero subscriptions). Keys holding ":" are
 * CDK's own (feature flags, `aws:cdk:*`, lookups) and pass. A new context key is added here.
 */
export const CONTEXT_KEYS = [
  "integrationKey",
  "userId",
  "organizationId",
  "streamApi",
  "streamId",
  "streams",
  "environment",
  "schedule",
  "alarmEmail",
  "summaryAlarms",
  "keySecretName",
  "redirectUri",
  "retentionDays",
  "objectLock",
  "encryptionKey",
  "stackName",
  // infra/projection-start.ts, infra/analysts-policy.ts, infra/curation.ts
  "projectionStart",
  "analystLakeFormationPrincipals",
  "curationPeriodMinutes",
  // infra/detection-alarms.ts, detectionOptionsFromContext
  "detections",
  "detectionRules",
  "detectionsOff",
  "allowedCountries",
  "detectionLookbackMinutes",
  "detectionAlarms",
  // infra/security-lake.ts: true, or a JSON object of its options
  "securityLake",
] as const;

/** Keys the CDK CLI itself writes into cdk.json's context. */
const CDK_OWN_KEYS = new Set(["acknowledged-issue-numbers"]);

/** One problem per unknown key, naming the nearest known key when one is close. */
export function unknownContextKeys(
  keys: readonly string[],
  known: readonly string[] = CONTEXT_KEYS,
): string[] {
  return keys
    .filter((k) => !k.includes(":") && !CDK_OWN_KEYS.has(k) && !known.includes(k))
    .map((k) => {
      const near = nearest(k, known);
      return near === undefined
        ? `-c ${k} is not a monitor-lake setting: the settings are ${known.join(", ")}.`
        : `-c ${k} is not a monitor-lake setting: did you mean -c ${near}?`;
    });
}

/** The known key closest to `key` (case-insensitive edit distance), if within a third of its length. */
function nearest(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const k of known) {
    const distance = editDistance(key.toLowerCase(), k.toLowerCase());
    if (best === undefined || distance < best.distance) best = { key: k, distance };
  }
  return best !== undefined && best.distance <= Math.max(1, Math.floor(key.length / 3))
    ? best.key
    : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
}

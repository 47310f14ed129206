import { ConfigError, describeError, ErrorCode, MonitorLakeError } from "../errors";

/** Bad usage (an unknown command, a flag's value out of range): exit code 2, with a pointer to --help. */
export class UsageError extends Error {}

/** A held lease, with how to take over the local state file: exit code 1. */
export class LeaseHeldHint extends Error {}

/**
 * Reports what stopped a command and gives its exit code: 2 for bad usage or configuration (a key
 * that cannot be used is configuration too: nothing was tried against DocuSign), 1 for a failure.
 */
export function exitCodeFor(error: unknown, stderr: (line: string) => void): number {
  if (error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS")) {
    stderr(`monitor-lake: ${describeError(error)}. See: npm start -- --help`);
    return 2;
  }
  if (
    error instanceof ConfigError ||
    (error instanceof MonitorLakeError && error.code === ErrorCode.KeyInvalid)
  ) {
    stderr(`monitor-lake: ${error.message}`);
    return 2;
  }
  if (error instanceof LeaseHeldHint || error instanceof MonitorLakeError) {
    stderr(`monitor-lake: ${error.message}`);
    return 1;
  }
  stderr(`monitor-lake: unexpected error: ${describeError(error)}`);
  return 1;
}

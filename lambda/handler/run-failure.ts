import type { Logger } from "@aws-lambda-powertools/logger";
import { type Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { describeError, ErrorCode, LeaseHeldError, MonitorLakeError } from "../errors";

/** The answer of an invocation that found another run holding the stream's lease: not a failure. */
export interface LeaseHeldResult {
  readonly stream: string;
  readonly leaseHeld: true;
  readonly holder?: string;
  readonly message: string;
}

/**
 * Maps what stopped a run to the invocation's outcome: a held lease is answered (LeaseHeld metric),
 * anything else is logged with its code and thrown again (AuthFailures counts DocuSign's refusals).
 */
export function mapRunFailure(
  error: unknown,
  stream: string,
  io: { readonly logger: Logger; readonly metrics: Metrics },
): LeaseHeldResult {
  const { logger, metrics } = io;
  if (error instanceof LeaseHeldError) {
    metrics.addMetric("LeaseHeld", MetricUnit.Count, 1);
    logger.info("lease held by another run", { holder: error.holder, leaseUntil: error.expiresAt });
    return {
      stream,
      leaseHeld: true,
      ...(error.holder === undefined ? {} : { holder: error.holder }),
      message: error.message,
    };
  }
  const code = error instanceof MonitorLakeError ? error.code : "UNEXPECTED";
  if (code === ErrorCode.AuthFailed || code === ErrorCode.ConsentRequired) {
    metrics.addMetric("AuthFailures", MetricUnit.Count, 1);
  }
  logger.error("run failed", { code, error: describeError(error) });
  throw error;
}

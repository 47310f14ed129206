import { randomUUID } from "node:crypto";
import type { LambdaContextLike } from "../../lambda/handler/handler";

/** A Lambda context whose remaining time runs out `ms` from now, by the wall clock. */
export function lambdaContext(ms: number): LambdaContextLike {
  const end = Date.now() + ms;
  return { awsRequestId: randomUUID(), getRemainingTimeInMillis: () => end - Date.now() };
}

import { ConfigError } from "../errors";

/**
 * What EventBridge Scheduler sends: a stream id and nothing else. Everything that decides whom the
 * function impersonates (organization, user, integration key, key secret, environment, start) is in
 * the deployment's stream table (`STREAMS`), so being allowed to invoke the function is not being
 * allowed to choose the user; any other field is refused.
 */
export interface InvocationPayload {
  /** One of the stream table's ids. @default STREAM_ID, else the table's first */
  readonly stream?: string;
  /**
   * An operator's invoke (never the schedule's): rebuild the stream's state item from its objects in S3
   * instead of ingesting (see `recoverStream`), for a state that is corrupt (STATE_INVALID) or lost. It
   * chooses nothing: the cursor is the one the lake proves, the key and user are not touched.
   * @default false
   */
  readonly recover?: boolean;
  /** With `recover`: replace a state item that is valid too. @default false */
  readonly force?: boolean;
}

/** The payload's fields. */
const PAYLOAD_FIELDS: readonly (keyof InvocationPayload)[] = ["stream", "recover", "force"];

/** The invocation's payload, checked: a JSON object with at most a string `stream` and the booleans `recover`, `force`. */
export function parseInvocationPayload(event: unknown): InvocationPayload {
  if (event !== undefined && event !== null && (typeof event !== "object" || Array.isArray(event))) {
    throw new ConfigError([
      `the invocation payload is ${Array.isArray(event) ? "an array" : typeof event}: send a JSON object such as {"stream": "<id>"}.`,
    ]);
  }
  const payload = (event ?? {}) as Record<string, unknown>;
  const refused = Object.keys(payload).filter((f) => !(PAYLOAD_FIELDS as readonly string[]).includes(f));
  if (refused.length > 0) {
    throw new ConfigError([
      `the invocation payload has ${refused.map((f) => `"${f}"`).join(", ")}, which is refused: it may name a ` +
        `stream ({"stream": "<id>"}) and nothing else, but for an operator's rebuild of its state ({"stream": "<id>", ` +
        `"recover": true}, "force": true to replace a valid one). A stream's organization, user, integration key, key ` +
        "secret, environment and start are set in the deployment's stream table (the construct's streams, " +
        "-c streams), so that whoever may invoke the function cannot choose whom it impersonates. Remove " +
        "the field, or change the stream's settings and deploy.",
    ]);
  }
  if (payload.stream !== undefined && typeof payload.stream !== "string") {
    throw new ConfigError(['the payload field "stream" must be a string: a stream id of the deployment.']);
  }
  for (const flag of ["recover", "force"] as const) {
    if (payload[flag] !== undefined && typeof payload[flag] !== "boolean") {
      throw new ConfigError([`the payload field "${flag}" must be true or false.`]);
    }
  }
  if (payload.force === true && payload.recover !== true) {
    throw new ConfigError([
      'the payload field "force" applies to a recovery only: send it with "recover": true.',
    ]);
  }
  return {
    ...(payload.stream === undefined ? {} : { stream: payload.stream as string }),
    ...(payload.recover === true ? { recover: true } : {}),
    ...(payload.force === true ? { force: true } : {}),
  };
}

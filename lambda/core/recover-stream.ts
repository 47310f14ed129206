import { RecoveryRefusedError } from "../errors";
import { RECENT_EVENTS } from "./ingest-steps";
import type { Clock, LakeReader, ObjectSink, StateRecovery, StoredStateKind } from "./ports";
import { type FoundChunk, groupChunks, planRecovery, type RecoveryPlan } from "./recovery-plan";
import { settleAll } from "./settle-all";

/** What `recover` found and wrote: printed by the CLI (`--json`), returned by the Lambda. */
export interface RecoverySummary {
  readonly stream: string;
  readonly recovered: true;
  /**
   * What the stored state was before: `missing`, `empty` (valid, nothing committed), `valid` (replaced
   * with force) or `invalid`.
   */
  readonly previousState: StoredStateKind;
  /** Chunks of the stream with events in the lake, objects and the events they record. */
  readonly chunks: number;
  readonly objects: number;
  readonly events: number;
  /** Chunks proven complete, proven incomplete (never committed) and written before objects counted their chunk. */
  readonly completeChunks: number;
  readonly incompleteChunks: number;
  readonly unprovenChunks: number;
  /** The cursor the next run resumes from; absent: the lake holds nothing of the stream, it starts at its start. */
  readonly cursor?: string;
  /** The chunk (`<stream>-<chunk>`) whose end or start that cursor is. */
  readonly resumeChunk?: string;
  /** Objects of never-committed attempts fenced: their events are read again from the cursor. */
  readonly fenced: number;
  /**
   * Events seeded into the id window (the `eventHash` of their stored lines, with or without an
   * `eventId`), so that what is read again is dropped, not stored twice.
   */
  readonly recentEventIds: number;
  /** True when the cursor is before events already in the lake (they are read again; see recentEventIds). */
  readonly rereads: boolean;
  /** Chains that end apart (a state restored or reset before); above 1, the newest written is followed. */
  readonly branches: number;
}

export interface RecoverPorts {
  readonly lake: LakeReader;
  /** Fences the objects of attempts that never committed. */
  readonly sink: ObjectSink;
  readonly state: StateRecovery;
  readonly clock: Clock;
}

export interface RecoverOptions {
  readonly stream: string;
  /** Replace a state that is valid too (it is refused otherwise). @default false */
  readonly force?: boolean;
}

/** Objects read at once (metadata, ids). */
const BATCH = 16;

/**
 * Rebuilds a stream's state from the lake's objects (see `planRecovery`): holds the stream against runs,
 * refuses a valid state unless forced, fences the objects of attempts that never committed from the
 * resume cursor on, seeds the id window with the text hashes of the chunks before it (a run's window of them) and of any chunk read again,
 * and writes a state of the current schema at that cursor. Nothing is ever skipped: what recovery cannot prove
 * stored is read again, and what is read again is dropped by the id window, else by `events_dedup`.
 */
export async function recoverStream(ports: RecoverPorts, options: RecoverOptions): Promise<RecoverySummary> {
  const { stream } = options;
  const session = await ports.state.begin(stream, ports.clock.now());
  try {
    if (session.stored === "valid" && options.force !== true) {
      throw new RecoveryRefusedError(
        `The state of stream "${stream}" is valid, so recover left it as it is: it would replace the committed ` +
          "cursor by one rebuilt from the lake. To replace it all the same (a state restored from a backup that " +
          'is behind the lake, say), run recover again with --force (Lambda payload "force": true).',
      );
    }
    const chunks = await readChunks(ports.lake, stream);
    const plan = planRecovery(chunks, RECENT_EVENTS);
    if (plan.resumeCursor === undefined && plan.chunks > plan.unplaced) {
      throw new RecoveryRefusedError(
        `Stream "${stream}" has ${plan.chunks} chunks in the lake, but no cursor recorded in full to resume from ` +
          "(each too long for S3 metadata, which keeps only its hash); nothing was changed. Restore the state " +
          "from a backup or point-in-time recovery.",
      );
    }
    for (let i = 0; i < plan.fence.length; i += BATCH) {
      await settleAll(plan.fence.slice(i, i + BATCH).map((key) => ports.sink.fence(key)));
    }
    const recentEventHashes = await idWindow(ports.lake, plan);
    await session.write({
      ...(plan.resumeCursor === undefined ? {} : { cursor: plan.resumeCursor }),
      totalEvents: plan.events,
      recentEventHashes,
    });
    return summaryOf(stream, session.stored, plan, recentEventHashes.length);
  } finally {
    await session.end();
  }
}

async function readChunks(lake: LakeReader, stream: string): Promise<FoundChunk[]> {
  const groups = [...groupChunks(await lake.list(stream))];
  const keys = groups.flatMap(([, k]) => k);
  const metadata = new Map<string, Awaited<ReturnType<LakeReader["metadata"]>>>();
  for (let i = 0; i < keys.length; i += BATCH) {
    const batch = keys.slice(i, i + BATCH);
    const read = await Promise.all(batch.map((key) => lake.metadata(key)));
    for (const [j, key] of batch.entries()) metadata.set(key, read[j]);
  }
  return groups.map(([id, k]) => {
    const recorded = k.map((key) => metadata.get(key)).filter((m) => m !== undefined && m.stream === stream);
    const first = recorded[0];
    return {
      id,
      keys: k,
      ...(first === undefined ? {} : { metadata: first }),
      events: recorded.reduce((n, m) => n + (m?.eventCount ?? 0), 0),
    };
  });
}

/**
 * The `eventHash` of the id sources' last stored lines, oldest first, each once, at most a run's
 * `RECENT_EVENTS`: the lake's lines are the chunks' stored lines, hashed the same way.
 */
async function idWindow(lake: LakeReader, plan: RecoveryPlan): Promise<string[]> {
  const hashes: string[] = [];
  for (let i = 0; i < plan.idSources.length; i += BATCH) {
    const read = await Promise.all(plan.idSources.slice(i, i + BATCH).map((key) => lake.eventHashes(key)));
    for (const list of read) hashes.push(...list);
  }
  const kept: string[] = [];
  const seen = new Set<string>();
  for (let i = hashes.length - 1; i >= 0 && kept.length < RECENT_EVENTS; i--) {
    const hash = hashes[i] as string;
    if (seen.has(hash)) continue;
    seen.add(hash);
    kept.push(hash);
  }
  return kept.reverse();
}

function summaryOf(
  stream: string,
  previousState: StoredStateKind,
  plan: RecoveryPlan,
  recentEventIds: number,
): RecoverySummary {
  return {
    stream,
    recovered: true,
    previousState,
    chunks: plan.chunks,
    objects: plan.objects,
    events: plan.events,
    completeChunks: plan.proofs.complete,
    incompleteChunks: plan.proofs.incomplete,
    unprovenChunks: plan.proofs.unproven,
    ...(plan.resumeCursor === undefined ? {} : { cursor: plan.resumeCursor }),
    ...(plan.resumeChunk === undefined ? {} : { resumeChunk: plan.resumeChunk }),
    fenced: plan.fence.length,
    recentEventIds,
    rereads: plan.rereads,
    branches: plan.branches,
  };
}

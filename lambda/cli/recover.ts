import { stat } from "node:fs/promises";
import { join } from "node:path";
import { ENV } from "../config";
import { STREAM_ID_PATTERN } from "../core/object-key";
import { type RecoverySummary, recoverStream } from "../core/recover-stream";
import { STATE_SCHEMA } from "../core/state-validation";
import { ConfigError } from "../errors";
import { createDirectoryLakeReader } from "../local/directory-lake-reader";
import { createDirectorySink } from "../local/directory-sink";
import { createFileStateRecovery } from "../local/file-state-recovery";

export interface RecoverCommandOptions {
  /** The settings (environment, stream table entry, flags): only the stream id is read. */
  readonly settings: Record<string, string | undefined>;
  /** The lake's root, checked. */
  readonly out: string;
  readonly force: boolean;
  readonly json: boolean;
  readonly stdout: (line: string) => void;
}

/**
 * `recover`: rebuilds a stream's state file from the lake's objects (`recoverStream`), for a state file
 * that is corrupt or lost. Refuses while a run holds the stream and, without --force, a valid state.
 */
export async function recoverCommand(options: RecoverCommandOptions): Promise<number> {
  const { out, stdout } = options;
  const stream = options.settings[ENV.stream]?.trim() || "default";
  if (!STREAM_ID_PATTERN.test(stream)) {
    throw new ConfigError([
      `--stream "${stream}" is not a stream id: letters, digits, "_", "." and "-", at most 64, as run uses.`,
    ]);
  }
  const present = await Promise.all(
    ["events", "state"].map((d) =>
      stat(join(out, d)).then(
        () => true,
        () => false,
      ),
    ),
  );
  if (!present.some(Boolean)) {
    throw new ConfigError([
      `--out "${out}" holds no lake (no events/ or state/ in it): name the directory the runs write to (default ./data).`,
    ]);
  }
  const summary = await recoverStream(
    {
      lake: createDirectoryLakeReader({ root: out }),
      sink: createDirectorySink({ root: out }),
      state: createFileStateRecovery({ root: out }),
      clock: { now: () => Date.now() },
    },
    { stream, force: options.force },
  );
  for (const line of recoverLines(summary, join(out, "state", `${stream}.json`))) stdout(line);
  if (options.json) stdout(JSON.stringify(summary));
  return 0;
}

/** What recovery found and did, for people (the CLI's lines; the Lambda logs the summary). */
export function recoverLines(s: RecoverySummary, where: string): string[] {
  const lines = [
    `Stream "${s.stream}": ${s.chunks} chunks in the lake (${s.objects} objects, ${s.events} events recorded): ` +
      `${s.completeChunks} proven complete, ${s.incompleteChunks} never committed, ${s.unprovenChunks} written before objects counted their chunk.`,
  ];
  if (s.fenced > 0) {
    lines.push(`Fenced ${s.fenced} objects of attempts that never committed: their events are read again.`);
  }
  lines.push(
    s.cursor === undefined
      ? "No chunk to resume after: the next run starts at the stream's start (--start, else seven days back)."
      : `Resumes at cursor ${JSON.stringify(s.cursor)} (chunk ${s.resumeChunk ?? "?"}).`,
  );
  if (s.rereads) {
    lines.push(
      "Some events already in the lake are read again (a chunk not proven complete, or a cursor stored only as a hash): " +
        "the id window drops those with a remembered id, events_dedup the rest.",
    );
  }
  if (s.branches > 1) {
    lines.push(
      `The lake holds ${s.branches} chains that end apart (a state reset or restored before): the newest written is followed.`,
    );
  }
  lines.push(
    `${where} rebuilt (schema ${STATE_SCHEMA}; the previous state was ${s.previousState}), with ${s.recentEventIds} event ids remembered. ` +
      "Run ingestion again (npm start -- run ...): it resumes there, and nothing is lost.",
  );
  return lines;
}

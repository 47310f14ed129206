import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { createDirectoryLakeReader } from "../../lambda/local/directory-lake-reader";
import { createDirectorySink } from "../../lambda/local/directory-sink";
import { BACKFILL, describeLakeReader } from "../helpers/lake-reader-contract";

let dir: string;
let lakes = 0;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-directory-reader-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describeLakeReader(
  "directory lake reader",
  async () => {
    const root = join(dir, `lake-${++lakes}`);
    return {
      sink: createDirectorySink({ root }),
      reader: createDirectoryLakeReader({ root }),
      async writeRaw(key, body) {
        await mkdir(dirname(join(root, key)), { recursive: true });
        await writeFile(join(root, key), body);
      },
      async unlistable() {
        await mkdir(root, { recursive: true });
        await writeFile(join(root, "events"), "a file where the lake's folder should be");
        return createDirectoryLakeReader({ root });
      },
    };
  },
  {
    object: (key, purpose) => [
      `Could not read ${join(dir, `lake-${lakes}`, key)}: `,
      purpose === "recover"
        ? "Check that --out names the lake and is readable."
        : `${BACKFILL} Check the file (a gzip of NDJSON) and its permissions.`,
    ],
    listing: (day) => {
      const events = join(dir, `lake-${lakes}`, "events");
      return day === undefined
        ? [`Could not read ${events}: `, "ENOTDIR", "Check that --out names the lake and is readable."]
        : [`Could not read ${join(events, `dt=${day}`)}: `, "ENOTDIR", BACKFILL];
    },
  },
);

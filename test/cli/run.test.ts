import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { rawLinesOf } from "../../dev/fakes";
import { runLocalIngest } from "../../lambda/cli/run";
import { parseConfig } from "../../lambda/config";
import { type SimulatorFixture, startSimulator } from "../helpers/simulator-fixture";

let dir: string;
let fixture: SimulatorFixture | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "monitor-lake-local-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});
afterEach(async () => {
  await fixture?.simulator.stop();
  fixture = undefined;
});

async function run(f: SimulatorFixture, out: string) {
  const keyFile = join(dir, "key.pem");
  await writeFile(keyFile, f.keys.pkcs1Pem, { mode: 0o600 });
  const config = parseConfig(
    {
      DOCUSIGN_OAUTH_URL: f.url,
      DOCUSIGN_MONITOR_URL: f.url,
      DOCUSIGN_INTEGRATION_KEY: f.integrationKey,
      DOCUSIGN_USER_ID: f.userId,
      DOCUSIGN_PRIVATE_KEY_FILE: keyFile,
      START_CURSOR: "2000-01-01T00:00:00Z",
    },
    "local",
  );
  return runLocalIngest({ config, out });
}

async function lakeLines(out: string): Promise<string[]> {
  const entries = await readdir(join(out, "events"), { recursive: true, withFileTypes: true });
  const lines: string[] = [];
  for (const e of entries.filter((x) => x.isFile() && x.name.endsWith(".json.gz"))) {
    lines.push(...rawLinesOf(await readFile(join(e.parentPath, e.name))));
  }
  return lines;
}

describe("local ingest against the simulator", () => {
  it("stores events byte for byte as DocuSign sent them, big numbers and pretty-printed ones included", async () => {
    fixture = await startSimulator({ events: 50 });
    const time = new Date().toISOString();
    const big = `{"eventId":"big-1","timestamp":"${time}","data":{"n":12345678901234567890,"x":1e400,"d":1.50}}`;
    const pretty = `{\r\n  "eventId": "pretty-1",\r\n  "timestamp": "${time}",\r\n  "n": -0.0\r\n}`;
    fixture.simulator.appendRaw([big, pretty]);
    const out = join(dir, "lake-raw");

    const summary = await run(fixture, out);

    const lines = await lakeLines(out);
    expect(summary.events).toBe(52);
    expect(lines).toHaveLength(52);
    expect(lines).toContain(big);
    expect(lines).toContain(`{  "eventId": "pretty-1",  "timestamp": "${time}",  "n": -0.0}`);
    const generated = fixture.simulator
      .events()
      .slice(0, 50)
      .map((e) => JSON.stringify(e));
    expect(lines).toEqual(expect.arrayContaining(generated));
  });

  it("refuses a corrupt state file with the file and the fix, leaving it as it was", async () => {
    fixture = await startSimulator({ events: 10 });
    const out = join(dir, "lake-corrupt");
    await run(fixture, out);
    const statePath = join(out, "state", "default.json");
    const corrupt = `${JSON.stringify({ version: 3, totalEvents: 10, cursor: null, recentEventIds: 5 })}\n`;
    await writeFile(statePath, corrupt);

    const error = await run(fixture, out).catch((e: unknown) => e);

    expect(error).toMatchObject({ code: "STATE_INVALID" });
    expect((error as Error).message).toContain(statePath);
    expect((error as Error).message).toContain('"cursor" is null');
    expect((error as Error).message).toContain('"recentEventIds" is 5');
    expect((error as Error).message).toContain(`npm start -- recover --out "${out}" --stream default`);
    expect((error as Error).message).not.toContain("--start");
    expect(await readFile(statePath, "utf8")).toBe(corrupt); // no lease taken, nothing restarted
  });
});

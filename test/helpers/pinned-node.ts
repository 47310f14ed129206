import { readFileSync } from "node:fs";

/**
 * The Node.js the tests and the bench run on: a pinned Node 24 binary from the npm registry
 * (`node-<platform>-<arch>` in package.json's optionalDependencies, which links
 * node_modules/.bin/node, so every npm script runs on it). npm installs only the package of the
 * current platform; where none is published (macOS on Apple silicon), the scripts fall back to the
 * node on PATH.
 */
export interface PinnedNode {
  readonly packageName: string;
  /** The pinned version for this platform, or undefined when none is published for it. */
  readonly version: string | undefined;
}

export function pinnedNode(
  platform: string = process.platform,
  arch: string = process.arch,
  packageJsonPath: string = new URL("../../package.json", import.meta.url).pathname,
): PinnedNode {
  const manifest = JSON.parse(readFileSync(packageJsonPath, "utf8")) as {
    optionalDependencies?: Record<string, string>;
  };
  const packageName = `node-${platform === "win32" ? "win" : platform}-${arch}`;
  return { packageName, version: manifest.optionalDependencies?.[packageName] };
}

/** One line for the start of a run: which Node runs it, and a warning when it is not the pinned one. */
export function nodeReport(current: string = process.version, pinned: PinnedNode = pinnedNode()): string {
  if (pinned.version === undefined) {
    return (
      `WARNING: no pinned Node.js package (${pinned.packageName}) is published for this platform; ` +
      `running on the node on PATH, ${current}. Lambda runs Node.js 24: install Node 24 to test what it runs.`
    );
  }
  if (current !== `v${pinned.version}`) {
    return (
      `WARNING: running on Node.js ${current}, not the pinned v${pinned.version} (${pinned.packageName}). ` +
      "Run through npm (npm test, npm run bench) after npm ci, so that node_modules/.bin/node is used."
    );
  }
  return `Node.js ${current} (${pinned.packageName}, pinned in package.json)`;
}

import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port";

/**
 * A real Trino 476 (the engine of Athena engine version 3) for the Athena tests: one coordinator on
 * 127.0.0.1 with the Hive connector (a file metastore, Athena-style partition projection) and the
 * Iceberg connector over the same metastore, as Athena sees Hive and Iceberg tables in one Glue
 * database: a Hive-catalog name that is an Iceberg table is redirected to the Iceberg catalog.
 *
 * The server tarball comes from the local Maven repository (fetched with `mvn dependency:get` the first
 * time) and is unpacked once into ~/.cache/monitor-lake/ (or $MONITOR_LAKE_CACHE), keeping only the
 * Hive and Iceberg plugins. Trino 476 needs Java 24 or later: $TRINO_JAVA_HOME, then $JAVA_HOME, then `java` on the
 * PATH, then the JDKs in /usr/lib/jvm are tried in that order.
 */

export const TRINO_VERSION = "476";
/** The catalog name Athena's view JSON uses. */
export const CATALOG = "awsdatacatalog";
/** Trino's Iceberg catalog over the same metastore; `CATALOG` redirects Iceberg tables to it. */
export const ICEBERG_CATALOG = "iceberg";
const PLUGINS = ["hive", "iceberg"] as const;

export interface QueryResult {
  readonly columns: string[];
  readonly rows: unknown[][];
  /** Rows the query read from its sources (Trino's processedRows statistic). */
  readonly processedRows: number;
  /** Trino's query id: its full statistics are at `<url>/v1/query/<id>`. */
  readonly queryId: string;
}

export interface Trino {
  readonly url: string;
  /** Milliseconds from spawning the JVM to "SERVER STARTED". */
  readonly startMs: number;
  /** Runs one statement (no trailing `;`: the REST API rejects it) in `schema` of the catalog. */
  query(sql: string, schema?: string): Promise<QueryResult>;
  stop(): Promise<void>;
}

function cacheDir(): string {
  return process.env.MONITOR_LAKE_CACHE ?? join(homedir(), ".cache", "monitor-lake");
}

function mavenTarball(): string {
  return join(
    homedir(),
    ".m2",
    "repository",
    "io",
    "trino",
    "trino-server",
    TRINO_VERSION,
    `trino-server-${TRINO_VERSION}.tar.gz`,
  );
}

/** The unpacked server (lib/ and the plugins of `PLUGINS`), downloading and unpacking it the first time. */
export function trinoHome(): string {
  const home = join(cacheDir(), `trino-server-${TRINO_VERSION}`);
  const missing = (): string[] => PLUGINS.filter((p) => !existsSync(join(home, "plugin", p)));
  if (existsSync(join(home, ".complete")) && missing().length === 0) return home;
  const tarball = mavenTarball();
  if (!existsSync(tarball)) {
    process.stderr.write(`Fetching trino-server ${TRINO_VERSION} (about 820 MB, once) with mvn...\n`);
    try {
      execFileSync(
        "mvn",
        [
          "-q",
          "dependency:get",
          `-Dartifact=io.trino:trino-server:${TRINO_VERSION}:tar.gz`,
          "-Dtransitive=false",
        ],
        { stdio: "inherit" },
      );
    } catch (error) {
      throw new Error(
        `Could not fetch io.trino:trino-server:${TRINO_VERSION}:tar.gz with Maven (${(error as Error).message}). ` +
          "The Athena tests run on Trino: install Maven (Debian/Ubuntu: apt-get install maven) or put the tarball at " +
          `${tarball}, then run npm test again.`,
        { cause: error },
      );
    }
  }
  const staging = join(cacheDir(), `unpacking-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });
  // The plugins' jars are hard links to other plugins' files: unpack all plugins, keep ours.
  execFileSync("tar", [
    "-xzf",
    tarball,
    "-C",
    staging,
    "--wildcards",
    `trino-server-${TRINO_VERSION}/lib/*`,
    `trino-server-${TRINO_VERSION}/plugin/*`,
  ]);
  const unpacked = join(staging, `trino-server-${TRINO_VERSION}`);
  if (existsSync(join(home, ".complete"))) {
    // A cache from before a plugin was added: move the missing plugins in (one rename each), so that
    // a Trino already running from this directory keeps its files.
    for (const plugin of missing())
      renameSync(join(unpacked, "plugin", plugin), join(home, "plugin", plugin));
    rmSync(staging, { recursive: true, force: true });
    return home;
  }
  for (const plugin of readdirSync(join(unpacked, "plugin"))) {
    if (!(PLUGINS as readonly string[]).includes(plugin))
      rmSync(join(unpacked, "plugin", plugin), { recursive: true, force: true });
  }
  writeFileSync(join(unpacked, ".complete"), `${new Date().toISOString()}\n`);
  rmSync(home, { recursive: true, force: true });
  renameSync(unpacked, home);
  rmSync(staging, { recursive: true, force: true });
  return home;
}

function javaMajor(java: string): number | undefined {
  const result = spawnSync(java, ["-XshowSettings:properties", "-version"], { encoding: "utf8" });
  const m = /java\.specification\.version = (\d+)/.exec(`${result.stdout ?? ""}${result.stderr ?? ""}`);
  return m ? Number(m[1]) : undefined;
}

/** A `java` of version 24 or later. */
export function trinoJava(): string {
  const homes = [process.env.TRINO_JAVA_HOME, process.env.JAVA_HOME].filter((h): h is string => !!h);
  const candidates = [...homes.map((h) => join(h, "bin", "java")), "java"];
  if (existsSync("/usr/lib/jvm")) {
    for (const d of readdirSync("/usr/lib/jvm").sort().reverse())
      candidates.push(join("/usr/lib/jvm", d, "bin", "java"));
  }
  const tried: string[] = [];
  for (const java of candidates) {
    const major = javaMajor(java);
    if (major !== undefined && major >= 24) return java;
    tried.push(`${java} (${major === undefined ? "not found" : `Java ${major}`})`);
  }
  throw new Error(
    `Trino ${TRINO_VERSION} needs Java 24 or later; tried ${tried.join(", ")}. ` +
      "Install a JDK 24+ (e.g. Temurin 25) and point TRINO_JAVA_HOME at it, then run npm test again.",
  );
}

export interface TrinoOptions {
  /**
   * The JVM's heap, GiB; a query may use 70% of it. The benchmark's month of a million events needs more
   * than the tests' lakes (the raw view's dedup window holds every line it reads). @default 3
   */
  readonly heapGiB?: number;
}

/** Starts a coordinator whose catalog `awsdatacatalog` keeps its metastore in `<root>/metastore`. */
export async function startTrino(root: string, options: TrinoOptions = {}): Promise<Trino> {
  const heapGiB = options.heapGiB ?? 3;
  const home = trinoHome();
  const java = trinoJava();
  const port = await freePort();
  const etc = await mkdtemp(join(tmpdir(), "monitor-lake-trino-"));
  const url = `http://127.0.0.1:${port}`;
  await writeFile(
    join(etc, "config.properties"),
    [
      "coordinator=true",
      "node-scheduler.include-coordinator=true",
      // Loopback only.
      "node.bind-ip=127.0.0.1",
      "node.internal-address=127.0.0.1",
      // Otherwise it writes var/log/http-request.log into the working directory.
      "http-server.log.enabled=false",
      `http-server.http.port=${port}`,
      `discovery.uri=${url}`,
      ...(options.heapGiB === undefined
        ? []
        : [
            `query.max-memory-per-node=${Math.floor(heapGiB * 0.7 * 1024)}MB`,
            `query.max-memory=${Math.floor(heapGiB * 0.7 * 1024)}MB`,
          ]),
      "",
    ].join("\n"),
  );
  const catalogs = join(etc, "catalog");
  mkdirSync(catalogs);
  mkdirSync(join(root, "metastore"), { recursive: true });
  await writeFile(
    join(catalogs, `${CATALOG}.properties`),
    [
      "connector.name=hive",
      "hive.metastore=file",
      "hive.metastore.catalog.dir=local:///metastore",
      "fs.native-local.enabled=true",
      `local.location=${root}`,
      "hive.partition-projection-enabled=true",
      // Local disk only: S3 lists a missing prefix as empty, a directory that does not exist is an error.
      "hive.ignore-absent-partitions=true",
      // As Athena: CREATE TABLE AS at an explicit location (the OCSF export's stand-in for UNLOAD).
      "hive.non-managed-table-writes-enabled=true",
      `hive.iceberg-catalog-name=${ICEBERG_CATALOG}`,
      "",
    ].join("\n"),
  );
  await writeFile(
    join(catalogs, `${ICEBERG_CATALOG}.properties`),
    [
      "connector.name=iceberg",
      // Trino's file metastore for Iceberg (its "testing" catalog type): the same files as the Hive catalog's.
      "iceberg.catalog.type=TESTING_FILE_METASTORE",
      "hive.metastore.catalog.dir=local:///metastore",
      "fs.native-local.enabled=true",
      `local.location=${root}`,
      "iceberg.file-format=PARQUET",
      "iceberg.compression-codec=ZSTD",
      "",
    ].join("\n"),
  );
  const started = Date.now();
  const child: ChildProcess = spawn(
    java,
    [
      `-Xmx${heapGiB}G`,
      "-Duser.timezone=UTC",
      "-XX:+UseG1GC",
      // Short-lived: C1 alone compiles faster, and this run is over before C2 would pay off.
      "-XX:TieredStopAtLevel=1",
      "-Dnode.environment=test",
      `-Dconfig=${join(etc, "config.properties")}`,
      `-Dcatalog.config-dir=${catalogs}`,
      `-Dplugin.dir=${join(home, "plugin")}`,
      "-cp",
      `${join(home, "lib")}/*`,
      "io.trino.server.TrinoServer",
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let log = "";
  const append = (d: Buffer): void => {
    log = (log + d.toString()).slice(-20_000);
  };
  child.stdout?.on("data", append);
  child.stderr?.on("data", append);
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    await rm(etc, { recursive: true, force: true });
  };
  try {
    const until = started + 180_000;
    while (!log.includes("SERVER STARTED")) {
      if (child.exitCode !== null) throw new Error(`Trino exited with code ${child.exitCode}`);
      if (Date.now() > until) throw new Error("Trino did not start within 180 s");
      await new Promise((r) => setTimeout(r, 250));
    }
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}; its log ends:\n${log.slice(-4000)}`, { cause: error });
  }
  const startMs = Date.now() - started;
  return { url, startMs, query: (sql, schema) => runQuery(url, sql, schema), stop };
}

interface StatementResponse {
  id: string;
  nextUri?: string;
  columns?: { name: string }[];
  data?: unknown[][];
  stats?: { processedRows?: number };
  error?: { message: string; errorName?: string };
}

/**
 * Runs `sql`, retrying while Trino answers NO_NODES_AVAILABLE: "SERVER STARTED" comes a moment before
 * the coordinator has announced itself as a worker with its catalog.
 */
async function runQuery(url: string, sql: string, schema?: string): Promise<QueryResult> {
  const until = Date.now() + 60_000;
  for (;;) {
    try {
      return await runOnce(url, sql, schema);
    } catch (error) {
      if (!String(error).includes("NO_NODES_AVAILABLE") || Date.now() > until) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

async function runOnce(url: string, sql: string, schema?: string): Promise<QueryResult> {
  const headers: Record<string, string> = { "X-Trino-User": "monitor-lake", "X-Trino-Catalog": CATALOG };
  if (schema) headers["X-Trino-Schema"] = schema;
  let response = (await (
    await fetch(`${url}/v1/statement`, { method: "POST", body: sql, headers })
  ).json()) as StatementResponse;
  const rows: unknown[][] = [];
  let columns: string[] = [];
  for (;;) {
    if (response.error) {
      throw new Error(`Trino: ${response.error.errorName ?? "error"}: ${response.error.message}\n${sql}`);
    }
    if (response.columns) columns = response.columns.map((c) => c.name);
    if (response.data) rows.push(...response.data);
    if (!response.nextUri) break;
    response = (await (await fetch(response.nextUri, { headers })).json()) as StatementResponse;
  }
  return { columns, rows, processedRows: response.stats?.processedRows ?? 0, queryId: response.id };
}

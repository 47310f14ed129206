import { parseArgs } from "node:util";
import { ENV } from "../config";
import { describeError } from "../errors";
import { exitCodeFor, UsageError } from "./cli-errors";
import { consentUrlCommand } from "./consent-url";
import { runDemo } from "./demo";
import { runDetectCommand } from "./detect";
import { checkLakeRoot } from "./paths";
import { runCommand } from "./run-command";
import { FLAG_ENV, settingsFromFlags, withStream } from "./settings";
import { simulateCommand } from "./simulate";

const USAGE = `monitor-lake: copy DocuSign Monitor events into a local lake (gzipped NDJSON by day).

Usage:
  npm start                               the demo: a built-in DocuSign simulator, ingested into ./data
  npm start -- run [options]              one ingest run
  npm start -- consent-url --integration-key K [--env demo|production] [--redirect-uri U]
  npm start -- simulate [--port P]        serve the DocuSign simulator for manual use
  npm start -- detect [--out DIR] [--since 7d] [--json]   the detection rules over the lake (detect --help)

Options of run (each also read from the environment variable in brackets):
  --env demo|production     [${ENV.docusignEnv}] (default demo)
  --organization-id ID      [${ENV.organizationId}] use the organization stream API
  --monitor-url URL         [${ENV.monitorUrl}] override the Monitor host
  --oauth-url URL           [${ENV.oauthUrl}] override the OAuth host
  --integration-key KEY     [${ENV.integrationKey}]
  --user-id GUID            [${ENV.userId}] the impersonated admin's user GUID
  --key-file PATH           [${ENV.privateKeyFile}] RSA private key PEM (PKCS#1 or PKCS#8)
  --out DIR                 the lake's directory (default ./data)
  --stream ID               [${ENV.stream}] names the stream's state and objects (default "default")
  --streams FILE            [${ENV.streams}] a stream table (JSON array, the file of cdk deploy -c streams):
                            --stream picks one; its fields replace the variables, flags replace its fields
  --start CURSOR            [${ENV.startCursor}] where a new stream starts: ISO date-time or cursor
  --limit N                 [${ENV.pageLimit}] page size asked for (default 2000)
  --redirect-uri URI        [${ENV.redirectUri}] shown in consent URLs
  --rate-limit-reserve R    [${ENV.rateLimitReserve}] share of the hourly limit left free (default 0.2)
  --chunk-max-bytes N       [${ENV.chunkMaxBytes}] NDJSON bytes per chunk before it is committed
  --max-response-bytes N    [${ENV.maxResponseBytes}] largest DocuSign answer read, decoded (default 32 MiB)
  --chunk-max-age SECONDS   [${ENV.chunkMaxAgeSeconds}] commit a chunk at least this often (default 60)
  --budget SECONDS          stop cleanly by then (default: until caught up)
  --json                    the last stdout line is the run summary as JSON

Exit codes: 0 the run ended as planned (caught up, budget, rate limit), 1 failure, 2 bad usage or configuration.`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const stdout = (line: string): void => void process.stdout.write(`${line}\n`);
  const stderr = (line: string): void => void process.stderr.write(`${line}\n`);
  if (argv[0] === "detect") return runDetectCommand(argv.slice(1), env, { stdout, stderr });
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        ...Object.fromEntries(Object.keys(FLAG_ENV).map((flag) => [flag, { type: "string" as const }])),
        out: { type: "string" },
        streams: { type: "string" },
        budget: { type: "string" },
        port: { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    });
    const command = positionals[0] ?? "demo";
    if (values.help || command === "help") {
      stdout(USAGE);
      return 0;
    }
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const fromFlags = settingsFromFlags(values as Record<string, string | boolean | undefined>);
    const settings = (): Record<string, string | undefined> =>
      withStream(env, fromFlags, typeof values.streams === "string" ? values.streams : undefined);
    const out = typeof values.out === "string" ? values.out : "./data";

    switch (command) {
      case "demo":
        return await runDemo({ out: await checkLakeRoot(out), stdout, stderr });
      case "run":
        return await runCommand(
          settings(),
          await checkLakeRoot(out),
          values.budget,
          values.json === true,
          stdout,
          stderr,
        );
      case "consent-url":
        return consentUrlCommand(settings(), stdout);
      case "simulate":
        return await simulateCommand(values.port, stdout);
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (error) {
    return exitCodeFor(error, stderr);
  }
}

// Run when executed directly (npm start), not when imported by tests.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      process.stderr.write(`monitor-lake: unexpected error: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}

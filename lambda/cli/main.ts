import { parseArgs } from "node:util";
import { ConfigError } from "../errors";
import { backfillCommand } from "./backfill-command";
import { exitCodeFor, UsageError } from "./cli-errors";
import { consentUrlCommand } from "./consent-url";
import { DEMO_OUT, DEMO_STREAM, runDemo } from "./demo";
import { runDetectCommand } from "./detect";
import { DOCTOR_FLAGS, doctorCommand } from "./doctor";
import { checkLakeRoot, claimLake, LakeKind } from "./paths";
import { recoverCommand } from "./recover";
import { runCommand } from "./run-command";
import { FLAG_ENV, namingFlags, settingsFromFlags, withStream } from "./settings";
import { simulateCommand } from "./simulate";
import {
  BACKFILL_USAGE,
  CONSENT_URL_USAGE,
  DEMO_USAGE,
  DOCTOR_USAGE,
  RECOVER_USAGE,
  RUN_USAGE,
  SIMULATE_USAGE,
  USAGE,
} from "./usage";

type OptionSpec = Record<string, { type: "string" | "boolean"; short?: string }>;

const STRING = { type: "string" } as const;
const HELP = { help: { type: "boolean", short: "h" } } as const;
const RUN_OPTIONS: OptionSpec = {
  ...Object.fromEntries(Object.keys(FLAG_ENV).map((flag) => [flag, STRING])),
  out: STRING,
  streams: STRING,
  budget: STRING,
  json: { type: "boolean" },
  ...HELP,
};

/** The flags each command takes; any other is refused with the command's name. */
const COMMANDS: Readonly<Record<string, { readonly options: OptionSpec; readonly usage: string }>> = {
  run: { options: RUN_OPTIONS, usage: RUN_USAGE },
  backfill: {
    options: { ...RUN_OPTIONS, from: STRING, to: STRING, deployment: STRING },
    usage: BACKFILL_USAGE,
  },
  demo: { options: { out: STRING, budget: STRING, json: { type: "boolean" }, ...HELP }, usage: DEMO_USAGE },
  "consent-url": {
    options: {
      "integration-key": STRING,
      env: STRING,
      "redirect-uri": STRING,
      "oauth-url": STRING,
      streams: STRING,
      stream: STRING,
      ...HELP,
    },
    usage: CONSENT_URL_USAGE,
  },
  simulate: { options: { port: STRING, ...HELP }, usage: SIMULATE_USAGE },
  doctor: {
    options: {
      ...Object.fromEntries([...Object.keys(FLAG_ENV), ...DOCTOR_FLAGS].map((flag) => [flag, STRING])),
      json: { type: "boolean" },
      ...HELP,
    },
    usage: DOCTOR_USAGE,
  },
  recover: {
    options: {
      out: STRING,
      stream: STRING,
      streams: STRING,
      force: { type: "boolean" },
      json: { type: "boolean" },
      ...HELP,
    },
    usage: RECOVER_USAGE,
  },
};

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const stdout = (line: string): void => void process.stdout.write(`${line}\n`);
  const stderr = (line: string): void => void process.stderr.write(`${line}\n`);
  const first = argv[0];
  if (first === "detect") return runDetectCommand(argv.slice(1), env, { stdout, stderr });
  if (first === "help" || (first !== undefined && /^(-h|--help)$/.test(first))) {
    stdout(USAGE);
    return 0;
  }
  const named = first !== undefined && !first.startsWith("-");
  const command = named ? first : "demo";
  let fromFlags: Record<string, string> = {};
  try {
    const spec = COMMANDS[command];
    if (spec === undefined) throw new UsageError(`unknown command "${command}"`);
    const { values, positionals } = parseCommandArgs(command, spec.options, named ? argv.slice(1) : argv);
    if (values.help) {
      stdout(spec.usage);
      return 0;
    }
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" for ${command}`);
    fromFlags = settingsFromFlags(values);
    const settings = (): Record<string, string | undefined> =>
      withStream(env, fromFlags, typeof values.streams === "string" ? values.streams : undefined);
    const out = typeof values.out === "string" ? values.out : command === "demo" ? DEMO_OUT : "./data";
    const budget = typeof values.budget === "string" ? values.budget : undefined;
    const json = values.json === true;

    switch (command) {
      case "demo":
        return await runDemo({ out: await lakeFor(out, LakeKind.Demo), budget, json, env, stdout, stderr });
      case "run":
        return await runCommand({
          settings: settings(),
          env,
          out: await checkLakeRoot(out),
          claimLake: async () => claimLake(await checkLakeRoot(out), LakeKind.Real, out, DEMO_STREAM),
          budget,
          json,
          stdout,
          stderr,
          ...(typeof values.start === "string" ? { startFlag: values.start } : {}),
        });
      case "backfill":
        return await backfillCommand({
          flags: values,
          // A deployment's backfill reads no local settings: they come from the deployed function.
          settings: values.deployment === undefined ? settings() : {},
          env,
          out: values.deployment === undefined ? await checkLakeRoot(out) : out,
          claimLake: async () => claimLake(await checkLakeRoot(out), LakeKind.Real, out, DEMO_STREAM),
          budget,
          json,
          stdout,
          stderr,
        });
      case "consent-url":
        return consentUrlCommand(settings(), stdout);
      case "doctor":
        return await doctorCommand({
          values,
          settings: settings(),
          out,
          demoStream: DEMO_STREAM,
          stdout,
          stderr,
        });
      case "recover":
        return await recoverCommand({
          settings: settings(),
          out: await checkLakeRoot(out),
          force: values.force === true,
          json,
          stdout,
        });
      default:
        return await simulateCommand(
          typeof values.port === "string" ? values.port : undefined,
          stdout,
          stderr,
        );
    }
  } catch (error) {
    return exitCodeFor(error instanceof ConfigError ? namingFlags(error, fromFlags) : error, stderr);
  }
}

/** `--out` checked (checkLakeRoot) and claimed for the demo or for real streams. */
async function lakeFor(out: string, kind: LakeKind): Promise<string> {
  const root = await checkLakeRoot(out);
  await claimLake(root, kind, out, DEMO_STREAM);
  return root;
}

/** parseArgs, with Node's messages replaced by ones that name the command and the flag. */
function parseCommandArgs(
  command: string,
  options: OptionSpec,
  args: readonly string[],
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const flag = /'(-[^' ]+)/.exec((error as Error).message)?.[1] ?? "";
    if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION") {
      throw new UsageError(
        `unknown option ${flag} for ${command} (monitor-lake ${command} --help lists them)`,
      );
    }
    if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      const takesValue = options[flag.replace(/^--?/, "")]?.type === "string";
      throw new UsageError(takesValue ? `${flag} needs a value` : `${flag} takes no value`);
    }
    throw error;
  }
}

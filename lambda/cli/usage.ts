import { ENV } from "../config";

/** The options of `run`, in both the global and the command's own help. */
const RUN_OPTIONS = `  --env demo|production     [${ENV.docusignEnv}] (default demo)
  --organization-id ID      [${ENV.organizationId}] the organization whose stream is read (default: the
                            one GET /oauth/userinfo names; none named: the legacy lens stream)
  --stream-api API          [${ENV.streamApi}] "lens": the legacy lens stream, no lookup; "organization":
                            never fall back to lens
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
  --json                    the last stdout line is the run summary as JSON`;

/** `monitor-lake --help`. */
export const USAGE = `monitor-lake: copy DocuSign Monitor events into a local lake (gzipped NDJSON by day).

Usage:
  npm start                               the demo: a built-in DocuSign simulator, ingested into ./demo-data
  npm start -- run [options]              one ingest run
  npm start -- backfill --from T --to T [options]   fetch a past window again, store what the lake misses
  npm start -- consent-url --integration-key K [--env demo|production] [--redirect-uri U]
  npm start -- simulate [--port P]        serve the DocuSign simulator for manual use
  npm start -- detect [--out DIR] [--since 7d] [--json]   the detection rules over the lake (detect --help)
  npm start -- doctor [run's options] [--bucket B --state-table T --secret-arn S]   check a stream's setup (doctor --help)
  npm start -- recover [--out DIR] [--stream ID]   rebuild a corrupt or lost state from the lake (recover --help)

Options of run (each also read from the environment variable in brackets):
${RUN_OPTIONS}

Exit codes: 0 the run ended as planned (caught up, budget, rate limit), 1 failure, 2 bad usage or configuration.`;

/** `monitor-lake run --help`. */
export const RUN_USAGE = `npm start -- run [options]    (or: monitor-lake run, npx monitor-lake run)

One ingest run from DocuSign Monitor into the lake: until caught up, the --budget, or the rate-limit reserve.

Options (each also read from the environment variable in brackets):
${RUN_OPTIONS}

Ctrl-C or SIGTERM stops the run after committing what was stored (exit 130 or 143).
Exit codes: 0 the run ended as planned (caught up, budget, rate limit), 1 failure, 2 bad usage or configuration.`;

/** `monitor-lake demo --help`. */
export const DEMO_USAGE = `npm start [-- demo] [--out DIR] [--budget SECONDS] [--json]

The demo: a built-in DocuSign simulator (30,000 events over five days, with faults) ingested into DIR
(default ./demo-data) until caught up, then checked event by event. It replaces only its own stream
("demo"), and refuses a lake that holds real streams.
  --out DIR                 the demo lake's directory (default ./demo-data)
  --budget SECONDS          stop cleanly by then (default: until caught up)
  --json                    the last stdout line is the run summary as JSON`;

/** `monitor-lake consent-url --help`. */
export const CONSENT_URL_USAGE = `npm start -- consent-url --integration-key KEY [--env demo|production] [--redirect-uri URI] [--oauth-url URL]

Prints the URL the impersonated user opens once to grant the integration key consent.
  --integration-key KEY     [${ENV.integrationKey}]
  --env demo|production     [${ENV.docusignEnv}] (default demo)
  --redirect-uri URI        [${ENV.redirectUri}] a redirect URI registered for the key
  --oauth-url URL           [${ENV.oauthUrl}] override the OAuth host
  --streams FILE, --stream ID   take the settings from a stream table entry`;

/** `monitor-lake simulate --help`. */
export const SIMULATE_USAGE = `npm start -- simulate [--port P]

Serves the DocuSign simulator (OAuth and Monitor, 20,000 events) on 127.0.0.1 until Ctrl-C or SIGTERM,
and prints the run command that ingests from it. Its key file is removed when it stops.
  --port P                  the port to listen on (default: any free port)`;

/** `monitor-lake doctor --help`. */
export const DOCTOR_USAGE = `npm start -- doctor [run's options] [--json]
npm start -- doctor --streams FILE --stream ID [--out DIR]
npm start -- doctor --bucket B --state-table T [--secret-arn S] [--key-prefix P] [run's DocuSign options]

Checks what a run needs, one line each (ok, warn, FAIL, or skip when an earlier check it needs failed):
  key          the key file or secret is readable and holds an unencrypted RSA key of at least 2048 bits
  token        DocuSign's JWT grant gives an access token (missing consent: the consent URL to open)
  userinfo     the user and the organizations GET /oauth/userinfo names, and the stream a run chooses;
               userinfo lists no admin roles: the stream check shows whether Monitor accepts the user
  state        the stream's state (state file, or the state table's item): read, never written
  stream       one page (limit 1) from where a run would go on; nothing is stored
  rate-limit   the requests left this hour, above the --rate-limit-reserve a run keeps free
  lake         the lake directory (or the bucket) is writable: a probe is written and removed
It takes no lease, moves no cursor and stores no event. Exit codes: 0 nothing failed (warnings
allowed), 1 a check failed (the fix for the first failure on stderr), 2 bad usage or configuration.

Options: those of run (monitor-lake run --help) but --budget, and for a deployed stream, with AWS
credentials for its account and region (AWS_REGION):
  --bucket NAME             [${ENV.bucket}] the stack output BucketName: a probe under doctor/ is written and deleted
  --state-table NAME        [${ENV.stateTable}] the stack output StateTableName (read with GetItem)
  --secret-arn ARN          [${ENV.privateKeySecret}] the stream's PrivateKeySecretArn output (default: the
                            stream table entry's keySecretName)
  --key-prefix PREFIX       [${ENV.keyPrefix}] the construct's keyPrefix, if set
  --json                    stdout is one line: {"ok", "mode", "stream", "checks": [{"check", "status", "detail", "fix"}]}`;
/** `monitor-lake recover --help`. */
export const RECOVER_USAGE = `npm start -- recover [--out DIR] [--stream ID] [--streams FILE] [--force] [--json]

Rebuilds a stream's state file (DIR/state/<stream>.json) from the lake's objects, when it is corrupt
(STATE_INVALID) or lost. It resumes at the end of the newest chunk the objects prove stored, following
each chunk's start and end cursor; an attempt that never committed is fenced and its events read again.
Nothing is skipped: what is read again is dropped by the id window it rebuilds, else by events_dedup.
It refuses while a run holds the stream, and leaves a valid state alone unless --force.
  --out DIR                 the lake's directory (default ./data)
  --stream ID               [${ENV.stream}] the stream (default "default")
  --streams FILE            [${ENV.streams}] a stream table: --stream picks one
  --force                   replace a state that is valid too
  --json                    the last stdout line is the recovery summary as JSON
Exit codes: 0 rebuilt, 1 failure (a run holds the stream, a valid state without --force), 2 bad usage.`;

/** `monitor-lake backfill --help`. */
export const BACKFILL_USAGE = `npm start -- backfill --from TIME --to TIME [--stream ID] [options]
npm start -- backfill --deployment FILE --from TIME --to TIME [--stream ID] [--budget S] [--json]

Fetches the stream's events whose own time is in [--from, --to) again and stores only those the lake
does not hold yet (by eventId, and by exact text for events without one), in the stream's own days.
A resumable job with its own state record (state/<stream>~backfill-<window>.json): stopped or killed,
the same command continues from its committed cursor; once the window is complete it starts over and
stores nothing that is there. It ends when DocuSign's pages pass --to by an hour (pages follow
ingestion order, up to about five minutes behind an event's time), at the rate-limit reserve or --budget.
  --from TIME, --to TIME    a UTC day (2024-05-01, its midnight) or an ISO-8601 date-time with offset;
                            --to not in the future
  --deployment FILE         a deployed stack's stream instead of a local lake: FILE is the ingest
                            function's environment, written by
                              aws lambda get-function-configuration --function-name <FunctionName> \\
                                --query Environment.Variables > deployment.json
                            user, key secret and lake come from it (AWS credentials from the usual chain);
                            only --stream, --from, --to, --budget and --json may be given with it
The other options are run's (monitor-lake run --help), except --start.

Ctrl-C or SIGTERM stops it after committing what was stored (exit 130 or 143).
Exit codes: 0 it ended as planned (window done, caught up, budget, rate limit), 1 failure, 2 bad usage or configuration.`;

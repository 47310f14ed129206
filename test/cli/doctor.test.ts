import { generateKeyPairSync } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
} from "@aws-sdk/client-s3";
import { describe, expect, it } from "vitest";
import { awsClients, createStorage, type MotoStorage, motoEnv, uniqueName } from "../helpers/aws";
import { cliFixture, docusignFlags } from "../helpers/cli-fixture";
import { type CliResult, lastJsonLine, runCli } from "../helpers/run-cli";
import type { SimulatorFixture } from "../helpers/simulator-fixture";

const ORG = "7f46f1ee-828e-41d4-9d85-755fa1814fd4";
const CHECKS = ["key", "token", "userinfo", "state", "stream", "rate-limit", "lake"];
const REDIRECT = ["--redirect-uri", "https://example.com/callback"];

const cli = cliFixture("monitor-lake-doctor-");

/** The DocuSign flags of a run against the simulator, with its key in a file (or `pem`). */
async function docusignArgs(f: SimulatorFixture, pem = f.keys.pkcs8Pem): Promise<string[]> {
  return [...docusignFlags(f, await cli.keyFile(pem)), ...REDIRECT];
}

/** Doctor for a deployed stream on moto: the simulator's DocuSign flags, its key read from `storage`'s secret. */
function deployedDoctor(f: SimulatorFixture, storage: MotoStorage, extra: string[] = []): Promise<CliResult> {
  return runCli(
    [
      "doctor",
      ...docusignFlags(f),
      ...REDIRECT,
      "--bucket",
      storage.bucket,
      "--state-table",
      storage.table,
      "--secret-arn",
      storage.secretId,
      ...extra,
    ],
    motoEnv(),
  );
}

/** The report's lines as [status, check] pairs. */
function statuses(stdout: string): [string, string][] {
  return stdout
    .trim()
    .split("\n")
    .map((line) => {
      const match = /^(ok|warn|FAIL|skip) +([a-z-]+): /.exec(line);
      return [match?.[1] ?? `?${line}`, match?.[2] ?? ""];
    });
}

function only(stdout: string, check: string): string {
  return stdout.split("\n").find((l) => l.includes(` ${check}: `)) ?? "";
}

describe("monitor-lake doctor against the simulator", () => {
  it("reports every check ok on one line each, exits 0, and stores nothing nor moves the cursor", async () => {
    const fixture = await cli.startSimulator({ events: 40, organizationId: ORG });
    const args = await docusignArgs(fixture);
    const out = cli.path("lake-ok");
    const run = await runCli(["run", ...args, "--out", out, "--start", "2000-01-01T00:00:00Z"]);
    expect(run.code).toBe(0);
    const statePath = join(out, "state", "default.json");
    const stateBefore = await readFile(statePath, "utf8");
    const entriesBefore = await readdir(out, { recursive: true });
    fixture.simulator.appendLive(5);
    const pagesBefore = fixture.simulator.stats.pagesServed;

    const result = await runCli(["doctor", ...args, "--out", out]);

    expect(result.code).toBe(0);
    expect(statuses(result.stdout)).toEqual(CHECKS.map((c) => ["ok", c]));
    expect(only(result.stdout, "key")).toMatch(/^ok {3}key: RSA 2048 PKCS#8 from \//);
    expect(only(result.stdout, "userinfo")).toContain(`names organization ${ORG}`);
    expect(only(result.stdout, "userinfo")).toContain("userinfo lists no admin roles");
    expect(only(result.stdout, "state")).toContain("40 events stored");
    expect(only(result.stdout, "stream")).toContain(`organization stream of ${ORG}`);
    expect(only(result.stdout, "stream")).toContain("a page of 1 event (limit 1) from the committed cursor");
    expect(only(result.stdout, "rate-limit")).toMatch(
      /\d+ of 3000 requests left this hour; a run stops below 600/,
    );
    expect(only(result.stdout, "lake")).toContain("is writable (a probe file was written and removed)");
    expect(result.stderr).toBe("");
    expect(fixture.simulator.stats.pagesServed).toBe(pagesBefore + 1);
    expect(await readFile(statePath, "utf8")).toBe(stateBefore);
    expect(await readdir(out, { recursive: true })).toEqual(entriesBefore);
  });

  it("prints the consent URL, with the redirect URI rule, when consent is missing, and exits 1", async () => {
    const fixture = await cli.startSimulator({ events: 5, faults: { consentRequired: true } });
    const out = cli.path("lake-consent");

    const result = await runCli(["doctor", ...(await docusignArgs(fixture)), "--out", out]);

    expect(result.code).toBe(1);
    expect(statuses(result.stdout)).toEqual([
      ["ok", "key"],
      ["FAIL", "token"],
      ["skip", "userinfo"],
      ["ok", "state"],
      ["skip", "stream"],
      ["skip", "rate-limit"],
      ["ok", "lake"],
    ]);
    expect(only(result.stdout, "token")).toContain('"consent_required"');
    expect(result.stderr).toContain("monitor-lake doctor: the token check failed.");
    expect(result.stderr).toContain(
      `${fixture.url}/oauth/auth?response_type=code&scope=signature%20impersonation&client_id=${fixture.integrationKey}` +
        `&redirect_uri=${encodeURIComponent("https://example.com/callback")}`,
    );
    expect(result.stderr).toContain("The redirect_uri must be registered on the integration key");
    expect(existsSync(out)).toBe(false);
  });

  it("fails the token check when the key is not the integration's (the signature does not verify)", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
    const pem = other.export({ type: "pkcs1", format: "pem" }).toString();

    const result = await runCli(["doctor", ...(await docusignArgs(fixture, pem)), "--out", cli.path("x")]);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "key")).toMatch(/^ok {3}key: RSA 2048 PKCS#1 from /);
    expect(only(result.stdout, "token")).toMatch(
      /^FAIL token: .*"invalid_grant: signature verification failed"/,
    );
    expect(result.stderr).toContain(
      "DocuSign rejected the JWT assertion. Check that the private key belongs to",
    );
    expect(fixture.simulator.stats.streamRequests).toBe(0);
  });

  it("fails the key check for an RSA key under 2048 bits and skips what needs it", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const small = generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey;
    const pem = small.export({ type: "pkcs8", format: "pem" }).toString();

    const result = await runCli(["doctor", ...(await docusignArgs(fixture, pem)), "--out", cli.path("x")]);

    expect(result.code).toBe(1);
    expect(statuses(result.stdout).slice(0, 3)).toEqual([
      ["FAIL", "key"],
      ["skip", "token"],
      ["skip", "userinfo"],
    ]);
    expect(result.stderr).toContain(
      "is a 1024-bit RSA key; RS256 signing (and DocuSign) needs at least 2048 bits",
    );
    expect(fixture.simulator.stats.tokenRequests).toBe(0);
  });

  it("warns, exit 0, when others can read the key file, with the chmod that fixes it", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const args = await docusignArgs(fixture);
    const keyFile = args[args.indexOf("--key-file") + 1] as string;
    await chmod(keyFile, 0o644);

    const result = await runCli(["doctor", ...args, "--out", cli.path("x")]);

    expect(result.code).toBe(0);
    expect(only(result.stdout, "key")).toMatch(/^warn key: RSA 2048 PKCS#8 from /);
    expect(result.stderr).toContain(
      `note (key): warning: ${keyFile} can be read by other users of this machine; run: chmod 600 ${keyFile}`,
    );
  });

  it("fails the lake check when the lake cannot be written, the DocuSign checks still ok", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const file = cli.path("a-file");
    await writeFile(file, "not a directory\n");

    const args = [...(await docusignArgs(fixture)), "--out", join(file, "lake")];

    const result = await runCli(["doctor", ...args]);
    const run = await runCli(["run", ...args]);

    expect(result.code).toBe(1);
    expect(statuses(result.stdout)).toEqual([...CHECKS.slice(0, 6).map((c) => ["ok", c]), ["FAIL", "lake"]]);
    expect(result.stderr).toContain("monitor-lake doctor: the lake check failed.");
    expect(result.stderr).toContain("(ENOTDIR: a part of its path is a file)");
    expect(only(result.stdout, "stream")).toContain("from seven days back (a new stream's start)");
    expect(result.stderr).toContain("choose a directory this user can create or write for the lake");
    // The run refuses it the same way, as bad configuration, before any request.
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--out "${join(file, "lake")}" cannot be used (ENOTDIR`);
  });

  it("fails the lake check for a non-empty directory that is no lake, with checkLakeRoot's words", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const out = cli.path("not-a-lake");
    await mkdir(out);
    await writeFile(join(out, "notes.txt"), "mine\n");

    const result = await runCli([
      "doctor",
      ...(await docusignArgs(fixture)),
      "--out",
      out,
      "--start",
      "2000-01-01T00:00:00Z",
    ]);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "lake")).toMatch(/^FAIL lake: --out ".*not-a-lake" is not empty and holds no/);
    expect(only(result.stdout, "stream")).toContain("from the start cursor 2000-01-01T00:00:00Z");
    expect(result.stderr).toContain("is not empty and holds no monitor-lake lake");
    expect(await readdir(out)).toEqual(["notes.txt"]);
  });

  it("fails the lake check for a demo lake, which a run refuses", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const out = cli.path("lake-demo");
    await mkdir(out);
    await writeFile(join(out, ".lake.json"), '{"kind":"demo"}\n');

    const result = await runCli(["doctor", ...(await docusignArgs(fixture)), "--out", out]);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "lake")).toMatch(/^FAIL lake: --out ".*lake-demo" is a demo lake/);
  });

  it("fails the stream check with the roles Monitor needs when the user holds no admin role", async () => {
    const fixture = await cli.startSimulator({
      events: 5,
      organizationId: ORG,
      faults: { notAdministrator: true },
    });

    const result = await runCli(["doctor", ...(await docusignArgs(fixture)), "--out", cli.path("x")]);

    expect(result.code).toBe(1);
    expect(statuses(result.stdout).slice(2, 6)).toEqual([
      ["ok", "userinfo"],
      ["ok", "state"],
      ["FAIL", "stream"],
      ["skip", "rate-limit"],
    ]);
    expect(only(result.stdout, "stream")).toContain("HTTP 403");
    expect(result.stderr).toContain(
      "must be an Organization Administrator or Security Reports Administrator",
    );
  });

  it("warns when the configured organization is not one userinfo names; the stream then refuses it", async () => {
    const fixture = await cli.startSimulator({ events: 5, organizationId: ORG });
    const other = "11111111-2222-4333-8444-555555555555";

    const result = await runCli([
      "doctor",
      ...(await docusignArgs(fixture)),
      "--organization-id",
      other,
      "--out",
      cli.path("x"),
    ]);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "userinfo")).toMatch(/^warn userinfo: user "Simulated Admin"/);
    expect(only(result.stdout, "stream")).toMatch(
      /^FAIL stream: GET .*\/v1\/organizations\/11111111-.*: HTTP 403/,
    );
    expect(result.stderr).toContain(
      `note (userinfo): The configured organization ${other} is not among those userinfo names`,
    );
  });

  it("fails the userinfo check, listing them, for an admin of several organizations", async () => {
    const second = "11111111-2222-4333-8444-555555555555";
    const fixture = await cli.startSimulator({
      events: 5,
      organizationId: ORG,
      userInfoOrganizations: [ORG, second],
    });

    const result = await runCli(["doctor", ...(await docusignArgs(fixture)), "--out", cli.path("x")]);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "userinfo")).toMatch(/^FAIL userinfo: /);
    expect(only(result.stdout, "stream")).toBe("skip stream: needs the stream choice (userinfo)");
    expect(result.stderr).toContain(`administers 2 organizations (${ORG}, ${second})`);
    expect(result.stderr).toContain("--organization-id");
  });

  it("fails the rate-limit check when the account's hourly limit is below the reserve", async () => {
    const fixture = await cli.startSimulator({ events: 5, rateLimit: 1000, rateLimitUsed: 900 });

    const result = await runCli(["doctor", ...(await docusignArgs(fixture)), "--out", cli.path("x")]);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "rate-limit")).toMatch(
      /^FAIL rate-limit: 99 of 1000 requests left this hour; a run stops below 200/,
    );
    expect(result.stderr).toContain("a run now would stop at once (stoppedBy: rate-limit)");
    expect(result.stderr).toContain("--rate-limit-reserve");
  });

  it("checks a stream table entry (--streams FILE --stream ID), key file relative to the table", async () => {
    const fixture = await cli.startSimulator({ events: 5, organizationId: ORG });
    const tableDir = cli.path("table");
    await mkdir(tableDir, { recursive: true });
    await writeFile(join(tableDir, "acme.pem"), fixture.keys.pkcs1Pem, { mode: 0o600 });
    const entry = {
      integrationKey: fixture.integrationKey,
      oauthUrl: fixture.url,
      monitorUrl: fixture.url,
      keyFile: "acme.pem",
    };
    const table = [
      { id: "other", userId: "00000000-0000-4000-8000-000000000001", ...entry },
      { id: "acme", userId: fixture.userId, organizationId: ORG, ...entry },
    ];
    await writeFile(join(tableDir, "streams.json"), JSON.stringify(table));
    const args = ["doctor", "--streams", join(tableDir, "streams.json"), "--out", cli.path("lake-table")];

    const result = await runCli([...args, "--stream", "acme", "--json"]);
    const ambiguous = await runCli(args);

    expect(result.code).toBe(0);
    const report = lastJsonLine(result.stdout) as {
      ok: boolean;
      stream: string;
      checks: { check: string; status: string; detail: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.stream).toBe("acme");
    expect(report.checks.map((c) => [c.status, c.check])).toEqual(CHECKS.map((c) => ["ok", c]));
    expect(report.checks[0]?.detail).toContain(join(tableDir, "acme.pem"));
    expect(report.checks[3]?.detail).toContain('stream "acme"');
    expect(report.checks[4]?.detail).toContain(`organization stream of ${ORG}`);
    expect(ambiguous.code).toBe(2);
    expect(ambiguous.stderr).toContain("pick one with --stream (other, acme)");
  });

  it("has its own --help and refuses flags of the other mode with exit 2", async () => {
    const help = await runCli(["doctor", "--help"]);
    const mixed = await runCli(["doctor", "--bucket", "b", "--out", "x"]);
    const budget = await runCli(["doctor", "--budget", "5"]);

    expect(help.code).toBe(0);
    expect(help.stdout).toContain("npm start -- doctor [run's options] [--json]");
    expect(help.stdout).toContain("--secret-arn ARN");
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("--out names a local lake; a deployed stream's lake is its --bucket");
    expect(budget.code).toBe(2);
    expect(budget.stderr).toContain("unknown option --budget for doctor");
  });
});

describe("monitor-lake doctor for a deployed stream (moto)", () => {
  const clients = awsClients();

  it("reads the secret and the state item, writes and deletes a probe outside events/, and exits 0", async () => {
    const fixture = await cli.startSimulator({ events: 5, organizationId: ORG });
    const storage = await createStorage(clients, {
      secret: JSON.stringify({ privateKey: fixture.keys.pkcs1Pem }),
    });
    const { bucket, table, secretId: secret } = storage;
    await clients.s3.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }),
    );

    const result = await deployedDoctor(fixture, storage, ["--stream", "acme"]);

    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect(statuses(result.stdout)).toEqual(CHECKS.map((c) => ["ok", c]));
    expect(only(result.stdout, "key")).toBe(`ok   key: RSA 2048 from secret ${secret}`);
    expect(only(result.stdout, "state")).toContain(`stream "acme" in DynamoDB table ${table}: no state yet`);
    expect(only(result.stdout, "lake")).toMatch(
      new RegExp(
        `^ok   lake: s3://${bucket}/ is writable \\(the probe s3://${bucket}/doctor/acme-[0-9a-f]+\\.probe was written and removed\\)`,
      ),
    );
    const versions = await clients.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
    expect([...(versions.Versions ?? []), ...(versions.DeleteMarkers ?? [])]).toEqual([]);
    const item = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: "acme" } } }),
    );
    expect(item.Item).toBeUndefined();
  });

  it("takes a stream table entry's keySecretName as its secret when --secret-arn is not given", async () => {
    const fixture = await cli.startSimulator({ events: 5, organizationId: ORG });
    const {
      bucket,
      table,
      secretId: secret,
    } = await createStorage(clients, { secret: fixture.keys.pkcs8Pem });
    const streams = cli.path("deploy-streams.json");
    const entry = { userId: fixture.userId, integrationKey: fixture.integrationKey, oauthUrl: fixture.url };
    await writeFile(
      streams,
      JSON.stringify([
        {
          id: "globex",
          ...entry,
          monitorUrl: fixture.url,
          keySecretName: secret,
          schedule: "rate(10 minutes)",
        },
      ]),
    );

    const result = await runCli(
      ["doctor", "--streams", streams, "--bucket", bucket, "--state-table", table, "--json"],
      motoEnv(),
    );

    expect(result.code).toBe(0);
    const report = lastJsonLine(result.stdout) as {
      mode: string;
      stream: string;
      checks: { detail: string }[];
    };
    expect(report.mode).toBe("deployed");
    expect(report.stream).toBe("globex");
    expect(report.checks[0]?.detail).toBe(`RSA 2048 from secret ${secret}`);
  });

  it("warns, naming the probe, when Object Lock keeps the probe's version (the check still passes)", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const bucket = uniqueName("locked");
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket, ObjectLockEnabledForBucket: true }));
    await clients.s3.send(
      new PutObjectLockConfigurationCommand({
        Bucket: bucket,
        ObjectLockConfiguration: {
          ObjectLockEnabled: "Enabled",
          Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 1 } },
        },
      }),
    );
    const storage = await createStorage(clients, { secret: fixture.keys.pkcs8Pem, bucket });

    const result = await deployedDoctor(fixture, storage);

    expect(result.code).toBe(0);
    expect(only(result.stdout, "lake")).toMatch(
      new RegExp(
        `^warn lake: s3://${bucket}/ is writable, but the probe s3://${bucket}/doctor/default-[0-9a-f]+\\.probe could not be removed`,
      ),
    );
    expect(result.stderr).toContain("note (lake): S3 DeleteObject of");
    expect(result.stderr).toContain("Object Lock may keep its version until its retention ends");
  });

  it("warns when another run holds the stream's lease in the state table", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const storage = await createStorage(clients, { secret: fixture.keys.pkcs8Pem });
    const { table } = storage;
    const until = Date.now() + 600_000;
    await clients.dynamo.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          streamId: { S: "default" },
          version: { N: "4" },
          totalEvents: { N: "120" },
          cursor: { S: "c-1" },
          leaseOwner: { S: "lambda-run-1" },
          leaseUntil: { N: String(until) },
        },
      }),
    );

    const result = await deployedDoctor(fixture, storage);

    expect(only(result.stdout, "state")).toBe(
      `warn state: stream "default" in DynamoDB table ${table}: 120 events stored; a run resumes from its committed ` +
        `cursor; lease held by lambda-run-1 until ${new Date(until).toISOString()}`,
    );
    expect(result.stderr).toContain("a run started now finds it held and does nothing");
    const item = await clients.dynamo.send(
      new GetItemCommand({ TableName: table, Key: { streamId: { S: "default" } } }),
    );
    expect(item.Item?.version?.N).toBe("4");
  });

  it("fails the key check of an empty secret with the command that stores the key", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const storage = await createStorage(clients);

    const result = await deployedDoctor(fixture, storage);

    expect(result.code).toBe(1);
    expect(statuses(result.stdout)).toEqual([
      ["FAIL", "key"],
      ["skip", "token"],
      ["skip", "userinfo"],
      ["ok", "state"],
      ["skip", "stream"],
      ["skip", "rate-limit"],
      ["ok", "lake"],
    ]);
    expect(result.stderr).toContain(
      `aws secretsmanager put-secret-value --secret-id ${storage.secretId} --secret-string file://private.pem`,
    );
  });

  it("fails the lake check for a bucket that does not exist, naming the stack output", async () => {
    const fixture = await cli.startSimulator({ events: 5 });
    const storage = await createStorage(clients, {
      secret: fixture.keys.pkcs8Pem,
      bucket: "no-such-bucket-doctor",
    });

    const result = await deployedDoctor(fixture, storage);

    expect(result.code).toBe(1);
    expect(only(result.stdout, "lake")).toMatch(
      /^FAIL lake: S3 PutObject of s3:\/\/no-such-bucket-doctor\/doctor\//,
    );
    expect(result.stderr).toContain("NoSuchBucket");
    expect(result.stderr).toContain("check the name (the stack's outputs) and AWS_REGION");
  });
});

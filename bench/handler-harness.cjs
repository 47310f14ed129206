// Invokes the bundled Lambda handler (BENCH_HANDLER_BUNDLE) once, as the Lambda runtime would: a fresh
// Node process, the AWS SDK resolved from outside the bundle (NODE_PATH), a 5-minute timeout. Prints
// the handler's result as the last stdout line, prefixed with BENCH_RESULT.
const started = Date.now();
const timeoutMs = Number(process.env.BENCH_TIMEOUT_MS || 300000);
const { handler } = require(process.env.BENCH_HANDLER_BUNDLE);
handler(
  {},
  {
    awsRequestId: `bench-${process.pid}`,
    getRemainingTimeInMillis: () => timeoutMs - (Date.now() - started),
  },
).then(
  (result) => {
    process.stdout.write(`BENCH_RESULT ${JSON.stringify(result)}\n`);
  },
  (error) => {
    process.stderr.write(`handler failed: ${error?.stack}\n`);
    process.exit(1);
  },
);

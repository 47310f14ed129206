import { describeError } from "../errors";
import { installLastResort } from "./last-resort";
import { main } from "./main";

/** The `monitor-lake` program (package.json `bin`, built to dist/cli.mjs by `npm run build`). */
installLastResort();
main(process.argv.slice(2), process.env).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`monitor-lake: unexpected error: ${describeError(error)}\n`);
    process.exitCode = 1;
  },
);

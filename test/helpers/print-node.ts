import { nodeReport } from "./pinned-node";

// `npm test` and `npm run bench` print this first: which Node.js runs them.
process.stdout.write(`${nodeReport()}\n`);

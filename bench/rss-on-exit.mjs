// Preloaded (--import) into a measured process: at exit, writes its peak resident set size (bytes)
// to the file named by BENCH_RSS_FILE. getrusage's ru_maxrss covers this process only.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS * 1024));
  });
}

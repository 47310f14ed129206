// Preloaded (--import) into a measured process: at exit, writes its peak resident set size (bytes)
// and the CPU time it used (user + system, microseconds) as JSON to the file named by BENCH_RSS_FILE.
// getrusage covers this process only.
import { writeFileSync } from "node:fs";

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on("exit", () => {
    const usage = process.resourceUsage();
    writeFileSync(
      file,
      JSON.stringify({ peakRss: usage.maxRSS * 1024, cpuUs: usage.userCPUTime + usage.systemCPUTime }),
    );
  });
}

// Loaded with --require into a measured process: on exit, writes its peak resident set (KB) to the
// file named by PEAK_RSS_FILE. Works wherever Node does, unlike GNU time.
const { writeFileSync } = require('node:fs');
process.on('exit', () => {
  if (process.env.PEAK_RSS_FILE) writeFileSync(process.env.PEAK_RSS_FILE, String(process.resourceUsage().maxRSS));
});

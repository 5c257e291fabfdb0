// Loaded with --import into a measured process: at exit, writes its peak resident set size (bytes)
// to the file BENCH_MAX_RSS_FILE names. The same for synapse and for the baseline it is compared with.
import {writeFileSync} from 'node:fs'

process.on('exit', () => {
  writeFileSync(process.env.BENCH_MAX_RSS_FILE, String(process.resourceUsage().maxRSS * 1024))
})

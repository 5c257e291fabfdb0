/**
 * `npm run bench`: synapse's store, chat turn and CLI against raw better-sqlite3, the bare `openai`
 * SDK and bare `node` on the same machine in the same run, as ratios with targets. A report, not a
 * test: it exits 0 whatever the verdicts, and fails only when it cannot measure.
 *
 *   node --import tsx bench/run.ts [--quick] [--json <file>]
 */
import {writeFileSync} from 'node:fs'
import {parseArgs} from 'node:util'

import {benchChat, type ChatShape} from './chat-scenario.js'
import {benchCompletion} from './completion-scenario.js'
import {makeSandbox, makeTemplate, type Template} from './fixtures.js'
import type {Plan} from './harness.js'
import type {Measurement} from './measurement.js'
import {benchMemory} from './memory-scenario.js'
import {benchRedisAppend, benchRedisLoad} from './redis-scenarios.js'
import {environment, header, jsonReport, notes, table} from './report.js'
import {benchStartup} from './startup-scenario.js'
import {benchSearch} from './search-scenario.js'
import {benchAppend, benchList, benchLoad, benchPrune} from './store-scenarios.js'

interface Profile {
  append: Plan & {batch: number}
  chat: Plan
  list: Plan
  load: Plan
  memory: Plan
  prune: Plan
  search: Plan
  startup: Plan
  tab: Plan
}

// The data sizes are the same in both profiles, so quick ratios are comparable with full ones; only
// the number and length of runs differ.
const PROFILES: Record<'full' | 'quick', Profile> = {
  full: {
    append: {batch: 300, repetitions: 15, warmup: 2},
    chat: {repetitions: 31, warmup: 3},
    list: {repetitions: 41, warmup: 5},
    load: {repetitions: 21, warmup: 3},
    memory: {repetitions: 7, warmup: 1},
    prune: {repetitions: 11, warmup: 2},
    search: {repetitions: 21, warmup: 3},
    startup: {repetitions: 11, warmup: 2},
    tab: {repetitions: 21, warmup: 2},
  },
  quick: {
    append: {batch: 100, repetitions: 5, warmup: 1},
    chat: {repetitions: 11, warmup: 2},
    list: {repetitions: 11, warmup: 2},
    load: {repetitions: 7, warmup: 1},
    memory: {repetitions: 3, warmup: 1},
    prune: {repetitions: 5, warmup: 1},
    search: {repetitions: 7, warmup: 1},
    startup: {repetitions: 5, warmup: 1},
    tab: {repetitions: 7, warmup: 1},
  },
}

const LOADED_MESSAGES = 10_000
const TEMPLATE = {messagesPerSession: 20, sessions: 1000}
const LISTED = 50
const KEPT = 100
const CLI_SESSIONS = 100
/** 100,000 messages in SQLite, a first page of 20 hits. */
const SEARCHED = {messagesPerSession: 20, page: 20, sessions: 5000}
/** A short real reply: 100 ms of streaming. */
const CHAT: ChatShape = {chunks: 40, delayMs: 2.5, history: 20}

const {values: args} = parseArgs({options: {json: {type: 'string'}, quick: {default: false, type: 'boolean'}}})
const mode = args.quick ? 'quick' : 'full'
const profile = PROFILES[mode]
const env = environment(mode)
const sandbox = makeSandbox()
process.once('SIGINT', () => {
  sandbox.cleanup()
  process.exit(130)
})

const template = () => (templatePromise ??= makeTemplate(sandbox.file('template.db'), TEMPLATE.sessions, TEMPLATE.messagesPerSession))
let templatePromise: Promise<Template> | undefined

// Each step measures one scenario; a step that cannot measure is reported and the others still run.
const steps: Array<[string, () => Promise<Measurement[]>]> = [
  ['append', async () => [await benchAppend(sandbox, profile.append, profile.append.batch)]],
  ['load', async () => Object.values(await benchLoad(sandbox, profile.load, LOADED_MESSAGES))],
  ['list', async () => [await benchList(sandbox, profile.list, await template(), LISTED)]],
  ['prune', async () => [await benchPrune(sandbox, profile.prune, await template(), KEPT)]],
  ['search', async () => Object.values(await benchSearch(sandbox, profile.search, SEARCHED))],
  // The Redis backend against raw node-redis on the machine's server (SYNAPSE_BENCH_REDIS_URL elsewhere).
  ['redis append', async () => [await benchRedisAppend(profile.append, profile.append.batch)]],
  ['redis load', async () => [await benchRedisLoad(profile.load, LOADED_MESSAGES)]],
  ['chat', async () => Object.values(await benchChat(sandbox, profile.chat, CHAT))],
  ['cold start', async () => Object.values(await benchStartup(sandbox, profile.startup, CLI_SESSIONS))],
  ['tab', async () => [await benchCompletion(sandbox, profile.tab, CLI_SESSIONS)]],
  ['memory', async () => [await benchMemory(sandbox, profile.memory)]],
]

const started = performance.now()
try {
  const measurements: Measurement[] = []
  const failures: string[] = []
  for (const [name, step] of steps) {
    process.stderr.write(`${name}...\n`)
    try {
      measurements.push(...(await step()))
    } catch (error) {
      failures.push(`- ${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`)
    }
  }
  // Targets first, information after.
  measurements.sort((a, b) => Number(!a.target) - Number(!b.target))

  const lines = [...header(env), '', ...table(measurements), '', ...notes(measurements)]
  if (failures.length > 0) lines.push('', 'could not measure:', ...failures)
  lines.push('', `took ${((performance.now() - started) / 1000).toFixed(1)} s`)
  process.stdout.write(`${lines.join('\n')}\n`)
  if (args.json) writeFileSync(args.json, jsonReport(env, measurements, failures))
  // A missed target is a finding (exit 0); a scenario that could not run is not a report.
  if (failures.length > 0) process.exitCode = 1
} finally {
  sandbox.cleanup()
}

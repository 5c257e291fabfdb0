import {spawn} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {join} from 'node:path'

import {FakeOpenAIServer} from '../test/fakes/openai-server.js'
import type {Sandbox} from './fixtures.js'
import {interleave, type Plan} from './harness.js'
import {type Measurement, memoryComparison} from './measurement.js'

const PROJECT_ROOT = join(import.meta.dirname, '..')
const RUN_JS = join(PROJECT_ROOT, 'bin', 'run.js')
const MAX_RSS = join(import.meta.dirname, 'max-rss.mjs')
const REPLY = 'A short reply, streamed in pieces.'

/**
 * Peak memory of `synapse PROMPT` as a person runs it once: a whole process (config, store opened and
 * migrated through TypeORM, the request through the openai SDK, the streamed reply saved) against the
 * fake OpenAI server on loopback, beside the peak of `node -e 0`. Each trial is a new session.
 */
export async function benchMemory(sandbox: Sandbox, plan: Plan): Promise<Measurement> {
  const server = await FakeOpenAIServer.start()
  try {
    server.setDefault({chunks: REPLY.split(/(?<= )/), type: 'reply'})
    const env = sandbox.env({DATABASE_URL: sandbox.file('memory.db'), OPENAI_API_KEY: 'sk-bench', OPENAI_BASE_URL: server.url})
    const report = sandbox.file('max-rss')
    const peak = async (args: string[], expect?: string) => {
      const {code, stderr, stdout} = await run(args, {...env, BENCH_MAX_RSS_FILE: report}, sandbox.root)
      if (code !== 0 || (expect !== undefined && stdout !== expect)) throw new Error(`${args.join(' ')} exited ${code}:\n${stdout}${stderr}`)
      return Number(readFileSync(report, 'utf8')) / 1024 / 1024
    }
    const timings = await interleave(
      {
        chat: () => peak(['--import', MAX_RSS, RUN_JS, 'Say something short'], `${REPLY}\n`),
        node: () => peak(['--import', MAX_RSS, '-e', '0']),
      },
      plan,
    )
    return memoryComparison({
      baseline: 'node -e 0',
      id: 'chat-memory',
      notes: ['peak RSS of a whole one-shot `synapse PROMPT` process (max RSS, from process.resourceUsage() at exit) against `node -e 0`'],
      operation: 'peak memory, one-shot chat turn vs `node -e 0`',
      target: {bound: 'max', mb: 70},
      timings: {raw: timings.node, synapse: timings.chat},
    })
  } finally {
    await server.close()
  }
}

function run(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<{code: null | number; stderr: string; stdout: string}> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {cwd, env, stdio: ['ignore', 'pipe', 'pipe']})
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', chunk => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', chunk => (stderr += chunk))
    child.on('error', reject)
    child.on('close', code => resolve({code, stderr, stdout}))
  })
}

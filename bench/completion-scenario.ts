import {spawnSync} from 'node:child_process'
import {chmodSync, mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {createDatabase, type Sandbox, seed} from './fixtures.js'
import {interleave, type Plan} from './harness.js'
import {type Measurement, timeComparison} from './measurement.js'

const PROJECT_ROOT = join(import.meta.dirname, '..')
const RUN_JS = join(PROJECT_ROOT, 'bin', 'run.js')
const TARGET_MS = 10

/**
 * A TAB on session ids as bash runs it: the completion function `synapse autocomplete bash` installs,
 * called in a bash that has sourced it, with COMP_WORDS and COMP_CWORD as readline sets them for
 * `synapse sessions show <TAB>`. Timed inside bash (EPOCHREALTIME around the call), so the shell's own
 * start is not counted: a person's shell is already running. From the completion cache, against the
 * same function with its cache reader switched off, which asks the hidden command as before.
 */
export async function benchCompletion(sandbox: Sandbox, plan: Plan, sessions: number): Promise<Measurement> {
  const database = sandbox.file('completion.db')
  await createDatabase(database)
  seed(database, {messagesPerSession: 2, now: Date.now(), sessions})
  const bin = join(sandbox.root, 'completion-bin')
  mkdirSync(bin, {recursive: true})
  writeFileSync(join(bin, 'synapse'), `#!/bin/sh\nexec '${process.execPath}' '${RUN_JS}' "$@"\n`)
  chmodSync(join(bin, 'synapse'), 0o755)
  const env = sandbox.env({DATABASE_URL: database, PATH: `${bin}:${process.env.PATH}`})
  // Where a person usually is; a directory that changes all the time (/tmp) would send every TAB to
  // the hidden command, since a project file could have appeared there.
  const home = env.HOME!
  const synapse = (args: string[]) => {
    const child = spawnSync(process.execPath, [RUN_JS, ...args], {cwd: home, encoding: 'utf8', env})
    if (child.status !== 0) throw new Error(`synapse ${args.join(' ')} exited ${child.status}: ${child.stderr}`)
    return child.stdout
  }
  synapse(['autocomplete', 'bash'])
  // What TAB must offer first; and the store command writes the cache.
  const newest = synapse(['autocomplete', 'values', 'sessions']).split('\n')[0]
  synapse(['sessions', 'list'])
  const script = join(sandbox.root, 'cache', 'synapse', 'autocomplete', 'functions', 'bash', 'synapse-values.bash')
  const tab = (fallback: boolean) => () => timeTab(script, env, home, fallback, newest)
  const timings = await interleave({cache: tab(false), command: tab(true)}, plan)
  return timeComparison({
    baseline: 'hidden command',
    id: 'tab-session-ids',
    notes: [
      `bash's completion function for \`synapse sessions show <TAB>\` on ${sessions} sessions, timed inside bash: from the completion cache vs asking \`synapse autocomplete values\` (the same function, its cache reader off)`,
    ],
    operation: 'TAB on session ids (bash): cache vs hidden command',
    target: {bound: 'max', ms: TARGET_MS},
    timings: {raw: timings.command, synapse: timings.cache},
  })
}

/** One TAB in a fresh bash that sourced the script; fails unless the most recent session is offered first. */
function timeTab(script: string, env: NodeJS.ProcessEnv, cwd: string, fallback: boolean, newest: string): number {
  const program = `source "$1"
${fallback ? '__synapse_cached() { return 1; }' : ''}
COMP_LINE='synapse sessions show '
COMP_POINT=\${#COMP_LINE}
COMP_WORDS=(synapse sessions show '')
COMP_CWORD=3
start=$EPOCHREALTIME
_synapse_values_complete synapse '' show
end=$EPOCHREALTIME
printf '%s\\n' "$start" "$end" "\${COMPREPLY[0]}"
`
  const child = spawnSync('bash', ['--norc', '--noprofile', '-c', program, 'bash', script], {cwd, encoding: 'utf8', env})
  const [start, end, first] = child.stdout.split('\n')
  if (child.status !== 0 || first !== newest) throw new Error(`the completion function offered ${JSON.stringify(first)}, not ${newest}: ${child.stderr}`)
  return (Number(end) - Number(start)) * 1000
}

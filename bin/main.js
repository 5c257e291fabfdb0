// What bin/run.js starts once it has checked the runtime: the CLI itself.
// Node caches compiled code across runs from 22.1 on; start-up is most of a short command's time.
import module from 'node:module'

import {isInformational, remember, situationOf} from './fast-start.js'

const root = `${import.meta.dirname}/..`
// For a command line that bin/run.js answers from a cache next time: the situation as it saw it,
// before the variables below are set.
const situation = isInformational(process.argv.slice(2), process.stdin.isTTY) ? situationOf(process.argv.slice(2), root) : undefined

module.enableCompileCache?.()
// The CLI runs from the esbuild bundle (scripts/build.mjs); its source maps point stack traces at src/.
if (process.env.DEBUG) process.setSourceMapsEnabled(true)

// oclif's check of Node against @oclif/core's own `engines` reads the package.json beside its files,
// which the bundle does not have, so from the bundle it can never warn; skipping it spares loading
// semver. synapse's own requirement is in package.json `engines`.
process.env.OCLIF_DISABLE_ENGINE_WARNING ??= '1'
// A linked plugin runs from its compiled JavaScript; oclif's warning that it cannot transpile one
// written as ESM would print on every command.
process.env.OCLIF_DISABLE_LINKED_ESM_WARNING ??= '1'

// @oclif/core from the bundle (scripts/build.mjs): the commands extend this same copy, and it loads
// as a few chunks instead of hundreds of files.
const {Config, execute, flush, handle, route, routingIO} = await import('../dist/cli/launcher.js')

// oclif has no default command: src/cli/routing.ts decides what a command line is. A prompt runs
// `chat` (`synapse Hello there`, `synapse -m gpt-4o Hi`, `git diff | synapse`); a near miss of a
// command (`synapse sesions list`) is asked about on a terminal and refused in a pipe, never sent.
// oclif's own: --help (and -h, package.json additionalHelpFlags) and --version; -v is chat's --verbose.
const ROOT_FLAGS = new Set(['--help', '-h', '--version'])
let argv = process.argv.slice(2)
const first = argv[0]
let loadOptions
let answer = () => execute({args: argv, dir: import.meta.url, loadOptions})
if (first === undefined ? !process.stdin.isTTY : !ROOT_FLAGS.has(first) || argv.includes('--json')) {
  loadOptions = await Config.load({root})
  argv = await route(argv, loadOptions, routingIO())
} else if (situation) {
  // What bin/run.js replays next time (bin/fast-start.js), from the very Config oclif answers with.
  const loadStartedMs = Date.now()
  loadOptions = await Config.load({root})
  const oclif = answer
  answer = () => remember(situation, loadOptions, loadStartedMs, oclif)
}

if (argv)
  await answer()
    .catch(async error => handle(error))
    .finally(() => flush())

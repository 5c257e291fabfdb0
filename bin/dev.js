#!/usr/bin/env node
// Runs the working tree, for development: `./bin/dev.js sessions list`. It rebuilds the bundle and
// the oclif manifest first (a few seconds; no type-check, that is `npm run typecheck`), then runs
// exactly what ships, bin/run.js over dist/: there is one build, so nothing to map back to src/.
import {execFileSync} from 'node:child_process'
import {fileURLToPath} from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
// The manifest tool reports on stdout, which belongs to the command about to run (--json).
const quiet = {cwd: root, stdio: ['ignore', 'ignore', 'inherit']}
execFileSync(process.execPath, ['scripts/build.mjs'], quiet)
execFileSync(process.execPath, ['node_modules/oclif/bin/run.js', 'manifest'], quiet)
await import('./run.js')

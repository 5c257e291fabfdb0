#!/usr/bin/env node
// The launcher checks what must hold before anything heavy loads, then imports bin/main.js.
// Written for old runtimes on purpose (no ?., ??, top-level await or static import): on a Node too
// old for synapse it still has to parse, and print the one line below rather than a SyntaxError or
// the crash better-sqlite3 13 makes on Node 20.
// better-sqlite3 13's prebuilt addon is built for Node-API 10, which Node has from 22.14 and, on the
// 23 line, from 23.6: on a Node without it (22.13 has Node-API 9) it loads, then the first database it
// opens kills the process with SIGSEGV. Hence the Node-API check beside the version (package.json
// `engines` says the same).
var REQUIRED = [22, 14]
var REQUIRED_NODE_API = 10
var found = process.versions.node
var parts = found.split('.').map(Number)
var tooOld = parts[0] < REQUIRED[0] || (parts[0] === REQUIRED[0] && parts[1] < REQUIRED[1])
var line23 = parts[0] === 23 ? ' (on the 23 line, 23.6 or later)' : ''
if (tooOld || !(Number(process.versions.napi) >= REQUIRED_NODE_API)) {
  process.stderr.write(
    `Error: synapse needs Node.js ${REQUIRED.join('.')} or later${line23}, and ${process.execPath} is Node.js ${found}. Install a current one from https://nodejs.org (or \`nvm install 24\`) and run synapse with it.\n`,
  )
  process.exit(1)
}

// Ctrl-C before a command has installed handling of its own (chat's saves the reply so far, the
// REPL's stays open) ends the run as every interrupted run ends: one line, exit 130. Without this,
// a Ctrl-C during start-up would kill the process by the signal, with no message.
process.on('SIGINT', function interruptedBeforeAnyHandler() {
  if (process.listenerCount('SIGINT') > 1) return
  process.stderr.write('Interrupted.\n')
  process.exit(130)
})

// stdout closed by its reader (`synapse sessions list | head -1`, a pager quit early): stop at once
// and quietly, as a program killed by SIGPIPE does; 141 is the code a shell shows for one. Output that
// cannot be written at all (`> /dev/full`, a full disk) is one error line and exit 1, as any failure.
function startCli() {
  process.stdout.on('error', error => {
    // A reader gone is EPIPE for a pipe, and can be ECONNRESET for a socket (what a parent process's pipe often is).
    if (error.code === 'EPIPE' || error.code === 'ECONNRESET') process.exit(141)
    const why = error.code === 'ENOSPC' ? 'no space is left on the disk' : error.message
    process.stderr.write(`Error: Cannot write the output: ${why}.\n  → Send it somewhere with room (a file on another disk, a pipe).\n`)
    process.exit(1)
  })
  return import('./main.js')
}

// `--version` and `--help` are answered from what oclif printed last time, when nothing it depends on
// has changed since (bin/fast-start.js); anything else, or a miss, starts the CLI.
var args = process.argv.slice(2)
if (args.length > 1) startCli()
else
  import('./fast-start.js').then(fastStart => {
    if (!fastStart.replay(args, `${import.meta.dirname}/..`)) return startCli()
  })

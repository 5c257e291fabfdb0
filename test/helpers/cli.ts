import {run as runOclif} from '@oclif/core'
import {captureOutput} from '@oclif/test'
import {PROJECT_ROOT} from '../../src/testing/synapse-process.js'
import {enterSandbox, type Sandbox} from './sandbox.js'

// In-process runs use the bundle the CLI ships (dist/), never the TypeScript sources: tsx is
// loaded in the test process, and oclif would otherwise go looking for src/ twins of dist/ paths.
const oclifSettings = globalThis as typeof globalThis & {oclif?: Record<string, unknown>}
// oclif keeps a reference to this object once loaded: change it in place.
;(oclifSettings.oclif ??= {}).enableAutoTranspile = false

export {PROJECT_ROOT, RUN_JS} from '../../src/testing/synapse-process.js'

export interface CommandOutcome<T = unknown> {
  exitCode: number
  result: T | undefined
  stderr: string
  stdout: string
}

/**
 * Runs a command in this process, as oclif would from the shell, inside the sandbox's environment,
 * and reports the exit code the process would have ended with.
 */
export async function run<T = unknown>(sandbox: Sandbox, args: string[], options: {stdinIsTTY?: boolean} = {}): Promise<CommandOutcome<T>> {
  const leave = enterSandbox(sandbox)
  const savedTTY = process.stdin.isTTY
  process.stdin.isTTY = options.stdinIsTTY ?? false
  const savedExitCode = process.exitCode
  process.exitCode = undefined
  try {
    // @oclif/test's runCommand joins and re-splits argv on spaces; the core entry point keeps it intact.
    const {error, result, stderr, stdout} = await captureOutput<T>(async () => runOclif(args, {root: PROJECT_ROOT}) as Promise<T>)
    const exitCode = error ? ((error as {oclif?: {exit?: number}}).oclif?.exit ?? 1) : Number(process.exitCode ?? 0)
    return {exitCode, result, stderr, stdout}
  } finally {
    process.exitCode = savedExitCode
    process.stdin.isTTY = savedTTY
    leave()
  }
}

import {spawnSync} from 'node:child_process'

const reportedMissing = new Set<string>()

/**
 * Checks that a program the tests drive is installed. On CI (CI set) a missing one fails the test:
 * .ci/run installs zsh, tmux and chromium (Debian's packages); bash and util-linux's `script` are on every Debian machine.
 * Elsewhere the tests that need it are pending, with the reason said once, so that `npm test` passes
 * on a machine without zsh, tmux or chromium.
 */
export function requireProgram(context: Mocha.Context, program: string): void {
  if (spawnSync('sh', ['-c', `command -v ${program}`]).status === 0) return
  const remedy = `apt-get install -y ${program}`
  if (process.env.CI) throw new Error(`${program} is not installed; .ci/run installs what the tests need (${remedy}).`)
  if (!reportedMissing.has(program)) {
    reportedMissing.add(program)
    console.log(`      (pending: ${program} is not installed, so its tests do not run; ${remedy} to run them, and CI=true makes this a failure)`)
  }

  context.skip()
}

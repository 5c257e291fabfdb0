import {expect} from 'chai'
import {spawnSync} from 'node:child_process'
import {realpathSync} from 'node:fs'

import {PROJECT_ROOT} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {DENO, synapse, SynapseProcess, testRuntime} from '../helpers/spawn.js'

/** What only the Deno pass checks; the end-to-end files it runs again check the rest. */
describe('under Deno', function () {
  this.timeout(30_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = makeSandbox({OPENAI_API_KEY: 'sk-unused'})
  })
  afterEach(() => sandbox.cleanup())

  it('the spawned synapse runs in the deno devDependency', async () => {
    expect(testRuntime().name).to.equal('deno')
    // A REPL waiting on its input stays up to be looked at; /proc/<pid>/exe is the executable the
    // process runs, whatever started it.
    const repl = new SynapseProcess(sandbox, ['-r'])
    await repl.waitForStdout('synapse · session')
    expect(realpathSync(`/proc/${repl.child.pid}/exe`)).to.equal(realpathSync(DENO))
    repl.child.stdin.end()
    expect((await repl.exited).code).to.equal(0)
  })

  it('`deno task synapse` (deno.jsonc) runs the CLI from the checkout', async () => {
    const task = spawnSync(DENO, ['task', '--quiet', 'synapse', 'sessions', 'new', '--title', 'from a task'], {
      cwd: PROJECT_ROOT,
      encoding: 'utf8',
      env: {...sandbox.env, ...testRuntime().env},
    })
    expect(task.stderr).to.equal('')
    expect(task.status).to.equal(0)
    const id = task.stdout.trim()
    expect(id).to.match(/^[0-9A-Z]{26}$/)
    const listed = await synapse(sandbox, ['sessions', 'list'])
    expect(listed.stdout.split('\t').slice(0, 2)).to.deep.equal([id, 'from a task'])
  })
})

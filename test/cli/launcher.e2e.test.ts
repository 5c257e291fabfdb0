import {expect} from 'chai'
import {spawn, spawnSync} from 'node:child_process'
import {accessSync, constants, readFileSync} from 'node:fs'
import {delimiter, join} from 'node:path'
import {pathToFileURL} from 'node:url'

import {FakeOpenAIServer} from '../fakes/openai-server.js'
import {PROJECT_ROOT, RUN_JS} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'

/** A Node on PATH outside the project's node_modules/.bin (which holds the `node` devDependency). */
function systemNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '' || dir.includes(join('node_modules', '.bin'))) continue
    const candidate = join(dir, 'node')
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {}
  }

  return undefined
}

describe('bin/run.js, the launcher (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  beforeEach(() => {
    sandbox = makeSandbox()
  })
  afterEach(() => sandbox.cleanup())

  describe('on a Node older than 22.14', () => {
    let oldNode: string

    before(function () {
      const node = systemNode()
      const version = node === undefined ? undefined : spawnSync(node, ['-p', 'process.versions.node'], {encoding: 'utf8'}).stdout.trim()
      const [major, minor] = (version ?? '0.0').split('.').map(Number)
      if (node !== undefined && (major < 22 || (major === 22 && minor < 14))) {
        oldNode = node
        return
      }

      const reason = node === undefined ? 'no Node outside node_modules/.bin' : `the machine's Node (${node}) is ${version}, not older than 22.14`
      // CI's machines have Node 20: there this must run.
      if (process.env.CI) throw new Error(`${reason}: CI needs an old Node for this test`)
      console.log(`      (pending: ${reason})`)
      this.skip()
    })

    for (const args of [['--version'], ['sessions', 'list'], ['Hello']]) {
      it(`says which Node it needs and which it found, and exits 1: synapse ${args.join(' ')}`, () => {
        const {status, stderr, stdout} = spawnSync(oldNode, [RUN_JS, ...args], {encoding: 'utf8', env: sandbox.env, input: ''})
        const found = spawnSync(oldNode, ['-p', 'process.versions.node'], {encoding: 'utf8'}).stdout.trim()
        expect({status, stdout}).to.deep.equal({status: 1, stdout: ''})
        expect(stderr).to.equal(
          `Error: synapse needs Node.js 22.14 or later, and ${oldNode} is Node.js ${found}. Install a current one from https://nodejs.org (or \`nvm install 24\`) and run synapse with it.\n`,
        )
      })
    }
  })

  // better-sqlite3 13's addon needs Node-API 10: Node 22.13 (Node-API 9) passed the old check, then
  // died with SIGSEGV (exit 139) on the first command that opened the database.
  describe('on a Node without the Node-API better-sqlite3 13 is built for', () => {
    const preload = join(PROJECT_ROOT, 'test', 'fixtures', 'pretend-node-version.mjs')
    const cases = [
      {node: '22.13.0', napi: '9', needs: '22.14 or later'},
      {node: '23.5.0', napi: '9', needs: '22.14 or later (on the 23 line, 23.6 or later)'},
    ]
    for (const {napi, needs, node} of cases) {
      it(`refuses Node ${node} (Node-API ${napi}) in one line, exit 1, before opening the database`, () => {
        const {status, stderr, stdout} = spawnSync(process.execPath, ['--import', preload, RUN_JS, 'sessions', 'list'], {
          encoding: 'utf8',
          env: {...sandbox.env, PRETEND_NODE: node, PRETEND_NODE_API: napi},
          input: '',
        })
        expect({status, stderr, stdout}).to.deep.equal({
          status: 1,
          stderr: `Error: synapse needs Node.js ${needs}, and ${process.execPath} is Node.js ${node}. Install a current one from https://nodejs.org (or \`nvm install 24\`) and run synapse with it.\n`,
          stdout: '',
        })
      })
    }

    it('runs on Node 22.14 (Node-API 10), the oldest it supports', () => {
      const {status, stderr, stdout} = spawnSync(process.execPath, ['--import', preload, RUN_JS, 'sessions', 'list'], {
        encoding: 'utf8',
        env: {...sandbox.env, PRETEND_NODE: '22.14.0', PRETEND_NODE_API: '10'},
        input: '',
      })
      expect({status, stderr, stdout}).to.deep.equal({status: 0, stderr: '', stdout: ''})
    })

    it('asks for the same Node in package.json engines', () => {
      const manifest = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {engines: {node: string}}
      expect(manifest.engines.node).to.equal('^22.14.0 || >=23.6.0')
    })
  })

  describe('Ctrl-C during start-up', () => {
    let server: FakeOpenAIServer

    beforeEach(async () => {
      server = await FakeOpenAIServer.start()
    })
    afterEach(async () => server.close())

    // From the moment bin/run.js listens for SIGINT (its first lines; a preload reports it on fd 3)
    // to well into loading oclif, the config, the store and the provider. The server never answers,
    // so the run is still going whenever the signal comes. Node only: the preload is Node's --import.
    for (const afterMs of [0, 5, 20, 60, 150, 400]) {
      it(`prints one line and exits 130 when interrupted ${afterMs} ms after it starts listening for the signal`, async () => {
        for (let i = 0; i < 2; i++) server.enqueue({type: 'no-response'})
        const preload = join(PROJECT_ROOT, 'test', 'fixtures', 'report-sigint-handler.mjs')
        const child = spawn(process.execPath, ['--import', preload, RUN_JS, 'A question'], {
          env: {...sandbox.env, OPENAI_API_KEY: 'sk-test', OPENAI_BASE_URL: server.url},
          stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
        })
        child.stdin!.end()
        let stderr = ''
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
        const exited = new Promise<{code: null | number; signal: NodeJS.Signals | null}>(resolve =>
          child.on('close', (code, signal) => resolve({code, signal})),
        )
        const report = child.stdio[3] as NodeJS.ReadableStream
        const listener = await new Promise<string>((resolve, reject) => {
          report.once('data', (line: Buffer) => resolve(line.toString().trim()))
          child.once('exit', () => reject(new Error(`synapse exited before listening for SIGINT; stderr: ${stderr}`)))
        })

        expect(listener).to.equal(pathToFileURL(RUN_JS).href)
        await new Promise(resolve => setTimeout(resolve, afterMs))
        child.kill('SIGINT')
        const {code, signal} = await exited
        expect({code, signal}).to.deep.equal({code: 130, signal: null})
        expect(stderr).to.match(/^Interrupted[ .;][^\n]*\n$/)
      })
    }
  })
})

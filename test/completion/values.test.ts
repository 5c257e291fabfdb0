import {expect} from 'chai'
import {existsSync, mkdirSync, writeFileSync} from 'node:fs'

import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {run} from '../helpers/cli.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {
  CONTROL_MODELS,
  databasePath,
  DAYS_AGO,
  expectedModels,
  HOSTILE_MODELS,
  seedHostileSessions,
  seedSessions,
  SESSIONS,
  SHORT_IDS_BY_RECENCY,
} from './fixtures.js'

const lines = (stdout: string) => stdout.split('\n').filter(Boolean)

describe('autocomplete values', function () {
  this.timeout(60_000)
  let sandbox: Sandbox

  afterEach(() => sandbox.cleanup())

  describe('sessions', () => {
    beforeEach(async () => {
      sandbox = makeSandbox()
      await seedSessions(sandbox)
    })

    it('prints short ids, most recently updated first', async () => {
      const {exitCode, stderr, stdout} = await run(sandbox, ['autocomplete', 'values', 'sessions'])
      expect({exitCode, stderr}).to.deep.equal({exitCode: 0, stderr: ''})
      expect(stdout).to.equal(SHORT_IDS_BY_RECENCY.map(id => `${id}\n`).join(''))
    })

    it('keeps to a prefix, in the case it was typed', async () => {
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions', '01JX4R'])).stdout).to.equal('01JX4R7C\n01JX4R7D\n')
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions', '01jx5aaa'])).stdout).to.equal('01jx5aaay\n01jx5aaax\n')
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions', '01JX9'])).stdout).to.equal('')
    })

    it('offers, for a typed prefix, the titles that start with it: case-sensitively, each once, after the ids', async () => {
      await (async () => {
        const store = await openSqliteStore({path: databasePath(sandbox)})
        try {
          await store.create({title: 'Alpha'})
          await store.create({title: '01JX4R notes'})
        } finally {
          await store.close()
        }
      })()
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions', 'Al'])).stdout).to.equal('Alpha\n')
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions', 'al'])).stdout).to.equal('')
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions', '01JX4R'])).stdout).to.equal('01JX4R7C\n01JX4R7D\n01JX4R notes\n')
      const described = lines((await run(sandbox, ['autocomplete', 'values', 'sessions', '--describe', 'Be'])).stdout)
      expect(described).to.deep.equal(['Beta\t01JX4R7C (1 h ago)'])
      // A bare TAB offers ids alone.
      expect(lines((await run(sandbox, ['autocomplete', 'values', 'sessions'])).stdout)).to.have.length(7)
    })

    it('gives the full id once the prefix is longer than the short id', async () => {
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'sessions', SESSIONS.B.id.slice(0, 10)])
      expect(stdout).to.equal(`${SESSIONS.B.id}\n`)
    })

    it('describes each session by its title, or its first question, and its age (--describe)', async () => {
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'sessions', '--describe'])
      expect(lines(stdout)).to.deep.equal([
        '01JX5AAAY\tEpsilon (10 min ago)',
        '01JX4R7C\tBeta (1 h ago)',
        '01JX4R7D\tGamma question with two lines (2 d ago)',
        '01JX5AAAX\tDelta (3 d ago)',
        '01JX4Q2B\tAlpha (5 d ago)',
      ])
    })

    it('returns the candidates under --json', async () => {
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'sessions', '01JX4Q', '--json'])
      expect(JSON.parse(stdout)).to.deep.equal([{description: 'Alpha (5 d ago)', value: '01JX4Q2B'}])
    })

    it('applies no retention: a TAB deletes nothing, even with auto_cleanup on', async () => {
      const old = {ago: DAYS_AGO(30), id: `01JW${'0'.repeat(21)}Z`, title: 'Old'}
      const strict = makeSandbox({SYNAPSE_MAX_SESSIONS: '2', SYNAPSE_RETENTION_DAYS: '7'})
      try {
        await seedSessions(strict, [old])
        const {stdout} = await run(strict, ['autocomplete', 'values', 'sessions'])
        expect(lines(stdout)).to.deep.equal([...SHORT_IDS_BY_RECENCY, old.id.slice(0, 8)])
        const store = await openSqliteStore({path: databasePath(strict)})
        try {
          expect(await store.count()).to.equal(6)
        } finally {
          await store.close()
        }
      } finally {
        strict.cleanup()
      }
    })
  })

  describe('models and providers', () => {
    beforeEach(() => {
      sandbox = makeSandbox()
    })

    it('prints every provider’s models, then those saved sessions use', async () => {
      await seedSessions(sandbox)
      const {exitCode, stderr, stdout} = await run(sandbox, ['autocomplete', 'values', 'models'])
      expect({exitCode, stderr}).to.deep.equal({exitCode: 0, stderr: ''})
      expect(lines(stdout)).to.deep.equal(await expectedModels())
    })

    it('puts the configured model first and keeps to a prefix, case-sensitively', async () => {
      const configured = makeSandbox({SYNAPSE_MODEL: 'llama3.2:1b'})
      try {
        await seedSessions(configured)
        const {stdout} = await run(configured, ['autocomplete', 'values', 'models', 'llama3', '--describe'])
        expect(lines(stdout)).to.deep.equal(['llama3.2:1b\tconfigured', 'llama3.2:latest\topenai, used in a session'])
        expect((await run(configured, ['autocomplete', 'values', 'models', 'GPT'])).stdout).to.equal('')
      } finally {
        configured.cleanup()
      }
    })

    it('names a provider once for a model it lists that a session of it uses too', async () => {
      await seedSessions(sandbox)
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'models', 'gpt-4o', '--describe'])
      // SESSIONS.A uses openai's gpt-4o.
      expect(lines(stdout)[0]).to.equal('gpt-4o\topenai, used in a session')
    })

    it('lists models without a database, and creates none', async () => {
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'models', 'gpt-4o'])
      expect(lines(stdout)).to.deep.equal((await expectedModels()).filter(m => m.startsWith('gpt-4o') && !m.includes(':')))
      expect((await run(sandbox, ['autocomplete', 'values', 'sessions'])).stdout).to.equal('')
      expect(existsSync(databasePath(sandbox))).to.equal(false)
    })

    it('offers names with shell syntax in them as they are (the scripts quote them), never names with control characters', async () => {
      await seedSessions(sandbox)
      await seedHostileSessions(sandbox)
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'models', 'evil'])
      expect(lines(stdout)).to.have.members(Object.values(HOSTILE_MODELS))
      expect(stdout).not.to.match(/[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/)
      const json = JSON.parse((await run(sandbox, ['autocomplete', 'values', 'models', '--json'])).stdout) as Array<{value: string}>
      for (const model of CONTROL_MODELS) expect(json.map(c => c.value)).not.to.include(model)
    })

    it('describes a session whose title holds escape sequences with them made visible', async () => {
      await seedSessions(sandbox)
      await seedHostileSessions(sandbox)
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'sessions', '01JX6', '--describe'])
      expect(stdout).to.equal(`01JX6ZZZ\t${String.raw`Zeta \x1b]0;pwned\x07\x1b[2J (just now)`}\n`)
    })

    it('prints provider names', async () => {
      const {stdout} = await run(sandbox, ['autocomplete', 'values', 'providers', 'open', '--describe'])
      expect(lines(stdout)).to.have.length(1)
      expect(lines(stdout)[0]).to.match(/^openai\tOpenAI/)
    })
  })

  describe('failures', () => {
    beforeEach(() => {
      sandbox = makeSandbox()
    })

    const silent = {exitCode: 0, stderr: '', stdout: ''}

    it('prints nothing and exits 0 for a database it cannot read', async () => {
      mkdirSync(sandbox.configDir, {recursive: true})
      writeFileSync(databasePath(sandbox), 'not a database, only text '.repeat(200))
      const {exitCode, stderr, stdout} = await run(sandbox, ['autocomplete', 'values', 'sessions'])
      expect({exitCode, stderr, stdout}).to.deep.equal(silent)
    })

    it('prints nothing and exits 0 for a storage URL nothing serves', async () => {
      const elsewhere = makeSandbox({DATABASE_URL: 'nosuch://host/db'})
      try {
        const {exitCode, stderr, stdout} = await run(elsewhere, ['autocomplete', 'values', 'sessions'])
        expect({exitCode, stderr, stdout}).to.deep.equal(silent)
      } finally {
        elsewhere.cleanup()
      }
    })

    it('prints nothing and exits 0 for a config file it cannot parse', async () => {
      mkdirSync(sandbox.configDir, {recursive: true})
      writeFileSync(`${sandbox.configDir}/config.toml`, '[session\nmax_sessions = "many"\n')
      const {exitCode, stderr, stdout} = await run(sandbox, ['autocomplete', 'values', 'models'])
      expect({exitCode, stderr, stdout}).to.deep.equal(silent)
    })

    it('prints nothing and exits 0 for a kind it does not know, or no kind', async () => {
      for (const args of [
        ['autocomplete', 'values', 'colours'],
        ['autocomplete', 'values'],
        ['autocomplete', 'values', 'sessions', '--bogus'],
      ]) {
        const {exitCode, stderr, stdout} = await run(sandbox, args)
        expect({args, exitCode, stderr, stdout}).to.deep.equal({args, ...silent})
      }
    })

    it('is hidden from help', async () => {
      const {stdout} = await run(sandbox, ['autocomplete', '--help'])
      expect(stdout).to.not.contain('values')
    })
  })
})

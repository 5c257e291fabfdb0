import {expect} from 'chai'
import {chmodSync, existsSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import type {Message} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {Terminal} from '../helpers/terminal.js'

const API_KEY = 'sk-test-5f3c9a1e'

/**
 * Retry, edit and undo end to end: bin/run.js as a child process against the fake OpenAI server,
 * checking what each request carried and what the SQLite file holds afterwards.
 */
describe('retry, edit and undo (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  useOpenAISandbox({apiKey: API_KEY}, made => ({sandbox, server} = made))

  /** Every message of the only session, as `content` or `content (hidden → content of what replaced it)`. */
  async function stored(): Promise<string[]> {
    const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
    try {
      const [session] = await store.list()
      const messages = await store.messages(session.id)
      const byId = new Map(messages.map(m => [m.id, m]))
      const mark = (m: Message) =>
        m.hiddenAt === null ? '' : m.supersededBy === null ? ' (undone)' : ` (replaced by ${byId.get(m.supersededBy)?.content ?? m.supersededBy})`
      return messages.map(m => `${m.content}${mark(m)}`)
    } finally {
      await store.close()
    }
  }

  function sent(index = -1): string[] {
    return server.chatRequests.at(index)!.chat!.messages.map(m => `${m.role}: ${m.content}`)
  }

  async function ok(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
    const {code, stderr, stdout} = await synapse(sandbox, args, {env})
    expect(stderr).to.equal('')
    expect(code).to.equal(0)
    return stdout
  }

  /** Two answered questions in one session. */
  async function twoExchanges(): Promise<void> {
    server.reply(['a1'])
    await ok(['q1'])
    server.reply(['a2'])
    await ok(['-c', 'q2'])
  }

  /** An $EDITOR: a script that records the file's mode, path and text, then writes `text` into it. */
  function editorWriting(text: string): string {
    const script = join(sandbox.root, 'editor.sh')
    const log = join(sandbox.root, 'editor.log')
    writeFileSync(script, `#!/bin/sh\nstat -c %a "$1" > '${log}'\necho "$1" >> '${log}'\ncat "$1" >> '${log}'\nprintf '%s\\n' '${text}' > "$1"\n`)
    chmodSync(script, 0o755)
    return script
  }

  function editorLog(): {mode: string; path: string; text: string} {
    const [mode, path, ...text] = readFileSync(join(sandbox.root, 'editor.log'), 'utf8').split('\n')
    return {mode, path, text: text.join('\n')}
  }

  describe('synapse -c --retry', () => {
    it('asks the last question again with only what came before it, and the new reply replaces the old', async () => {
      await twoExchanges()
      server.reply(['a2, again'])
      expect(await ok(['-c', '--retry'])).to.equal('a2, again\n')
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2'])
      expect(await stored()).to.deep.equal(['q1', 'a1', 'q2', 'a2 (replaced by a2, again)', 'a2, again'])
      server.reply(['a3'])
      await ok(['-c', 'q3'])
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2', 'assistant: a2, again', 'user: q3'])
    })

    it('reports what it replaced under --json', async () => {
      await twoExchanges()
      server.reply(['again'])
      const result = JSON.parse(await ok(['-c', '--retry', '--json']))
      const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
      const messages = await store.messages(result.sessionId)
      await store.close()
      expect(result).to.deep.include({reply: 'again', replaced: {reply: messages[3].id}, status: 'complete'})
    })

    it('keeps the old reply when the provider fails, writing nothing', async () => {
      await twoExchanges()
      server.fail(400, 'The request is refused')
      const {code, stderr, stdout} = await synapse(sandbox, ['-c', '--retry'])
      expect(code).to.equal(1)
      expect(stdout).to.equal('')
      expect(stderr).to.match(/^Error: /)
      expect(await stored()).to.deep.equal(['q1', 'a1', 'q2', 'a2'])
    })

    it('needs a session, and takes no prompt', async () => {
      for (const [args, error] of [
        [['--retry'], 'Error: --retry works on a session: add -c (the most recent) or -s <id>.'],
        [['--undo'], 'Error: --undo works on a session: add -c (the most recent) or -s <id>.'],
        [['-c', '--retry', 'again'], 'Error: --retry takes no prompt.'],
      ] as const) {
        const {code, stderr} = await synapse(sandbox, [...args])
        expect(stderr.split('\n')[0]).to.equal(error)
        expect(stderr.split('\n')[1]).to.match(/^ {2}→ /)
        expect(code).to.equal(2)
      }
      expect(server.chatRequests.length).to.equal(0)
    })
  })

  describe('synapse -c --edit', () => {
    it('sends the prompt given in place of the last question', async () => {
      await twoExchanges()
      server.reply(['a2 edited'])
      const session = (await stored()) && (await synapse(sandbox, ['sessions', 'list', '--json'])).stdout
      const [{id}] = JSON.parse(session)
      expect(await ok(['-s', id.slice(0, 10), '--edit', 'q2, shorter'])).to.equal('a2 edited\n')
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2, shorter'])
      expect(await stored()).to.deep.equal(['q1', 'a1', 'q2 (replaced by q2, shorter)', 'a2 (replaced by a2 edited)', 'q2, shorter', 'a2 edited'])
    })

    it('opens $VISUAL before $EDITOR on the last question, in a private file removed afterwards', async () => {
      await twoExchanges()
      server.reply(['a2 rewritten'])
      expect(await ok(['-c', '--edit'], {EDITOR: 'false', VISUAL: editorWriting('q2, rewritten')})).to.equal('a2 rewritten\n')
      const log = editorLog()
      expect(log.mode).to.equal('600')
      expect(log.text).to.equal('q2\n')
      expect(existsSync(log.path)).to.equal(false)
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2, rewritten'])
      expect(await stored()).to.deep.equal(['q1', 'a1', 'q2 (replaced by q2, rewritten)', 'a2 (replaced by a2 rewritten)', 'q2, rewritten', 'a2 rewritten'])
    })

    it('sends nothing for an unchanged or empty edit, or without an editor, and says so', async () => {
      await twoExchanges()
      const cases: Array<[NodeJS.ProcessEnv, string]> = [
        [{EDITOR: 'true', VISUAL: ''}, 'Error: The prompt is unchanged; nothing was sent.'],
        [{EDITOR: editorWriting('   '), VISUAL: ''}, 'Error: The edited prompt is empty; nothing was sent.'],
        [{EDITOR: '', VISUAL: ''}, 'Error: No editor to open: neither $VISUAL nor $EDITOR is set.'],
        [{EDITOR: 'exit 3', VISUAL: ''}, 'Error: The editor ($EDITOR: exit 3) exited with status 3; nothing was sent.'],
      ]
      for (const [env, error] of cases) {
        const {code, stderr, stdout} = await synapse(sandbox, ['-c', '--edit'], {env})
        expect(stdout).to.equal('')
        expect(stderr.split('\n')[0]).to.equal(error)
        expect(stderr.split('\n')[1]).to.match(/^ {2}→ /)
        expect(code).to.equal(1)
      }
      expect(server.chatRequests.length).to.equal(2)
      expect(await stored()).to.deep.equal(['q1', 'a1', 'q2', 'a2'])
    })
  })

  describe('synapse -c --undo', () => {
    it('takes the last exchange out of the conversation, keeping it stored, with no request and no key', async () => {
      await twoExchanges()
      const out = await ok(['-c', '--undo'], {OPENAI_API_KEY: ''})
      expect(out).to.match(
        /^Took the last question and its reply out of session [0-9A-Z]{26}: "q2"\.\nStill stored; "synapse sessions show [0-9A-Z]{26} --all" shows them\.\n$/,
      )
      expect(await stored()).to.deep.equal(['q1', 'a1', 'q2 (undone)', 'a2 (undone)'])
      server.reply(['a3'])
      await ok(['-c', 'q3'])
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q3'])
      const undone = JSON.parse(await ok(['-c', '--undo', '--json']))
      expect(undone.undone.map((m: {content: string; hiddenAt: string; supersededBy: null}) => [m.content, typeof m.hiddenAt, m.supersededBy])).to.deep.equal([
        ['q3', 'string', null],
        ['a3', 'string', null],
      ])
      await ok(['-c', '--undo'])
      const {code, stderr} = await synapse(sandbox, ['-c', '--undo'])
      expect(stderr.split('\n')[0]).to.equal('Error: There is nothing to undo: the conversation has no question in it.')
      expect(code).to.equal(1)
    })
  })

  describe('sessions show, export and import', () => {
    it('hides what was replaced or undone, and --all shows it marked, with what replaced it', async () => {
      await twoExchanges()
      server.reply(['a2, again'])
      await ok(['-c', '--retry'])
      server.reply(['a3'])
      await ok(['-c', 'q3'])
      await ok(['-c', '--undo'])
      const [{id}] = JSON.parse(await ok(['sessions', 'list', '--json']))
      const shown = (await ok(['sessions', 'show', id])).split('\n')
      expect(shown[1]).to.match(/ · 4 messages · 3 more taken out of the conversation \(--all shows them\)$/)
      expect(shown.filter(line => /^(user|assistant)/.test(line)).map(line => line.split(' ')[0])).to.deep.equal(['user', 'assistant', 'user', 'assistant'])
      expect(shown.filter(line => /^(q|a)\d/.test(line))).to.deep.equal(['q1', 'a1', 'q2', 'a2, again'])

      const all = (await ok(['sessions', 'show', id, '--all'])).split('\n')
      expect(all[1]).to.match(/ · 7 messages · 3 taken out of the conversation$/)
      const headers = all.filter(line => /^(user|assistant)/.test(line))
      // Each with its position, as stored: #3 is the reply the retry replaced, #5 and #6 the exchange undone.
      expect(headers[3]).to.match(/^assistant · #3 · gpt-5\.4-mini · .* · replaced by "a2, again"$/)
      expect(headers[5]).to.match(/^user · #5 · undone \d{4}-\d\d-\d\d \d\d:\d\d$/)
      expect(headers[6]).to.match(/^assistant · #6 · gpt-5\.4-mini · .* · undone /)
      expect(all.filter(line => /^(q|a)\d/.test(line))).to.deep.equal(['q1', 'a1', 'q2', 'a2', 'a2, again', 'q3', 'a3'])
      expect(JSON.parse(await ok(['sessions', 'show', id, '--json'])).messages.length).to.equal(4)
      expect(JSON.parse(await ok(['sessions', 'show', id, '--all', '--json'])).messages.length).to.equal(7)
    })

    it('exports replaced messages with their marks, and an import keeps them out of the context', async () => {
      await twoExchanges()
      server.reply(['a2, again'])
      await ok(['-c', '--retry'])
      const exported = await ok(['sessions', 'export', '--all', '--format', 'json'])
      const document = JSON.parse(exported)
      expect(document.version).to.equal(4)
      const messages = document.sessions[0].messages
      expect(
        messages.map((m: {content: string; hiddenAt: null | string; supersededBy: null | string}) => [m.content, m.hiddenAt === null, m.supersededBy]),
      ).to.deep.equal([
        ['q1', true, null],
        ['a1', true, null],
        ['q2', true, null],
        ['a2', false, messages[4].id],
        ['a2, again', true, null],
      ])
      const markdown = await ok(['sessions', 'export', '--all', '--format', 'markdown'])
      expect(markdown).to.match(/## assistant · gpt-5\.4-mini · replaced by message 5 · /)

      // Into another synapse's store, as copies with fresh ids: the marks follow the new ids.
      const file = join(sandbox.root, 'export.json')
      writeFileSync(file, exported)
      const other = makeSandbox({OPENAI_API_KEY: API_KEY, OPENAI_BASE_URL: server.url})
      try {
        expect((await synapse(other, ['sessions', 'import', file, '--new-ids'])).code).to.equal(0)
        server.reply(['a3'])
        expect((await synapse(other, ['-c', 'q3'])).code).to.equal(0)
        expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2', 'assistant: a2, again', 'user: q3'])
      } finally {
        other.cleanup()
      }
    })
  })

  describe('the REPL on a terminal', () => {
    const terminals: Terminal[] = []
    afterEach(() => {
      for (const terminal of terminals.splice(0)) terminal.kill()
    })

    /** `synapse <args>` on a terminal, once its prompt shows; `ask` types a line and waits for what it should show. */
    async function repl(args: string[], env: NodeJS.ProcessEnv = {}) {
      const terminal = new Terminal(sandbox, args, {env})
      terminals.push(terminal)
      await terminal.until('> ')
      const ask = async (line: string, shows: string) => {
        terminal.type(`${line}\r`)
        await terminal.until(shows)
      }
      return {ask, terminal}
    }
    it('retries, edits in $EDITOR and undoes, each request carrying the conversation as it stands', async () => {
      const {ask, terminal} = await repl(['-r'], {EDITOR: editorWriting('q2, rewritten'), VISUAL: ''})
      server.reply(['a1'])
      await ask('q1', 'a1')
      server.reply(['a2'])
      await ask('q2', 'a2')
      server.reply(['a2, again'])
      await ask('/retry', 'This replaces the earlier reply, still stored (sessions show --all).')
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2'])
      server.reply(['a2 for the rewrite'])
      await ask('/edit', 'This replaces the earlier question and reply, still stored (sessions show --all).')
      expect(terminal.output()).to.include('you (edited): q2, rewritten')
      expect(editorLog().mode).to.equal('600')
      expect(existsSync(editorLog().path)).to.equal(false)
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2, rewritten'])
      await ask('/undo', 'Took the last question and its reply out of the conversation: "q2, rewritten".')
      server.reply(['a3'])
      await ask('q3', 'a3')
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q3'])
      await ask('/count', '9 messages in this session, 5 of them taken out of the conversation.')
      terminal.type('/exit\r')
      expect(await terminal.done).to.equal(0)
      expect(await stored()).to.deep.equal([
        'q1',
        'a1',
        'q2 (replaced by q2, rewritten)',
        'a2 (replaced by a2, again)',
        'a2, again (replaced by a2 for the rewrite)',
        'q2, rewritten (undone)',
        'a2 for the rewrite (undone)',
        'q3',
        'a3',
      ])
    })

    it('forks with /fork and goes on in the fork, the original untouched', async () => {
      const {ask, terminal} = await repl(['-r', '-t', 'Plans'])
      server.reply(['a1'])
      await ask('q1', 'a1')
      await ask('/fork', '"Plans (fork)"; continuing in the fork.')
      server.reply(['a2'])
      await ask('q2', 'a2')
      expect(sent()).to.deep.equal(['user: q1', 'assistant: a1', 'user: q2'])
      await ask('/undo', 'Took the last question and its reply out of the conversation: "q2".')
      terminal.type('/exit\r')
      expect(await terminal.done).to.equal(0)
      const forked = /Forked session ([0-9A-Z]{26}) into ([0-9A-Z]{26})/.exec(terminal.output())!
      const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
      try {
        expect((await store.messages(forked[1])).map(m => m.content)).to.deep.equal(['q1', 'a1'])
        expect((await store.messages(forked[2], {current: true})).map(m => m.content)).to.deep.equal(['q1', 'a1'])
        expect((await store.messages(forked[2])).map(m => m.content)).to.deep.equal(['q1', 'a1', 'q2', 'a2'])
        expect(await store.get(forked[2])).to.deep.include({parentId: forked[1], title: 'Plans (fork)'})
      } finally {
        await store.close()
      }
    })

    it('says so when there is nothing to retry or edit, and when an edit changes nothing', async () => {
      const {ask, terminal} = await repl(['-r'], {EDITOR: 'true', VISUAL: ''})
      await ask('/retry', 'Error: There is nothing to retry: this conversation has no question in it yet.')
      await ask('/edit', 'There is nothing to edit: this conversation has no question in it yet.')
      server.reply(['a1'])
      await ask('q1', 'a1')
      await ask('/edit', 'The prompt is unchanged; nothing was sent.')
      terminal.type('/exit\r')
      expect(await terminal.done).to.equal(0)
      expect(server.chatRequests.length).to.equal(1)
    })
  })
})

import {expect} from 'chai'
import {existsSync, readFileSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {BRACKETED_PASTE_OFF, BRACKETED_PASTE_ON} from '../../src/chat/repl-input.js'
import type {Session} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import type {FakeOpenAIServer} from '../fakes/openai-server.js'
import {useOpenAISandbox} from '../helpers/openai-sandbox.js'
import {requireProgram} from '../helpers/programs.js'
import type {Sandbox} from '../helpers/sandbox.js'
import {synapse} from '../helpers/spawn.js'
import {SHELL_PROMPT, TmuxTerminal} from '../helpers/tmux.js'

const API_KEY = 'sk-test-5f3c9a1e'

function lastLine(screen: string): string {
  return screen.split('\n').at(-1) ?? ''
}

/** The lines of the screen from the last one starting with `start`. */
function linesFrom(screen: string, start: string): string[] {
  const lines = screen.split('\n')
  const index = lines.findLastIndex(line => line.startsWith(start))
  return index === -1 ? [] : lines.slice(index)
}

describe('the REPL (end to end)', function () {
  this.timeout(60_000)
  let sandbox: Sandbox
  let server: FakeOpenAIServer

  useOpenAISandbox({apiKey: API_KEY}, made => ({sandbox, server} = made))

  async function sessions(): Promise<Session[]> {
    const path = join(sandbox.configDir, 'sessions.db')
    if (!existsSync(path)) return []
    const store = await openSqliteStore({path})
    try {
      return await store.list({limit: 100})
    } finally {
      await store.close()
    }
  }

  function userMessages(): string[] {
    return server.chatRequests.map(request => request.chat!.messages.filter(m => m.role === 'user').at(-1)!.content)
  }

  describe('at a terminal', () => {
    let terminal: TmuxTerminal

    before(function () {
      requireProgram(this, 'tmux')
    })
    beforeEach(async () => {
      terminal = await TmuxTerminal.start(sandbox)
    })
    afterEach(async () => {
      await terminal.kill()
    })

    /** Runs `synapse <args>` in the shell and waits for the REPL's prompt. */
    async function startRepl(args = '-r'): Promise<void> {
      await terminal.type(`synapse ${args}`)
      await terminal.waitFor(screen => screen.includes('synapse · session') && lastLine(screen) === '>', 'the REPL prompt')
    }

    /** Types a line of a message that goes on, and waits for the prompt of the next one, as a person would. */
    async function typeAndGoOn(text: string): Promise<void> {
      const before = (await terminal.screen()).split('\n').length
      await terminal.type(text)
      await terminal.waitFor(screen => lastLine(screen) === '…' && screen.split('\n').length > before, `the continuation prompt after ${text}`)
    }

    /** Waits for `reply` and the prompt after it; returns the screen. */
    function replyAndPrompt(reply: string): Promise<string> {
      return terminal.waitFor(screen => screen.includes(reply) && lastLine(screen) === '>', `${reply} and a prompt`)
    }

    /** Waits for the shell to be back, and returns the exit code synapse left. */
    async function exitCode(): Promise<number> {
      await terminal.waitFor(screen => lastLine(screen) === SHELL_PROMPT.trimEnd(), 'the shell prompt')
      await terminal.type('echo "exit=$?"')
      const screen = await terminal.waitFor(text => /exit=\d+/.test(text), 'the exit code')
      return Number(/exit=(\d+)/.exec(screen)![1])
    }

    it('sends a bracketed paste of three lines as one message, with the Enter after it, and turns the mode off on leaving', async () => {
      server.reply(['Got all three.'])
      await startRepl()

      await terminal.paste('line one\nline two\nline three')
      await terminal.waitFor(screen => lastLine(screen) === '… line three', 'the end of the paste on the line')
      expect(server.chatRequests, 'nothing is sent before Enter').to.have.length(0)
      await terminal.press('Enter')
      await terminal.waitFor('Got all three.', 'the reply')
      await terminal.press('C-d')

      expect(await exitCode()).to.equal(0)
      expect(userMessages()).to.deep.equal(['line one\nline two\nline three'])
      const raw = terminal.raw()
      expect(raw).to.include(BRACKETED_PASTE_ON)
      expect(raw.lastIndexOf(BRACKETED_PASTE_OFF), 'bracketed paste is off once synapse has left').to.be.greaterThan(raw.lastIndexOf(BRACKETED_PASTE_ON))
    })

    it('sends a paste of one line without its newline as it is: a leading /, a """ or a trailing backslash is text', async () => {
      server.reply(['Path received.'])
      server.reply(['Quotes received.'])
      server.reply(['Backslash received.'])
      await startRepl()

      for (const [text, reply] of [
        ['/etc/hosts is what?', 'Path received.'],
        ['"""', 'Quotes received.'],
        ['make all \\', 'Backslash received.'],
      ]) {
        await terminal.paste(text)
        await terminal.waitFor(screen => lastLine(screen) === `> ${text}`, `the paste ${text} on the line`)
        await terminal.press('Enter')
        await replyAndPrompt(reply)
      }
      await terminal.type('/model ', {enter: false})
      await terminal.paste('pasted-model')
      await terminal.waitFor(screen => lastLine(screen) === '> /model pasted-model', 'a typed command with a pasted argument')
      await terminal.press('Enter')
      await terminal.waitFor('Using openai/pasted-model from now on.', 'the typed command run')

      expect(userMessages()).to.deep.equal(['/etc/hosts is what?', '"""', 'make all \\'])
    })

    it('takes a """ block and lines continued with a backslash as one message each', async () => {
      server.reply(['Block received.'])
      server.reply(['Continued received.'])
      await startRepl()

      await typeAndGoOn('"""')
      await typeAndGoOn('first line')
      await typeAndGoOn('  indented "quoted" line\\')
      await terminal.type('"""')
      await terminal.waitFor('Block received.', 'the reply to the block')
      await typeAndGoOn('one \\')
      await terminal.type('two')
      const screen = await replyAndPrompt('Continued received.')

      expect(userMessages()).to.deep.equal(['first line\n  indented "quoted" line\\', 'one \ntwo'])
      expect(linesFrom(screen, '> """')).to.deep.equal([
        '> """',
        '… first line',
        '…   indented "quoted" line\\',
        '… """',
        'Block received.',
        '> one \\',
        '… two',
        'Continued received.',
        '>',
      ])
    })

    it('Ctrl-C clears half-typed text and the REPL goes on; on an empty line it leaves with 130, the shell prompt on a line of its own', async () => {
      await startRepl()

      await terminal.type('half typed, never sent', {enter: false})
      await terminal.waitFor(screen => lastLine(screen) === '> half typed, never sent', 'the typed text')
      await terminal.press('C-c')
      await terminal.waitFor(screen => lastLine(screen) === '>' && screen.includes('> half typed, never sent\n>'), 'a fresh prompt')
      await terminal.type('/count')
      await terminal.waitFor('0 messages in this session.', '/count')
      await typeAndGoOn('"""')
      await typeAndGoOn('an unfinished block')
      await terminal.press('C-c')
      await terminal.waitFor(screen => screen.endsWith('… an unfinished block\n…\n>'), 'the block dropped')
      await terminal.press('C-c')

      expect(await exitCode()).to.equal(130)
      expect(server.requests).to.have.length(0)
      const screen = await terminal.screen()
      expect(linesFrom(screen, '> /count').slice(0, 2)).to.deep.equal(['> /count', '0 messages in this session.'])
      expect(screen.split('\n').slice(-4)).to.deep.equal(['>', '$ echo "exit=$?"', 'exit=130', '$'])
      expect(await sessions(), 'a REPL left without a turn leaves no session').to.deep.equal([])
    })

    it('Ctrl-C while a reply streams stops it, keeps the partial reply, and the REPL goes on', async () => {
      server.reply(['Part one', ' never sent'], {stallAfterChunks: 1})
      server.reply(['Resumed.'])
      await startRepl()

      await terminal.type('long answer please')
      // A word shows once it ends (where it ends decides its line): "one" waits for what follows it,
      // and the interruption writes it out.
      await terminal.waitFor(screen => lastLine(screen) === 'Part', 'the partial reply')
      await terminal.press('C-c')
      await terminal.waitFor(screen => screen.endsWith('Interrupted; the reply so far is kept.\n>'), 'the notice and a fresh prompt')
      await terminal.type('go on')
      const screen = await replyAndPrompt('Resumed.')
      await terminal.press('C-d')

      expect(await exitCode()).to.equal(0)
      expect(linesFrom(screen, '> long answer please')).to.deep.equal([
        '> long answer please',
        'Part one',
        'Interrupted; the reply so far is kept.',
        '> go on',
        'Resumed.',
        '>',
      ])
      expect(server.chatRequests[1].chat!.messages.map(m => [m.role, m.content])).to.deep.equal([
        ['user', 'long answer please'],
        ['assistant', 'Part one'],
        ['user', 'go on'],
      ])
    })

    it('leaves with Ctrl-D, the shell prompt on a line of its own', async () => {
      await startRepl()
      await terminal.press('C-d')

      expect(await exitCode()).to.equal(0)
      const lines = (await terminal.screen()).split('\n')
      expect(lines.slice(-4)).to.deep.equal(['>', '$ echo "exit=$?"', 'exit=0', '$'])
    })

    it('keeps the input history in a 0600 file in the state dir; the up arrow recalls the last run’s entries, several lines too', async () => {
      server.reply(['First.'])
      server.reply(['Second.'])
      await startRepl()
      await terminal.paste('pasted one\npasted two')
      await terminal.press('Enter')
      await terminal.waitFor('First.', 'the first reply')
      await terminal.type('remember me')
      await terminal.waitFor('Second.', 'the second reply')
      await terminal.press('C-d')
      expect(await exitCode()).to.equal(0)

      const file = join(sandbox.root, 'state', 'synapse', 'repl_history')
      expect(statSync(file).mode & 0o777).to.equal(0o600)
      expect(statSync(dirname(file)).mode & 0o777).to.equal(0o700)
      expect(readFileSync(file, 'utf8')).to.equal('"pasted one\\npasted two"\n"remember me"\n')

      server.reply(['Recalled.'])
      server.reply(['Recalled again.'])
      await startRepl()
      await terminal.press('Up')
      await terminal.waitFor(screen => lastLine(screen) === '> remember me', 'the last entry')
      await terminal.press('Enter')
      await terminal.waitFor('Recalled.', 'the reply to the recalled line')
      await terminal.press('Up')
      await terminal.waitFor(screen => lastLine(screen) === '> remember me', 'the last entry again')
      await terminal.press('Up')
      await terminal.waitFor(screen => screen.endsWith('pasted two'), 'the entry of two lines')
      await terminal.press('Enter')
      await terminal.waitFor('Recalled again.', 'the reply to the recalled paste')

      expect(userMessages()).to.deep.equal(['pasted one\npasted two', 'remember me', 'remember me', 'pasted one\npasted two'])
      expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).to.have.length(4)
    })

    it('TAB completes a slash command', async () => {
      await startRepl()

      await terminal.type('/he', {enter: false})
      await terminal.press('Tab')
      await terminal.waitFor(screen => lastLine(screen) === '> /help', 'the completed command')
      await terminal.press('Enter')
      const screen = await terminal.waitFor('/model NAME  use another model from now on', 'the help')

      expect(linesFrom(screen, '> /help').slice(1, 3)).to.deep.equal(['/help        this list', '/exit        leave (also Ctrl-D, or Ctrl-C at the prompt)'])
    })

    it('/clear asks first, deletes nothing unless told yes, and Ctrl-C or Ctrl-D at the question cancels it, the REPL going on', async () => {
      server.reply(['Earlier answer.'])
      expect((await synapse(sandbox, ['Earlier question'])).code).to.equal(0)
      await startRepl('-r -c')
      const question = 'Delete the 2 messages of this session? [y/N]'

      await terminal.type('/clear')
      await terminal.waitFor(screen => lastLine(screen) === question, 'the question')
      await terminal.type('n')
      await terminal.waitFor('Nothing deleted.', 'the refusal')
      for (const key of ['C-c', 'C-d']) {
        await terminal.type('/clear')
        await terminal.waitFor(screen => lastLine(screen) === question, `the question before ${key}`)
        await terminal.press(key)
        await terminal.type('/count')
        const screen = await terminal.waitFor(text => text.endsWith('2 messages in this session.\n>'), `/count after ${key}`)
        expect(linesFrom(screen, '> /clear'), key).to.deep.equal(['> /clear', question, 'Nothing deleted.', '> /count', '2 messages in this session.', '>'])
      }
      await terminal.type('/clear')
      await terminal.waitFor(screen => screen.endsWith('[y/N]'), 'the last question')
      await terminal.type('y')
      await terminal.waitFor('Cleared 2 messages.', 'the deletion')
      await terminal.press('C-d')

      expect(await exitCode()).to.equal(0)
      const [session] = await sessions()
      const store = await openSqliteStore({path: join(sandbox.configDir, 'sessions.db')})
      try {
        expect(await store.messages(session.id)).to.deep.equal([])
      } finally {
        await store.close()
      }
    })

    it('a turn that failed at a terminal leaves the exit code of Ctrl-D at 0: the person saw the error', async () => {
      server.reply(['Cut'], {dropAfterChunks: 1})
      await startRepl()

      await terminal.type('will this break?')
      await terminal.waitFor(screen => screen.includes('Error: The connection') && lastLine(screen) === '>', 'the error and a prompt')
      await terminal.press('C-d')

      expect(await exitCode()).to.equal(0)
    })
  })

  describe('sessions it leaves behind', () => {
    it('synapse -r left with /exit, or at the end of its input, without a turn, stores no session', async () => {
      for (const input of ['/exit\n', '', '/count\n/session\n']) {
        const {code, stderr} = await synapse(sandbox, ['-r'], {input})
        expect({code, stderr}).to.deep.equal({code: 0, stderr: ''})
      }

      expect(await sessions()).to.deep.equal([])
    })

    it('the session is stored at the first turn, with the id the banner showed', async () => {
      server.reply(['Stored now.'])
      const {code, stdout} = await synapse(sandbox, ['-r', '-t', 'Lazy'], {input: '/session\nHello\n/session\n'})

      expect(code).to.equal(0)
      const id = /session ([0-9A-Z]{26})/.exec(stdout)![1]
      expect(stdout.split('\n').slice(1)).to.deep.equal([
        `Session ${id} "Lazy" · openai/gpt-5.4-mini · 0 messages`,
        'Stored now.',
        `Session ${id} "Lazy" · openai/gpt-5.4-mini · 2 messages`,
        '',
      ])
      expect((await sessions()).map(s => [s.id, s.title])).to.deep.equal([[id, 'Lazy']])
    })

    it('resuming a session with -s or -c and leaving without a turn leaves its updatedAt as it was', async () => {
      server.reply(['Old answer.'])
      expect((await synapse(sandbox, ['-t', 'Old one', 'Old question'])).code).to.equal(0)
      const [before] = await sessions()

      for (const args of [
        ['-r', '-s', before.id.slice(0, 10)],
        ['-r', '-c'],
        ['-r', '-c', '-t', 'Old one'],
      ]) {
        const {code, stderr} = await synapse(sandbox, args, {input: '/count\n/history\n'})
        expect({args, code, stderr}).to.deep.equal({args, code: 0, stderr: ''})
      }

      const [after] = await sessions()
      expect(after).to.deep.equal(before)
    })
  })
})

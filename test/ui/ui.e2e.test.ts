import {expect} from 'chai'
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {type Browser, type BrowserContext, chromium, type Page} from 'playwright-core'

import type {UiResult} from '../../src/commands/ui.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {openSqliteStore} from '../../src/store/typeorm/sqlite.js'
import {ManualClock} from '../../src/testing/session-store-suite.js'
import {PROJECT_ROOT} from '../helpers/cli.js'
import {requireProgram} from '../helpers/programs.js'
import {makeSandbox, type Sandbox} from '../helpers/sandbox.js'
import {SynapseProcess} from '../helpers/spawn.js'

const DAY = 86_400_000
/** What the hostile cases would set if anything in them ran. */
const PWNED = '__synapsePwned'
const HOSTILE_TITLE = `<img src=x onerror="window.${PWNED}='title'">`
const HOSTILE_MESSAGE = [
  `<script>window.${PWNED}='script'</script>`,
  '',
  `<img src=x onerror="window.${PWNED}='onerror'">`,
  '',
  `[press me](javascript:window.${PWNED}='link') and [this too](JaVaScRiPt:alert(1)) and [data](data:text/html,<script>alert(1)</script>)`,
  '',
  `![image](https://example.com/tracker.png "remote") <a href="javascript:window.${PWNED}='anchor'">raw anchor</a>`,
].join('\n')

const REPLY = [
  '## Reading a file line by line',
  '',
  'Use a **context manager**, so the file is closed even when the loop fails:',
  '',
  '```python',
  'def count_lines(path: str) -> int:',
  '    with open(path, encoding="utf-8") as handle:',
  '        return sum(1 for _ in handle)',
  '```',
  '',
  '- `open` returns an iterator of lines',
  '- see the [io docs](https://docs.python.org/3/library/io.html)',
].join('\n')

/**
 * `synapse ui` as a user runs it (bin/run.js over dist/, a real SQLite file), read in a real headless
 * Chromium (Debian's `chromium`, driven by playwright-core).
 */
describe('synapse ui in a browser', function () {
  this.timeout(60_000)
  let browser: Browser
  let sandbox: Sandbox
  let databasePath: string
  let ui: SynapseProcess | undefined
  let context: BrowserContext
  let page: Page

  before(async function () {
    requireProgram(this, 'chromium')
    const executablePath = execFileSync('sh', ['-c', 'command -v chromium'], {encoding: 'utf8'}).trim()
    browser = await chromium.launch({executablePath})
  })
  after(async () => browser?.close())

  beforeEach(async () => {
    sandbox = makeSandbox()
    databasePath = join(sandbox.configDir, 'sessions.db')
    mkdirSync(sandbox.configDir, {recursive: true})
    context = await browser.newContext({acceptDownloads: true, colorScheme: 'light', viewport: {height: 900, width: 1200}})
    page = await context.newPage()
  })

  afterEach(async () => {
    await context.close()
    if (ui && ui.child.exitCode === null) {
      ui.child.kill('SIGINT')
      await ui.exited
    }
    ui = undefined
    sandbox.cleanup()
  })

  async function withStore<T>(work: (store: SessionStore) => Promise<T>): Promise<T> {
    const store = await openSqliteStore({path: databasePath})
    try {
      return await work(store)
    } finally {
      await store.close()
    }
  }

  async function seed(
    sessions: Array<{messages?: Array<{content: string; role: 'assistant' | 'user'}>; model?: string; systemPrompt?: string; title: string}>,
  ) {
    return withStore(async store => {
      const ids: string[] = []
      for (const s of sessions) {
        const session = await store.create({model: s.model ?? 'gpt-4o-mini', provider: 'openai', systemPrompt: s.systemPrompt ?? null, title: s.title})
        const messages = s.messages ?? [
          {content: `A question about ${s.title}`, role: 'user'},
          {content: 'An answer.', role: 'assistant'},
        ]
        await store.append(
          session.id,
          messages.map(m =>
            m.role === 'assistant'
              ? {
                  ...m,
                  costSource: 'config' as const,
                  costUsd: 0.0031,
                  durationMs: 1840,
                  inputTokens: 412,
                  model: session.model,
                  outputTokens: 96,
                  provider: 'openai',
                }
              : m,
          ),
        )
        ids.push(session.id)
      }
      return ids
    })
  }

  /** The reply the store would commit for a retry of a question: it replaces the question's current reply. */
  async function retry(store: SessionStore, sessionId: string, content: string) {
    const last = await store.lastExchange(sessionId)
    return store.appendReply(
      sessionId,
      last!.question.id,
      {
        content,
        costSource: 'config',
        costUsd: 0.0031,
        durationMs: 2310,
        inputTokens: 412,
        model: 'gpt-4o-mini',
        outputTokens: 96,
        provider: 'openai',
        role: 'assistant',
      },
      {replaces: {reply: last!.reply?.id}},
    )
  }

  /**
   * Waits until the page shows the view of this address (`#/…`). The address changes before its view
   * is drawn, so waiting for the address, or for an element the previous view also had, is too early.
   */
  async function shown(hash: string) {
    await page.locator(`main[data-shown="${hash}"]`).waitFor()
  }

  async function start(args: string[] = []): Promise<UiResult> {
    ui = new SynapseProcess(sandbox, ['ui', '--no-open', '--json', ...args])
    await ui.waitForStdout('}\n', 20_000)
    return JSON.parse(ui.stdout) as UiResult
  }

  async function open(): Promise<UiResult> {
    const started = await start()
    await page.goto(started.url)
    await page.locator('table.sessions, p.empty').first().waitFor()
    return started
  }

  it('shows the sessions at a clean URL once the token became an HttpOnly, SameSite=Strict cookie', async () => {
    await seed([{title: 'First steps'}, {model: 'claude-sonnet-4', title: 'Second thoughts'}])
    const {port} = await open()
    expect(page.url()).to.equal(`http://127.0.0.1:${port}/`)
    expect(await page.locator('table.sessions tbody tr td.title a').allTextContents()).to.deep.equal(['Second thoughts', 'First steps'])
    expect(await page.locator('table.sessions tbody tr td.model').allTextContents()).to.deep.equal(['openai/claude-sonnet-4', 'openai/gpt-4o-mini'])
    expect(await page.locator('table.sessions tbody tr td.cost').allTextContents()).to.deep.equal(['$0.0031', '$0.0031'])
    const [cookie] = await context.cookies()
    expect(cookie).to.include({httpOnly: true, name: `synapse_ui_${port}`, sameSite: 'Strict'})
    // The token is not in the page's address, and the page's script cannot read the cookie.
    expect(await page.evaluate(() => (globalThis as unknown as {document: {cookie: string}}).document.cookie)).to.equal('')

    await page.selectOption('select[name=model]', 'claude-sonnet-4')
    await shown('#/?model=claude-sonnet-4')
    expect(page.url()).to.equal(`http://127.0.0.1:${port}/#/?model=claude-sonnet-4`)
    expect(await page.locator('table.sessions tbody tr td.title a').allTextContents()).to.deep.equal(['Second thoughts'])
  })

  it('opens a session with its Markdown rendered, code highlighted, system prompt and tokens per reply', async () => {
    const [parentId] = await seed([
      {
        messages: [
          {content: 'How do I count the lines of a file in Python?', role: 'user'},
          {content: 'Run `wc -l` on it.', role: 'assistant'},
        ],
        systemPrompt: 'You are a concise Python tutor.',
        title: 'Python questions',
      },
    ])
    // A fork whose reply was retried and which was forked in turn: what the screenshot shows too.
    const id = await withStore(async store => {
      const {id} = await store.fork(parentId, {title: 'Counting lines'})
      await retry(store, id, REPLY)
      await store.fork(id, {at: 0, title: 'Counting lines in Rust'})
      return id
    })
    await open()
    await page.click('td.title a:text-is("Counting lines")')
    await shown(`#/session/${id}`)
    expect(await page.locator('article.session h1').textContent()).to.equal('Counting lines')
    expect(await page.locator('p.lineage').textContent()).to.equal('Forked from Python questions at message #1')
    const reply = page.locator('li.message.role-assistant .markdown')
    expect(await reply.locator('h2').textContent()).to.equal('Reading a file line by line')
    expect(await reply.locator('strong').textContent()).to.equal('context manager')
    expect(await reply.locator('pre code.language-python .hljs-keyword').first().textContent()).to.equal('def')
    expect(await reply.locator('li code').first().textContent()).to.equal('open')
    expect(await reply.locator('a').getAttribute('href')).to.equal('https://docs.python.org/3/library/io.html')
    expect(await reply.locator('a').getAttribute('rel')).to.equal('noopener noreferrer')
    expect(await page.locator('li.message.role-assistant .message-head').textContent())
      .to.include('412 in → 96 out tokens')
      .and.include('$0.0031')
    expect(await page.locator('dl.meta').textContent())
      .to.include('Messages2 in the conversation, 1 replaced or undone (stored)')
      .and.include('Cost$0.0062')
      .and.include('Totalsof all 2 replies, replaced ones included')
    await page.click('summary:text("System prompt")')
    expect(await page.locator('pre.system-prompt').textContent()).to.equal('You are a concise Python tutor.')
    expect(await page.locator('dl.meta').textContent()).to.include('openai/gpt-4o-mini')
    await page.click('button[data-action=replaced]')
    await shown(`#/session/${id}?replaced=1`)
    expect(await page.locator('li.message.taken-out .badge.taken-out').textContent()).to.equal('replaced by a retry')
    expect(await page.locator('li.message.taken-out a.replacement').textContent()).to.equal('→ #2')
    await page.click('summary:text("System prompt")')

    const screenshot = await page.screenshot({fullPage: true})
    expect(screenshot.subarray(1, 4).toString()).to.equal('PNG')
    if (process.env.SYNAPSE_SCREENSHOTS) writeFileSync(join(PROJECT_ROOT, 'docs', 'ui-session.png'), screenshot)
  })

  it('finds a message by search, its matches marked, names an untitled session as the list does, and opens the session at it', async () => {
    const [stripes] = await seed([
      {
        messages: [
          {content: 'Where do zebras live?', role: 'user'},
          {content: 'Zebras live in the savanna of <b>Africa</b>.', role: 'assistant'},
        ],
        title: 'Stripes',
      },
      {title: 'Unrelated'},
    ])
    const untitled = await withStore(async store => {
      const session = await store.create()
      await store.append(session.id, [
        {content: 'Which <i>savanna</i> animals\n  have stripes?', role: 'user'},
        {content: 'Zebras, mostly.', role: 'assistant'},
      ])
      return session.id
    })
    await open()
    const listedName = await page.locator(`table.sessions tr[data-id="${untitled}"] td.title a`).textContent()
    expect(listedName).to.equal('Which <i>savanna</i> animals have stripes?')
    await page.click('nav a:text("Search")')
    await page.fill('form.search input[name=q]', 'savanna')
    await page.click('form.search button[type=submit]')
    await page.locator('ol.hits li.hit').first().waitFor()
    expect(await page.locator('ol.hits li.hit').count()).to.equal(2)
    const hit = page.locator(`li.hit[data-session="${stripes}"]`)
    expect(await hit.locator('.hit-head a').textContent()).to.equal('Stripes')
    expect(await hit.locator('.snippet').textContent()).to.equal('Zebras live in the savanna of <b>Africa</b>.')
    expect(await hit.locator('.snippet mark').allTextContents()).to.deep.equal(['savanna'])
    expect(await page.locator('li.hit .snippet b').count()).to.equal(0)
    // Untitled: named by its first question, as the list names it (not "(empty)"), as text.
    const untitledHit = page.locator(`li.hit[data-session="${untitled}"]`)
    expect(await untitledHit.locator('.hit-head a').textContent()).to.equal(listedName)
    expect(await page.locator('li.hit .hit-head i').count()).to.equal(0)

    await hit.locator('.hit-head a').click()
    await page.locator('article.session').waitFor()
    expect(await page.locator('li.message.target').getAttribute('data-position')).to.equal('1')
    await page.goBack()
    await page.locator('ol.hits').waitFor()
    expect(await page.locator('form.search input[name=q]').inputValue()).to.equal('savanna')
  })

  it('marks a hit that a retry replaced when the search asks for them (replaced=1), finds none without, and opens it in view', async () => {
    const id = await withStore(async store => {
      const session = await store.create({title: 'Gulls'})
      const [asked] = await store.append(session.id, [{content: 'Name a gull', role: 'user', status: 'pending'}])
      const old = await store.appendReply(session.id, asked.id, {content: 'The kittiwake, wrongly', role: 'assistant'})
      await store.appendReply(session.id, asked.id, {content: 'The herring gull', role: 'assistant'}, {replaces: {reply: old.id}})
      return session.id
    })
    const {port} = await open()
    await page.goto(`http://127.0.0.1:${port}/#/search?q=kittiwake`)
    await shown('#/search?q=kittiwake')
    expect(await page.locator('p.empty').textContent()).to.equal('Nothing matches.')
    await page.goto(`http://127.0.0.1:${port}/#/search?q=kittiwake&replaced=1`)
    await shown('#/search?q=kittiwake&replaced=1')
    expect(await page.locator('li.hit .hit-head .badge.taken-out').allTextContents()).to.deep.equal(['replaced or undone'])
    await page.click('li.hit .hit-head a')
    await shown(`#/session/${id}?at=1`)
    expect(await page.locator('li.message.target .badge.taken-out').textContent()).to.equal('replaced by a retry')
  })

  it('deletes a session from the database after asking, and not when cancelled', async () => {
    const [kept, doomed] = await seed([{title: 'Stays'}, {title: 'Goes away'}])
    await open()
    await page.click('text=Goes away')
    await page.click('button[data-action=delete]')
    expect(await page.locator('dialog.confirm p').textContent()).to.equal('Delete "Goes away" and its 2 messages? This cannot be undone.')
    await page.click('dialog.confirm button[data-action=cancel]')
    expect(await withStore(store => store.count())).to.equal(2)

    await page.click('button[data-action=delete]')
    await page.click('dialog.confirm button[data-action=confirm]')
    await shown('#/')
    expect(await page.locator('p.notice').textContent()).to.equal('Deleted "Goes away".')
    expect(await page.locator('table.sessions tbody tr td.title a').allTextContents()).to.deep.equal(['Stays'])
    expect(await withStore(async store => (await store.list()).map(s => s.id))).to.deep.equal([kept])
    expect(doomed).to.not.equal(kept)
  })

  it('renames a session and keeps it from retention, in the database', async () => {
    const [id] = await seed([{title: 'Old name'}])
    await open()
    await page.click('text=Old name')
    await page.click('button[data-action=rename]')
    await page.fill('form.rename input', 'A better name')
    await page.click('form.rename button[type=submit]')
    await page.locator('article.session h1:text("A better name")').waitFor()
    await page.click('button[data-action=keep]')
    await page.locator('button[data-action=keep]:text("Stop keeping")').waitFor()
    expect(await page.locator('.heading .badge').isVisible()).to.equal(true)
    expect(await withStore(store => store.get(id))).to.include({kept: true, title: 'A better name'})

    await page.click('button[data-action=keep]')
    await page.locator('button[data-action=keep]:text("Keep")').waitFor()
    expect(await withStore(store => store.get(id))).to.include({kept: false})
  })

  it('links a fork to its parent at the message it was forked at, and the parent to its forks', async () => {
    const [parentId] = await seed([
      {
        messages: [
          {content: 'Plan a trip to Lisbon', role: 'user'},
          {content: 'Fly on Friday.', role: 'assistant'},
          {content: 'And back?', role: 'user'},
          {content: 'Sunday evening.', role: 'assistant'},
        ],
        title: 'Trip planning',
      },
    ])
    const fork = await withStore(store => store.fork(parentId, {at: 1, title: 'Trip, by train'}))
    await open()
    expect(await page.locator(`tr[data-id="${fork.id}"] td.title .badge.fork`).textContent()).to.equal('fork')
    expect(await page.locator(`tr[data-id="${parentId}"] td.title .badge.fork`).count()).to.equal(0)

    await page.click(`tr[data-id="${fork.id}"] td.title a`)
    await shown(`#/session/${fork.id}`)
    expect(await page.locator('p.lineage').textContent()).to.equal('Forked from Trip planning at message #1')
    await page.click('p.lineage a.parent')
    await shown(`#/session/${parentId}?at=1`)
    expect(await page.locator('article.session h1').textContent()).to.equal('Trip planning')
    expect(await page.locator('li.message.target').getAttribute('data-position')).to.equal('1')
    expect(await page.locator('p.lineage').count()).to.equal(0)

    const listed = page.locator('section.forks li')
    expect(await listed.count()).to.equal(1)
    expect(await listed.textContent()).to.match(/^Trip, by train at message #1, .+$/)
    await listed.locator('a').click()
    await shown(`#/session/${fork.id}`)
    expect(await page.locator('article.session h1').textContent()).to.equal('Trip, by train')
    expect(await page.locator('li.message').count()).to.equal(2)
  })

  it('shows a deleted parent as text, and hostile titles of parents and forks as text', async () => {
    const [parentId] = await seed([{title: HOSTILE_TITLE}])
    const fork = await withStore(store => store.fork(parentId))
    await open()
    await page.click(`tr[data-id="${parentId}"] td.title a`)
    await shown(`#/session/${parentId}`)
    expect(await page.locator('section.forks li a').textContent()).to.equal(`${HOSTILE_TITLE} (fork)`)
    await page.click('section.forks li a')
    await shown(`#/session/${fork.id}`)
    expect(await page.locator('p.lineage a.parent').textContent()).to.equal(`${HOSTILE_TITLE} at message #1`)
    expect(await page.locator('main img, main [onerror]').count()).to.equal(0)

    await withStore(store => store.delete([parentId]))
    await page.reload()
    await shown(`#/session/${fork.id}`)
    expect(await page.locator('p.lineage').textContent()).to.equal(`Forked from ${parentId} at message #1 (since deleted)`)
    expect(await page.locator('p.lineage a').count()).to.equal(0)
    expect(await page.evaluate(name => (globalThis as Record<string, unknown>)[name], PWNED)).to.equal(undefined)
  })

  it('shows the conversation, and on demand what a retry, an edit or an undo replaced, marked, linked to what replaced it', async () => {
    const [id] = await seed([
      {
        messages: [
          {content: 'Name a colour', role: 'user'},
          {content: HOSTILE_MESSAGE, role: 'assistant'},
        ],
        title: 'Colours',
      },
    ])
    await withStore(async store => {
      const [question] = await store.messages(id)
      const retried = await retry(store, id, 'Blue.')
      // An edit: a new question, and its reply replacing the old question and the retried reply.
      const [edited] = await store.append(id, [{content: 'Name a warm colour', role: 'user'}])
      await store.appendReply(id, edited.id, {content: 'Orange.', role: 'assistant'}, {replaces: {question: question.id, reply: retried.id}})
      await store.append(id, [
        {content: 'And a cold one?', role: 'user'},
        {content: 'Teal.', role: 'assistant'},
      ])
      await store.undo(id)
    })
    const positions = () => page.locator('li.message').evaluateAll(items => items.map(item => Number(item.getAttribute('data-position'))))
    await open()
    await page.click('text=Colours')
    await shown(`#/session/${id}`)
    expect(await positions()).to.deep.equal([3, 4])
    expect(await page.locator('li.message.taken-out').count()).to.equal(0)
    expect(await page.locator('dl.meta').textContent()).to.include('Messages2 in the conversation, 5 replaced or undone (stored)')
    const toggle = page.locator('button[data-action=replaced]')
    expect(await toggle.textContent()).to.equal('Show 5 replaced or undone messages')

    await toggle.click()
    await shown(`#/session/${id}?replaced=1`)
    expect(await positions()).to.deep.equal([0, 1, 2, 3, 4, 5, 6])
    expect(await toggle.textContent()).to.equal('Hide replaced or undone messages')
    const marks = await page
      .locator('li.message')
      .evaluateAll(items =>
        items.map(item => [
          item.getAttribute('data-taken-out'),
          item.querySelector('.badge.taken-out')?.textContent ?? null,
          item.querySelector('a.replacement')?.textContent ?? null,
        ]),
      )
    expect(marks).to.deep.equal([
      ['edit', 'replaced by an edit', '→ #3'],
      ['retry', 'replaced by a retry', '→ #2'],
      ['edit', 'replaced by an edit', '→ #4'],
      [null, null, null],
      [null, null, null],
      ['undo', 'undone', null],
      ['undo', 'undone', null],
    ])
    // The replaced reply held markup: it shows as text.
    expect(await page.locator('li.message[data-position="1"] .markdown').textContent()).to.include(`<script>window.${PWNED}='script'</script>`)
    expect(await page.locator('main script, main img, main iframe, main [onerror]').count()).to.equal(0)
    expect(await page.locator('a[href^="javascript:" i]').count()).to.equal(0)

    // The state is in the address: a reload keeps it; the link to what replaced a message brings that into view.
    await page.reload()
    await shown(`#/session/${id}?replaced=1`)
    expect(await positions()).to.have.length(7)
    await page.click('li.message[data-position="1"] a.replacement')
    await shown(`#/session/${id}?at=2&replaced=1`)
    expect(await page.locator('li.message.target').getAttribute('data-position')).to.equal('2')
    await page.click('li.message[data-position="2"] a.replacement')
    await shown(`#/session/${id}?at=4&replaced=1`)
    // Hiding them keeps a target in the conversation in view.
    await toggle.click()
    await shown(`#/session/${id}?at=4`)
    expect(await positions()).to.deep.equal([3, 4])
    expect(await page.locator('li.message.target').getAttribute('data-position')).to.equal('4')

    // A link to a message out of the conversation (a search hit, a fork's parent) shows them, that one in view.
    await page.goto(page.url().replace(/#.*$/, `#/session/${id}?at=6`))
    await shown(`#/session/${id}?at=6`)
    expect(await positions()).to.have.length(7)
    expect(await page.locator('li.message.target').getAttribute('data-taken-out')).to.equal('undo')
    expect(await toggle.textContent()).to.equal('Hide replaced or undone messages')
    // Hiding them lets go of that target, which would show them again.
    await toggle.click()
    await shown(`#/session/${id}`)
    expect(await positions()).to.deep.equal([3, 4])
    expect(await page.evaluate(name => (globalThis as Record<string, unknown>)[name], PWNED)).to.equal(undefined)

    // Untitled, it is named by its first question still in the conversation, as the list names it: not the one the edit replaced.
    await withStore(store => store.update(id, {title: null}))
    await page.reload()
    await shown(`#/session/${id}`)
    expect(await page.locator('h1.title').textContent()).to.equal('Name a warm colour')
  })

  it('shows <script>, onerror and javascript: links in titles and messages as text, running nothing', async () => {
    await seed([{messages: [{content: HOSTILE_MESSAGE, role: 'user'}], systemPrompt: `<script>window.${PWNED}='system'</script>`, title: HOSTILE_TITLE}])
    const blocked: string[] = []
    page.on('request', request => {
      if (!request.url().startsWith('http://127.0.0.1:')) blocked.push(request.url())
    })
    await open()
    expect(await page.locator('table.sessions td.title a').textContent()).to.equal(HOSTILE_TITLE)
    await page.click('table.sessions td.title a')
    await page.locator('article.session').waitFor()
    await page.click('summary:text("System prompt")')

    expect(await page.locator('article.session h1').textContent()).to.equal(HOSTILE_TITLE)
    const message = page.locator('li.message .markdown')
    const text = (await message.textContent()) ?? ''
    expect(text).to.include(`<script>window.${PWNED}='script'</script>`)
    expect(text).to.include(`<img src=x onerror="window.${PWNED}='onerror'">`)
    expect(text).to.include(`[press me](javascript:window.${PWNED}='link')`)
    expect(text).to.include('[this too](JaVaScRiPt:alert(1))')
    expect(text).to.include('<a href="javascript:')
    expect(await page.locator('pre.system-prompt').textContent()).to.equal(`<script>window.${PWNED}='system'</script>`)
    expect(await page.locator('main script, main img, main iframe, main [onerror]').count()).to.equal(0)
    expect(await page.locator('a[href^="javascript:" i], a[href^="data:" i]').count()).to.equal(0)
    // Clicking what looks like a link runs nothing either.
    await message.locator('text=press me').first().click()

    // The same text as search snippets: the title hit and the message hit, their matches marked, nothing parsed.
    await page.click('nav a:text("Search")')
    await page.fill('form.search input[name=q]', 'onerror')
    await page.click('form.search button[type=submit]')
    await page.locator('ol.hits li.hit').first().waitFor()
    expect(await page.locator('li.hit .hit-head a').allTextContents()).to.deep.equal([HOSTILE_TITLE, HOSTILE_TITLE])
    const snippets = await page.locator('li.hit .snippet').allTextContents()
    expect(snippets[0]).to.equal(HOSTILE_TITLE)
    expect(snippets[1]).to.include(`<img src=x onerror="window.${PWNED}='onerror'"> [press me](javascript:`)
    // The message says onerror twice: in the attribute's name and in the value it would set.
    expect(await page.locator('li.hit .snippet mark').allTextContents()).to.deep.equal(['onerror', 'onerror', 'onerror'])
    expect(await page.locator('main script, main img, main iframe, main [onerror]').count()).to.equal(0)
    expect(await page.evaluate(name => (globalThis as Record<string, unknown>)[name], PWNED)).to.equal(undefined)
    expect(blocked).to.deep.equal([])
  })

  it('exports a session as a Markdown download', async () => {
    await seed([{title: 'Worth keeping'}])
    await open()
    await page.click('text=Worth keeping')
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('.exports a:text("Markdown")')])
    expect(download.suggestedFilename()).to.match(/^synapse-[0-9A-Z]{26}\.md$/)
    const file = join(sandbox.root, 'export.md')
    await download.saveAs(file)
    expect(readFileSync(file, 'utf8')).to.include('A question about Worth keeping')
  })

  it('charts tokens and cost per day and per model', async () => {
    const clock = new ManualClock(Date.now() - 6 * DAY)
    const store = await openSqliteStore({clock: clock.now, path: databasePath})
    try {
      const plan: Array<[string, number, number | null]> = [
        ['gpt-4o', 1200, 0.021],
        ['gpt-4o-mini', 800, 0.0012],
        ['claude-sonnet-4', 2600, 0.043],
        ['gpt-4o', 400, 0.008],
        ['llama3.2', 3100, null],
        ['claude-sonnet-4', 1800, 0.031],
        ['gpt-4o-mini', 2200, 0.0031],
      ]
      for (const [model, tokens, costUsd] of plan) {
        const session = await store.create({model, provider: model.startsWith('claude') ? 'anthropic' : 'openai', title: `Work with ${model}`})
        await store.append(session.id, [
          {content: 'A question', role: 'user'},
          {
            content: 'An answer',
            costSource: costUsd === null ? null : 'config',
            costUsd,
            inputTokens: tokens,
            model,
            outputTokens: Math.round(tokens / 3),
            role: 'assistant',
          },
        ])
        clock.advance(DAY)
      }
    } finally {
      await store.close()
    }
    await open()
    await page.click('nav a:text("Usage")')
    await page.locator('section.usage figure.chart').first().waitFor()
    expect(await page.locator('dl.totals').textContent())
      .to.include('Replies7')
      .and.include('Cost≥ $0.11 (1 unpriced)')
    // Seven days of bars in the 7-day period; each says what it shows.
    await page.selectOption('select[name=days]', '7')
    // The address changes before the view is drawn again: wait for the view of that period.
    await page.locator('section.usage[data-days="7"] svg.chart').first().waitFor()
    const tokenBars = page.locator('figure.chart').nth(0).locator('g.bar')
    expect(await tokenBars.count()).to.equal(7)
    expect(await tokenBars.last().locator('title').textContent()).to.match(/: 2,200 input, 733 output$/)
    expect(await page.locator('figure.chart').nth(1).locator('g.bar rect.bar-cost').count()).to.equal(7)
    expect(await page.locator('table.models tbody tr td:first-child').allTextContents()).to.deep.equal(['claude-sonnet-4', 'gpt-4o', 'gpt-4o-mini', 'llama3.2'])
    expect(await page.locator('table.models tbody tr[data-model="llama3.2"] td').nth(3).textContent()).to.equal('—')

    const screenshot = await page.screenshot({fullPage: true})
    expect(screenshot.subarray(1, 4).toString()).to.equal('PNG')
    if (process.env.SYNAPSE_SCREENSHOTS) writeFileSync(join(PROJECT_ROOT, 'docs', 'ui-usage.png'), screenshot)
  })

  describe('the command', () => {
    it('prints its address under --json and, on Ctrl-C, stops with exit 130 and the store closed', async () => {
      await seed([{title: 'Anything'}])
      const started = await start()
      expect(started.host).to.equal('127.0.0.1')
      expect(started.url).to.equal(`http://127.0.0.1:${started.port}/?token=${/token=([0-9a-f]{64})$/.exec(started.url)?.[1]}`)
      // A read opens SQLite in WAL mode; the file beside it goes when the last connection closes cleanly.
      await page.goto(started.url)
      await page.locator('table.sessions').waitFor()
      expect(existsSync(`${databasePath}-wal`)).to.equal(true)
      ui!.child.kill('SIGINT')
      const exit = await ui!.exited
      expect(exit.code).to.equal(130)
      expect(exit.stderr).to.equal('')
      expect(existsSync(`${databasePath}-wal`)).to.equal(false)
    })

    it('prints the address for a person, and refuses a port in use with a remedy', async () => {
      const blocker = createServer()
      await new Promise<void>(resolve => blocker.listen(0, '127.0.0.1', resolve))
      const {port} = blocker.address() as {port: number}
      try {
        ui = new SynapseProcess(sandbox, ['ui', '--no-open', '--port', String(port)])
        const exit = await ui.exited
        expect(exit.code).to.equal(1)
        expect(exit.stderr).to.equal(`Error: Port ${port} of 127.0.0.1 is in use.\n  → Leave out --port to take a free one, or name another.\n`)
      } finally {
        blocker.close()
      }
      ui = new SynapseProcess(sandbox, ['ui', '--no-open'])
      await ui.waitForStdout('Ctrl-C stops it.')
      expect(ui.stdout).to.match(
        /^synapse ui: http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}\nServing sqlite sessions on http:\/\/127\.0\.0\.1:\d+; Ctrl-C stops it\.\n$/,
      )
    })
  })
})

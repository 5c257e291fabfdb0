import {expect} from 'chai'
import {request as httpRequest} from 'node:http'
import {connect} from 'node:net'
import {networkInterfaces} from 'node:os'

import {TOKEN_HEADER, type UiSearchPage, type UiSessionPage, type UiSessionView, type UiUsage} from '../../src/ui/api-types.js'
import {MemorySessionStore} from '../../src/store/memory-store.js'
import type {SessionStore} from '../../src/store/session-store.js'
import {ManualClock} from '../../src/testing/session-store-suite.js'
import {SECURITY_HEADERS, startUiServer, type UiServer} from '../../src/ui/server.js'

interface Response {
  body: string
  headers: Record<string, string | string[] | undefined>
  status: number
}

/** One HTTP request as any client can send it, Host and all (fetch would not let a test forge Host). */
function send(port: number, options: {body?: string; headers?: Record<string, string>; method?: string; path?: string}): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      {headers: {Host: `127.0.0.1:${port}`, ...options.headers}, host: '127.0.0.1', method: options.method ?? 'GET', path: options.path ?? '/', port},
      response => {
        let body = ''
        response.setEncoding('utf8').on('data', chunk => (body += chunk))
        response.on('end', () => resolve({body, headers: response.headers, status: response.statusCode ?? 0}))
      },
    )
    request.on('error', reject)
    request.end(options.body)
  })
}

const ASSETS = {script: 'window.pageScript = 1\n', stylesheet: 'body {}\n'}

describe('synapse ui: the server', () => {
  let store: SessionStore
  let server: UiServer
  let cookie: string
  let ids: string[]

  beforeEach(async () => {
    const clock = new ManualClock(Date.parse('2026-03-01T10:00:00Z'))
    store = new MemorySessionStore({clock: clock.now})
    ids = []
    for (const [title, model] of [
      ['Alpha', 'gpt-4o'],
      ['Bravo', 'claude-sonnet'],
      ['Charlie', 'gpt-4o'],
    ]) {
      const session = await store.create({model, provider: 'openai', title})
      await store.append(session.id, [
        {content: `Question for ${title}`, role: 'user'},
        {content: 'Answer', costSource: 'config', costUsd: title === 'Bravo' ? null : 0.25, inputTokens: 10, model, outputTokens: 20, role: 'assistant'},
      ])
      ids.push(session.id)
      clock.advance(86_400_000)
    }
    server = await startUiServer({assets: ASSETS, store})
    cookie = `synapse_ui_${server.port}=${server.token}`
  })

  afterEach(async () => {
    await server.close()
    await store.close()
  })

  const get = (path: string, headers: Record<string, string> = {}) => send(server.port, {headers: {Cookie: cookie, ...headers}, path})
  const change = (method: string, path: string, options: {body?: unknown; headers?: Record<string, string>} = {}) =>
    send(server.port, {
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      headers: {Cookie: cookie, [TOKEN_HEADER]: server.token, ...(options.body === undefined ? {} : {'Content-Type': 'application/json'}), ...options.headers},
      method,
      path,
    })

  describe('where it listens', () => {
    it('listens on 127.0.0.1 only, with a fresh random token each time', async () => {
      expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/)
      const other = await startUiServer({assets: ASSETS, store})
      try {
        expect(other.token).to.not.equal(server.token)
        expect(other.port).to.not.equal(server.port)
      } finally {
        await other.close()
      }
      // Another address of this machine reaches nothing: the socket is bound to loopback.
      const external = Object.values(networkInterfaces())
        .flat()
        .find(a => a && a.family === 'IPv4' && !a.internal)
      if (external) {
        const refused = await new Promise<string>(resolve => {
          const attempt = httpRequest({host: external.address, port: server.port, timeout: 2000}, () => resolve('answered'))
          attempt.on('error', error => resolve((error as NodeJS.ErrnoException).code ?? 'error'))
          attempt.end()
        })
        expect(refused).to.equal('ECONNREFUSED')
      }
    })

    it('takes the port it is given, and says so when that port is taken', async () => {
      const port = server.port
      await server.close()
      server = await startUiServer({assets: ASSETS, port, store})
      expect(server.port).to.equal(port)
      let failure: unknown
      try {
        await startUiServer({assets: ASSETS, port, store})
      } catch (error) {
        failure = error
      }
      expect(failure).to.have.property('code', 'INVALID_INPUT')
      expect((failure as Error).message).to.equal(`Port ${port} of 127.0.0.1 is in use.`)
    })
  })

  describe('the token', () => {
    it('trades the token in the URL for an HttpOnly, SameSite=Strict cookie and redirects to the clean URL', async () => {
      const response = await send(server.port, {path: `/?token=${server.token}`})
      expect(response.status).to.equal(303)
      expect(response.headers.location).to.equal('/')
      expect(response.headers['set-cookie']).to.deep.equal([`synapse_ui_${server.port}=${server.token}; HttpOnly; SameSite=Strict; Path=/`])
      const kept = await send(server.port, {path: `/?token=${server.token}&x=1`})
      expect(kept.headers.location).to.equal('/?x=1')
    })

    it('refuses every path without the token (401), with a wrong one, and with a wrong cookie', async () => {
      for (const path of ['/', '/assets/app.js', '/assets/app.css', '/api/sessions', `/api/sessions/${ids[0]}`, `/api/sessions/${ids[0]}/export`, '/nothing']) {
        const response = await send(server.port, {path})
        expect(response.status, path).to.equal(401)
        expect(response.body, path).to.not.include('Alpha')
      }
      const wrong = await send(server.port, {path: `/?token=${'0'.repeat(64)}`})
      expect(wrong.status).to.equal(401)
      expect(wrong.headers['set-cookie']).to.equal(undefined)
      expect((await send(server.port, {headers: {Cookie: `synapse_ui_${server.port}=${'f'.repeat(64)}`}, path: '/api/sessions'})).status).to.equal(401)
      // The cookie of another synapse ui (another port) is not this one's.
      expect((await send(server.port, {headers: {Cookie: `synapse_ui_1=${server.token}`}, path: '/api/sessions'})).status).to.equal(401)
    })

    it('answers a request carrying the cookie', async () => {
      const response = await get('/api/sessions')
      expect(response.status).to.equal(200)
      expect((JSON.parse(response.body) as UiSessionPage).total).to.equal(3)
    })
  })

  describe('the Host header', () => {
    for (const host of ['localhost', 'evil.example:PORT', 'localhost:PORT', '127.0.0.1', '127.0.0.1:1', '[::1]:PORT', '127.0.0.2:PORT']) {
      it(`refuses Host "${host}" even with the token (DNS rebinding)`, async () => {
        const forged = host.replace('PORT', String(server.port))
        const viaUrl = await send(server.port, {headers: {Host: forged}, path: `/?token=${server.token}`})
        expect(viaUrl.status).to.equal(403)
        expect(viaUrl.headers['set-cookie']).to.equal(undefined)
        const viaCookie = await get('/api/sessions', {Host: forged})
        expect(viaCookie.status).to.equal(403)
        expect(viaCookie.body).to.not.include('Alpha')
      })
    }

    it('refuses a request with no Host at all', async () => {
      const answer = await new Promise<string>((resolve, reject) => {
        const socket = connect(server.port, '127.0.0.1', () => socket.end(`GET /?token=${server.token} HTTP/1.0\r\n\r\n`))
        let text = ''
        socket.setEncoding('utf8').on('data', chunk => (text += chunk))
        socket.on('end', () => resolve(text))
        socket.on('error', reject)
      })
      expect(answer.split('\r\n')[0]).to.equal('HTTP/1.1 403 Forbidden')
      expect(answer).to.not.include('Set-Cookie')
    })
  })

  describe('requests that change something', () => {
    it('needs the token in a header: the cookie alone (a form or link of another site) changes nothing', async () => {
      const forms = [
        send(server.port, {
          body: '{"title":"pwned"}',
          headers: {Cookie: cookie, 'Content-Type': 'application/json'},
          method: 'PATCH',
          path: `/api/sessions/${ids[0]}`,
        }),
        send(server.port, {headers: {Cookie: cookie}, method: 'DELETE', path: `/api/sessions/${ids[1]}`}),
        send(server.port, {
          body: '{"title":"pwned"}',
          headers: {Cookie: cookie, 'Content-Type': 'application/json', [TOKEN_HEADER]: 'f'.repeat(64)},
          method: 'PATCH',
          path: `/api/sessions/${ids[0]}`,
        }),
      ]
      for (const response of await Promise.all(forms)) expect(response.status).to.equal(403)
      expect((await store.get(ids[0])).title).to.equal('Alpha')
      expect(await store.count()).to.equal(3)
    })

    it('refuses them from another origin even with the header', async () => {
      const response = await change('DELETE', `/api/sessions/${ids[1]}`, {headers: {Origin: 'http://evil.example'}})
      expect(response.status).to.equal(403)
      expect(await store.count()).to.equal(3)
    })

    it('never changes anything by GET: no route changes state, and a mutation route answers GET with the session', async () => {
      for (const path of [`/api/sessions/${ids[0]}?title=pwned`, `/api/sessions/${ids[0]}?method=DELETE`, `/api/sessions/${ids[0]}/export?format=json`]) {
        expect((await get(path)).status).to.equal(200)
      }
      expect((await store.get(ids[0])).title).to.equal('Alpha')
      expect(await store.count()).to.equal(3)
    })

    it('answers other methods with 405 and the methods it allows', async () => {
      for (const [method, path] of [
        ['PUT', `/api/sessions/${ids[0]}`],
        ['POST', `/api/sessions/${ids[0]}`],
        ['DELETE', '/api/sessions'],
        ['OPTIONS', `/api/sessions/${ids[0]}`],
        ['PATCH', '/'],
      ]) {
        const response = await change(method, path)
        expect(response.status, `${method} ${path}`).to.equal(405)
        expect(response.headers['access-control-allow-origin']).to.equal(undefined)
      }
      expect((await change('PUT', `/api/sessions/${ids[0]}`)).headers.allow).to.equal('DELETE, GET, PATCH')
    })

    it('renames, keeps and deletes with the header', async () => {
      const renamed = await change('PATCH', `/api/sessions/${ids[0]}`, {body: {title: '  New name  '}})
      expect(renamed.status).to.equal(200)
      expect(JSON.parse(renamed.body)).to.include({id: ids[0], kept: false, title: 'New name'})
      expect((await change('PATCH', `/api/sessions/${ids[0]}`, {body: {kept: true}})).status).to.equal(200)
      expect(await store.get(ids[0])).to.include({kept: true, title: 'New name'})
      const deleted = await change('DELETE', `/api/sessions/${ids[1]}`)
      expect(JSON.parse(deleted.body)).to.deep.equal({deleted: ids[1]})
      expect((await store.list()).map(s => s.id)).to.have.members([ids[0], ids[2]])
      expect((await change('DELETE', `/api/sessions/${ids[1]}`)).status).to.equal(404)
    })

    it('refuses a bad body with 4xx and changes nothing', async () => {
      const cases: Array<[unknown, number]> = [
        [{title: '   '}, 400],
        [{title: 42}, 400],
        [{kept: 'yes'}, 400],
        [{model: 'x'}, 400],
        [[1], 400],
        [{title: 'x'.repeat(501)}, 400],
      ]
      for (const [body, status] of cases) expect((await change('PATCH', `/api/sessions/${ids[0]}`, {body})).status, JSON.stringify(body)).to.equal(status)
      const notJson = await send(server.port, {
        body: 'title=x',
        headers: {Cookie: cookie, 'Content-Type': 'application/x-www-form-urlencoded', [TOKEN_HEADER]: server.token},
        method: 'PATCH',
        path: `/api/sessions/${ids[0]}`,
      })
      expect(notJson.status).to.equal(415)
      const broken = await send(server.port, {
        body: '{',
        headers: {Cookie: cookie, 'Content-Type': 'application/json', [TOKEN_HEADER]: server.token},
        method: 'PATCH',
        path: `/api/sessions/${ids[0]}`,
      })
      expect(broken.status).to.equal(400)
      const huge = await change('PATCH', `/api/sessions/${ids[0]}`, {body: {title: 'x'.repeat(70_000)}})
      expect(huge.status).to.equal(413)
      expect(await store.get(ids[0])).to.include({kept: false, title: 'Alpha'})
    })
  })

  describe('headers', () => {
    it('sends the Content-Security-Policy, nosniff and no framing on every answer, refusals included', async () => {
      const responses = [
        await get('/'),
        await get('/assets/app.js'),
        await get('/api/sessions'),
        await send(server.port, {path: '/'}),
        await get('/', {Host: 'evil.example'}),
      ]
      for (const response of responses) {
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(response.headers[name.toLowerCase()], name).to.equal(value)
      }
      const csp = SECURITY_HEADERS['Content-Security-Policy']
      expect(csp).to.include("default-src 'self'").and.include("script-src 'self'").and.include("frame-ancestors 'none'")
      expect(csp).to.not.include('unsafe-inline')
      expect(SECURITY_HEADERS['X-Content-Type-Options']).to.equal('nosniff')
    })

    it('serves the page with its assets by their types and no inline script', async () => {
      const page = await get('/')
      expect(page.headers['content-type']).to.equal('text/html; charset=utf-8')
      expect(page.body).to.include('<script type="module" src="/assets/app.js"></script>')
      expect(page.body).to.include(`<meta name="synapse-token" content="${server.token}">`)
      expect(page.body.match(/<script/g)).to.have.length(1)
      expect((await get('/assets/app.js')).headers['content-type']).to.equal('text/javascript; charset=utf-8')
      expect((await get('/assets/app.js')).body).to.equal(ASSETS.script)
      expect((await get('/assets/app.css')).headers['content-type']).to.equal('text/css; charset=utf-8')
    })
  })

  describe('the API', () => {
    it('lists sessions newest first, paged, and filtered by model and date', async () => {
      const all = JSON.parse((await get('/api/sessions')).body) as UiSessionPage
      expect(all.sessions.map(s => s.title)).to.deep.equal(['Charlie', 'Bravo', 'Alpha'])
      expect(all.models).to.deep.equal(['claude-sonnet', 'gpt-4o'])
      expect(all.sessions[0]).to.include({messageCount: 2, model: 'gpt-4o', provider: 'openai'})
      const page = JSON.parse((await get('/api/sessions?limit=2&offset=2')).body) as UiSessionPage
      expect(page).to.include({limit: 2, offset: 2, total: 3})
      expect(page.sessions.map(s => s.title)).to.deep.equal(['Alpha'])
      const gpt = JSON.parse((await get('/api/sessions?model=gpt-4o&sort=title')).body) as UiSessionPage
      expect(gpt.sessions.map(s => s.title)).to.deep.equal(['Alpha', 'Charlie'])
      expect(gpt.total).to.equal(2)
      const since = JSON.parse((await get('/api/sessions?since=2026-03-02T00:00:00Z&until=2026-03-03T00:00:00Z')).body) as UiSessionPage
      expect(since.sessions.map(s => s.title)).to.deep.equal(['Bravo'])
      const oldest = JSON.parse((await get('/api/sessions?sort=updated&order=asc')).body) as UiSessionPage
      expect(oldest.sessions.map(s => s.title)).to.deep.equal(['Alpha', 'Bravo', 'Charlie'])
    })

    it('gives each session its cost, null when no reply has one, and sorts by it', async () => {
      const page = JSON.parse((await get('/api/sessions?sort=cost')).body) as UiSessionPage
      expect(page.sessions.map(s => [s.title, s.costUsd])).to.deep.equal([
        ['Charlie', 0.25],
        ['Alpha', 0.25],
        ['Bravo', null],
      ])
    })

    it('adds up usage per day and per model (SessionStore.usage), for a period', async () => {
      const usage = JSON.parse((await get('/api/usage')).body) as UiUsage
      expect(usage.total).to.include({costUsd: 0.5, inputTokens: 30, outputTokens: 60, replies: 3, unpricedReplies: 1})
      expect(usage.days.map(d => d.replies)).to.deep.equal([1, 1, 1])
      expect(usage.models.map(m => [m.key, m.replies, m.costUsd])).to.deep.equal([
        ['gpt-4o', 2, 0.5],
        ['claude-sonnet', 1, null],
      ])
      const later = JSON.parse((await get('/api/usage?since=2026-03-02T12:00:00Z')).body) as UiUsage
      expect(later.total.replies).to.equal(1)
      expect((await get('/api/usage?since=soon')).status).to.equal(400)
    })

    it('refuses a bad query with 400', async () => {
      for (const query of ['limit=0', 'limit=x', 'offset=-1', 'sort=price', 'order=up', 'since=yesterday']) {
        expect((await get(`/api/sessions?${query}`)).status, query).to.equal(400)
      }
    })

    it('gives a session with its messages, system prompt and token totals; 404 for an unknown one', async () => {
      await store.update(ids[0], {systemPrompt: 'Be brief.'})
      const view = JSON.parse((await get(`/api/sessions/${ids[0]}`)).body) as UiSessionView
      expect(view.session).to.include({id: ids[0], systemPrompt: 'Be brief.', title: 'Alpha'})
      expect(view.messages.map(m => [m.role, m.content])).to.deep.equal([
        ['user', 'Question for Alpha'],
        ['assistant', 'Answer'],
      ])
      expect(view.totals).to.include({costUsd: 0.25, inputTokens: 10, outputTokens: 20, replies: 1})
      expect(view.messages[1]).to.include({costSource: 'config', costUsd: 0.25})
      expect((await get('/api/sessions/01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).to.equal(404)
      expect((await get(`/api/sessions/${ids[0].slice(0, 8)}`)).status).to.equal(404)
      expect((await get('/api/sessions/..%2F..%2Fetc')).status).to.equal(404)
    })

    it('gives a fork its parent (title or first question, position, whether it still exists) and a parent its forks, oldest first', async () => {
      const viewOf = async (id: string) => JSON.parse((await get(`/api/sessions/${id}`)).body) as UiSessionView
      const early = await store.fork(ids[0], {at: 0, title: 'Alpha, early'})
      const whole = await store.fork(ids[0])
      const untitled = await store.create({})
      await store.append(untitled.id, [{content: 'An untitled question', role: 'user'}])
      const ofUntitled = await store.fork(untitled.id)

      const parent = await viewOf(ids[0])
      expect(parent.parent).to.equal(null)
      expect(parent.forks).to.deep.equal([
        {createdAt: early.createdAt.toISOString(), id: early.id, position: 0, preview: 'Question for Alpha', title: 'Alpha, early'},
        {createdAt: whole.createdAt.toISOString(), id: whole.id, position: 1, preview: 'Question for Alpha', title: 'Alpha (fork)'},
      ])
      expect((await viewOf(ids[1])).forks).to.deep.equal([])
      expect((await viewOf(early.id)).parent).to.deep.equal({exists: true, id: ids[0], position: 0, preview: 'Question for Alpha', title: 'Alpha'})
      expect((await viewOf(early.id)).forks).to.deep.equal([])
      expect((await viewOf(ofUntitled.id)).parent).to.deep.equal({exists: true, id: untitled.id, position: 0, preview: 'An untitled question', title: null})

      await store.delete([ids[0]])
      expect((await viewOf(whole.id)).parent).to.deep.equal({exists: false, id: ids[0], position: 1, preview: null, title: null})
      // The session list marks forks by their parent, deleted or not.
      const list = JSON.parse((await get('/api/sessions')).body) as UiSessionPage
      expect(list.sessions.filter(s => s.parentId !== null).map(s => [s.id, s.parentId, s.parentPosition])).to.have.deep.members([
        [early.id, ids[0], 0],
        [whole.id, ids[0], 1],
        [ofUntitled.id, untitled.id, 0],
      ])
    })

    it('gives every stored message, marking what a retry, an edit or an undo took out and what replaced it; totals count every reply', async () => {
      const [question, reply] = await store.messages(ids[0])
      const answer = (text: string) => ({content: text, costSource: 'config', costUsd: 0.5, inputTokens: 1, outputTokens: 2, role: 'assistant' as const})
      const retried = await store.appendReply(ids[0], question.id, answer('Answer, again'), {replaces: {reply: reply.id}})
      const [edited] = await store.append(ids[0], [{content: 'Question for Alpha, better', role: 'user'}])
      const editedReply = await store.appendReply(ids[0], edited.id, answer('Answer to the better question'), {
        replaces: {question: question.id, reply: retried.id},
      })
      const [undone] = await store.append(ids[0], [{content: 'A question undone', role: 'user', status: 'complete'}])
      await store.undo(ids[0])
      // Another process answers the undone question: its reply is out of the conversation with it.
      await store.append(ids[0], [{...answer('A late answer'), replyTo: undone.id}])

      const view = JSON.parse((await get(`/api/sessions/${ids[0]}`)).body) as UiSessionView
      expect(view.messages.map(m => [m.position, m.content, m.takenOut, m.supersededBy, m.hiddenAt === null])).to.deep.equal([
        [0, 'Question for Alpha', 'edit', edited.id, false],
        [1, 'Answer', 'retry', retried.id, false],
        [2, 'Answer, again', 'edit', editedReply.id, false],
        [3, 'Question for Alpha, better', null, null, true],
        [4, 'Answer to the better question', null, null, true],
        [5, 'A question undone', 'undo', null, false],
        [6, 'A late answer', 'question-out', null, true],
      ])
      // What was paid for: the replaced replies too.
      expect(view.totals).to.include({costUsd: 1.75, replies: 4})
      // A session with nothing taken out has every message current.
      expect((JSON.parse((await get(`/api/sessions/${ids[1]}`)).body) as UiSessionView).messages.map(m => m.takenOut)).to.deep.equal([null, null])
    })

    it('searches through the core: hits with snippets and match ranges, filters, paging and refusals', async () => {
      await store.append(ids[1], [{content: 'The zebra crossing is a striped zebra path.', role: 'assistant'}])
      const page = JSON.parse((await get('/api/search?q=zebra')).body) as UiSearchPage
      expect(page).to.include({limit: 20, more: false, offset: 0, query: 'zebra'})
      expect(page.hits).to.have.length(1)
      const [hit] = page.hits
      expect(hit.session).to.include({id: ids[1], preview: 'Question for Bravo', title: 'Bravo'})
      expect(hit.message).to.include({position: 2, role: 'assistant'})
      expect(hit.snippet.matches.map(r => hit.snippet.text.slice(r.start, r.end))).to.deep.equal(['zebra', 'zebra'])
      expect((JSON.parse((await get('/api/search?q=zebra&role=user')).body) as UiSearchPage).hits).to.deep.equal([])
      const paged = JSON.parse((await get('/api/search?q=question&limit=2')).body) as UiSearchPage
      expect(paged.hits).to.have.length(2)
      expect(paged.more).to.equal(true)
      const rest = JSON.parse((await get('/api/search?q=question&limit=2&offset=2')).body) as UiSearchPage
      expect(rest.hits).to.have.length(1)
      expect(rest.more).to.equal(false)
      for (const query of ['q=', 'q=%21%21', `q=${'x'.repeat(1001)}`, 'q=zebra&role=robot', 'q=zebra&limit=0']) {
        const refused = await get(`/api/search?${query}`)
        expect(refused.status, query).to.equal(400)
        expect(JSON.parse(refused.body).error.code, query).to.equal('INVALID_INPUT')
      }
      // An untitled session's hit carries the preview its listing has.
      const untitled = await store.create({})
      await store.append(untitled.id, [{content: 'An untitled gnu question\nover two lines', role: 'user'}])
      const [gnu] = (JSON.parse((await get('/api/search?q=gnu')).body) as UiSearchPage).hits
      const listed = (JSON.parse((await get('/api/sessions')).body) as UiSessionPage).sessions.find(s => s.id === untitled.id)
      expect(gnu.session).to.include({id: untitled.id, preview: 'An untitled gnu question\nover two lines', title: null})
      expect(gnu.session.preview).to.equal(listed?.preview)
      // A reply a retry replaced: left out, unless replaced=1, and then marked.
      const [asked] = await store.append(ids[2], [{content: 'Which okapi?', role: 'user', status: 'pending'}])
      const first = await store.appendReply(ids[2], asked.id, {content: 'The okapi reply', role: 'assistant'})
      await store.appendReply(ids[2], asked.id, {content: 'Another answer', role: 'assistant'}, {replaces: {reply: first.id}})
      const okapi = async (query: string) => (JSON.parse((await get(`/api/search?${query}`)).body) as UiSearchPage).hits.map(h => [h.snippet.text, h.replaced])
      expect(await okapi('q=okapi')).to.deep.equal([['Which okapi?', false]])
      expect((await okapi('q=okapi&replaced=1')).sort()).to.deep.equal([
        ['The okapi reply', true],
        ['Which okapi?', false],
      ])
    })

    it('exports a session as a download in each format, the bytes "sessions export" writes', async () => {
      const json = await get(`/api/sessions/${ids[0]}/export?format=json`)
      expect(json.headers['content-disposition']).to.equal(`attachment; filename="synapse-${ids[0]}.json"`)
      expect(JSON.parse(json.body).sessions[0]).to.include({id: ids[0], title: 'Alpha'})
      const jsonl = await get(`/api/sessions/${ids[0]}/export?format=jsonl`)
      expect(jsonl.headers['content-type']).to.equal('application/x-ndjson; charset=utf-8')
      expect(jsonl.body.trim().split('\n')).to.have.length(1)
      const markdown = await get(`/api/sessions/${ids[0]}/export?format=markdown`)
      expect(markdown.headers['content-disposition']).to.equal(`attachment; filename="synapse-${ids[0]}.md"`)
      expect(markdown.body).to.include('Question for Alpha')
      expect((await get(`/api/sessions/${ids[0]}/export?format=csv`)).status).to.equal(400)
    })
  })
})

/**
 * Several processes appending to one session at once, as several synapse runs sharing a backend do.
 * A backend's test registers the case in one line with where its store lives:
 *
 *   concurrentAppendsTest({location: () => urlOf(schemas.fresh('concurrency')), open: url => openPostgresStore({url}), worker: '…/append-worker.ts'})
 *
 * and its worker script is as short: `await appendTurnsWorker(url => openPostgresStore({url}))`.
 *
 * It registers a mocha `it` block (mocha globals) and asserts with chai.
 */
import {expect} from 'chai'

import type {SessionStore} from '../store/store.js'
import {runWorker} from './synapse-process.js'

export interface ConcurrentAppendsOptions {
  /** Where a fresh store lives (a URL, or a database file), on each call; given to `open` and to the workers. */
  location(): string
  /** Opens the backend's store at `location`, as the workers do. */
  open(location: string): Promise<SessionStore>
  /** How many processes append at once. Default 4. */
  processes?: number
  /** How many turns each process appends. Default 100 (a multiple of 10). */
  turns?: number
  /** The worker script, from the project root: `appendTurnsWorker` with the backend's opener. */
  worker: string
}

const TAGS = 'abcdefgh'

/**
 * What one worker process does, in `tag`'s name: `turns` question-and-reply turns, half appended as
 * one pair (an import's way), half as a chat turn does them (the question pending, then its reply
 * against it), with reads and other writes in between. The reads matter: read-then-write traffic is
 * what made SQLite's deferred transactions fail with SQLITE_BUSY.
 */
export async function appendTurns(store: SessionStore, sessionId: string, turns: number, tag: string): Promise<void> {
  for (let i = 0; i < turns; i++) {
    const content = {a: `${tag}-${i}-a`, q: `${tag}-${i}-q`}
    let questionId: string
    if (i % 2 === 0) {
      const [question] = await store.append(sessionId, [
        {content: content.q, role: 'user'},
        {content: content.a, role: 'assistant'},
      ])
      questionId = question.id
    } else {
      const [question] = await store.append(sessionId, [{content: content.q, role: 'user', status: 'pending'}])
      await store.appendReply(sessionId, question.id, {content: content.a, role: 'assistant'})
      questionId = question.id
    }
    await store.list({limit: 5})
    if (i % 10 === 0) await store.create({title: `${tag}-${i}`})
    if (i % 25 === 0) await store.update(sessionId, {title: `last touched by ${tag}`})
    if (i % 7 === 0) await store.updateMessage(sessionId, questionId, {metadata: {touchedBy: tag}})
  }
}

/** A worker script's whole body: argv is `location sessionId turns tag`. */
export async function appendTurnsWorker(open: (location: string) => Promise<SessionStore>): Promise<void> {
  const [location, sessionId, turns, tag] = process.argv.slice(2)
  const store = await open(location)
  try {
    await appendTurns(store, sessionId, Number(turns), tag)
  } finally {
    await store.close()
  }
}

export function concurrentAppendsTest(options: ConcurrentAppendsOptions): void {
  const processes = options.processes ?? 4
  const turns = options.turns ?? 100
  it(`lets ${processes} processes append to one session at once, losing nothing, each position once`, async function () {
    this.timeout(120_000)
    const location = options.location()
    const store = await options.open(location)
    const session = await store.create({title: 'shared'})
    await store.close()

    const tags = [...TAGS.slice(0, processes)]
    const results = await Promise.all(tags.map(tag => runWorker(options.worker, [location, session.id, String(turns), tag])))
    for (const result of results) expect(result).to.deep.equal({code: 0, stderr: ''})

    const reopened = await options.open(location)
    try {
      const messages = await reopened.messages(session.id)
      const total = tags.length * 2 * turns
      expect(messages.length).to.equal(total)
      expect(messages.map(m => m.position)).to.deep.equal(Array.from({length: total}, (_, i) => i))
      for (const tag of tags) {
        const mine = messages.filter(m => m.content.startsWith(`${tag}-`))
        // Each worker's turns arrive whole and in its own order.
        expect(mine.map(m => m.content)).to.deep.equal(Array.from({length: turns}, (_, i) => [`${tag}-${i}-q`, `${tag}-${i}-a`]).flat())
        for (let i = 0; i < turns; i++) {
          const [question, reply] = [mine[2 * i], mine[2 * i + 1]]
          expect(question, question.content).to.deep.include({replyTo: null, status: 'complete'})
          if (i % 2 === 0) {
            // One append: side by side, whatever the others wrote meanwhile.
            expect([reply.position, reply.replyTo, reply.status], reply.content).to.deep.equal([question.position + 1, null, 'complete'])
          } else {
            // A chat turn: the reply names its question, which it completed.
            expect([reply.replyTo, reply.status], reply.content).to.deep.equal([question.id, 'complete'])
          }
          expect(question.metadata, question.content).to.deep.equal(i % 7 === 0 ? {touchedBy: tag} : {})
        }
      }
      expect(await reopened.count()).to.equal(1 + tags.length * (turns / 10))
      expect((await reopened.get(session.id)).title).to.match(new RegExp(`^last touched by [${tags.join('')}]$`))
      const [summary] = (await reopened.list({limit: 1000})).filter(s => s.id === session.id)
      expect(summary).to.deep.include({messageCount: total})
      expect(summary.preview).to.match(new RegExp(`^[${tags.join('')}]-0-q$`))
    } finally {
      await reopened.close()
    }
  })
}

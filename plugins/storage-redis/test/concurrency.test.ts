import {expect} from 'chai'

import {runWorker} from 'synapse-cli/testing'
import {openRedisStore} from '../src/redis-adapter.js'
import {Prefixes} from './helpers.js'

describe('Redis store shared by several processes', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  it('lets four processes append to one session at once, losing nothing, each position once', async function () {
    this.timeout(120_000)
    const url = prefixes.url('concurrency')
    const store = await openRedisStore({url})
    const session = await store.create({title: 'shared'})
    await store.close()

    const perWorker = 100
    const tags = ['a', 'b', 'c', 'd']
    const results = await Promise.all(
      tags.map(tag => runWorker('plugins/storage-redis/test/fixtures/append-worker.ts', [url, session.id, String(perWorker), tag])),
    )
    for (const result of results) {
      expect(result.stderr).to.equal('')
      expect(result.code).to.equal(0)
    }

    const reopened = await openRedisStore({url})
    try {
      const messages = await reopened.messages(session.id)
      expect(messages.length).to.equal(tags.length * 2 * perWorker)
      expect(messages.map(m => m.position)).to.deep.equal(Array.from({length: tags.length * 2 * perWorker}, (_, i) => i))
      for (const tag of tags) {
        const mine = messages.filter(m => m.content.startsWith(`${tag}-`))
        // Each worker's turns arrive whole and in its own order; every question was completed by its own reply.
        expect(mine.map(m => m.content)).to.deep.equal(Array.from({length: perWorker}, (_, i) => [`${tag}-${i}-q`, `${tag}-${i}-a`]).flat())
        for (let i = 0; i < mine.length; i += 2) {
          expect(mine[i]).to.deep.include({replyTo: null, status: 'complete'})
          expect(mine[i + 1]).to.deep.include({replyTo: mine[i].id, status: 'complete'})
          expect(mine[i].metadata).to.deep.equal((i / 2) % 7 === 0 ? {touchedBy: tag} : {})
        }
      }
      expect(await reopened.count()).to.equal(1 + tags.length * (perWorker / 10))
      expect((await reopened.get(session.id)).title).to.match(/^last touched by [abcd]$/)
      const [summary] = (await reopened.list({limit: 100})).filter(s => s.id === session.id)
      expect(summary).to.deep.include({messageCount: tags.length * 2 * perWorker})
      expect(summary.preview).to.match(/^[abcd]-0-q$/)
    } finally {
      await reopened.close()
    }
  })
})

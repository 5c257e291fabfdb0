import {expect} from 'chai'

import {runWorker} from 'synapse-cli/testing'
import {openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf} from './helpers.js'

describe('PostgreSQL store shared by several processes', () => {
  const schemas = new Schemas()
  after(() => schemas.dropAll())

  it('lets three processes append to one session at once, losing nothing', async function () {
    this.timeout(120_000)
    const url = urlOf(schemas.fresh('concurrency'))
    const store = await openPostgresStore({url})
    const session = await store.create({title: 'shared'})
    await store.close()

    const perWorker = 100
    const tags = ['a', 'b', 'c']
    const results = await Promise.all(
      tags.map(tag => runWorker('plugins/storage-postgres/test/fixtures/append-worker.ts', [url, session.id, String(perWorker), tag])),
    )
    for (const result of results) {
      expect(result.stderr).to.equal('')
      expect(result.code).to.equal(0)
    }

    const reopened = await openPostgresStore({url})
    try {
      const messages = await reopened.messages(session.id)
      expect(messages.length).to.equal(tags.length * 2 * perWorker)
      expect(messages.map(m => m.position)).to.deep.equal(Array.from({length: tags.length * 2 * perWorker}, (_, i) => i))
      for (const tag of tags) {
        const mine = messages.filter(m => m.content.startsWith(`${tag}-`)).map(m => m.content)
        // Each worker's pairs arrive whole and in its own order.
        expect(mine).to.deep.equal(Array.from({length: perWorker}, (_, i) => [`${tag}-${i}-q`, `${tag}-${i}-a`]).flat())
      }
      for (let i = 0; i < messages.length; i += 2) expect(messages[i].content.slice(0, -1)).to.equal(messages[i + 1].content.slice(0, -1))
      expect(await reopened.count()).to.equal(1 + tags.length * (perWorker / 10))
      expect((await reopened.get(session.id)).title).to.match(/^last touched by [abc]$/)
    } finally {
      await reopened.close()
    }
  })
})

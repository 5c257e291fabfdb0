import {expect} from 'chai'
import {ManualClock} from 'synapse-cli/testing'

import {openRedisStore} from '../src/redis-adapter.js'
import {keysUnder, Prefixes, SERVER_URL, withClient} from './helpers.js'

describe('Redis key layout', () => {
  const prefixes = new Prefixes()
  after(() => prefixes.dropAll())

  it('keeps everything under the URL’s prefix, as README describes, and leaves no key behind', async () => {
    const prefix = prefixes.fresh('layout')
    const url = new URL(SERVER_URL)
    url.searchParams.set('prefix', prefix)
    const clock = new ManualClock()
    const store = await openRedisStore({clock: clock.now, url: url.toString()})
    try {
      const session = await store.create({title: 'laid out'})
      const [question, reply] = await store.append(session.id, [
        {content: 'Where?', role: 'user'},
        {content: 'Here.', role: 'assistant'},
      ])
      expect(await keysUnder(prefix)).to.deep.equal(
        [`${prefix}message-ids`, `${prefix}messages:${session.id}`, `${prefix}session-ids`, `${prefix}session:${session.id}`, `${prefix}sessions`].sort(),
      )

      await withClient(async client => {
        expect(await client.hGetAll(`${prefix}session:${session.id}`)).to.deep.equal({
          createdAt: String(clock.now().getTime()),
          kept: 'false',
          metadata: '{}',
          model: 'null',
          parentId: 'null',
          parentPosition: 'null',
          preview: '"Where?"',
          previewId: question.id,
          provider: 'null',
          systemPrompt: 'null',
          title: '"laid out"',
          updatedAt: String(clock.now().getTime() + 1),
        })
        expect(await client.zRangeWithScores(`${prefix}sessions`, 0, -1)).to.deep.equal([{score: clock.now().getTime() + 1, value: session.id}])
        expect(await client.zRange(`${prefix}session-ids`, 0, -1)).to.deep.equal([session.id])
        expect(await client.hGetAll(`${prefix}message-ids`)).to.deep.equal({[question.id]: session.id, [reply.id]: session.id})
        const [first] = await client.lRange(`${prefix}messages:${session.id}`, 0, 0)
        expect(first.startsWith(`{"position":0,"id":"${question.id}","cachedInputTokens":null,"content":"Where?",`)).to.equal(true)
      })

      await store.delete([session.id])
      expect(await keysUnder(prefix)).to.deep.equal([])
    } finally {
      await store.close()
    }
  })

  it('keeps two prefixes on one server apart', async () => {
    const [a, b] = [prefixes.url('apart'), prefixes.url('apart')]
    const first = await openRedisStore({url: a})
    const second = await openRedisStore({url: b})
    try {
      await first.create({title: 'only in a'})
      expect(await first.count()).to.equal(1)
      expect(await second.count()).to.equal(0)
      expect(await second.list()).to.deep.equal([])
    } finally {
      await Promise.all([first.close(), second.close()])
    }
  })
})

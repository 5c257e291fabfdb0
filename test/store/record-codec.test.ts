import {expect} from 'chai'

import {MESSAGE_FIELDS, messageFromText, messageText, SESSION_FIELDS, sessionFields, sessionFromFields} from '../../src/store/record-codec.js'
import type {Message, Session} from '../../src/store/session-store.js'
import {sessionRecord} from '../../src/testing/session-store-suite.js'

const SESSION_ID = '01JD0000000000000000000001'
const MESSAGE_ID = '01JD0000000000000000000002'
const REPLACEMENT_ID = '01JD0000000000000000000003'
const AT = new Date('2026-03-04T05:06:07.089Z')

/** A session with every field set to something other than what an absent field reads as. */
const SESSION: Session = {
  createdAt: AT,
  id: SESSION_ID,
  kept: true,
  metadata: {empty: [], nested: {deep: [1, 'two', null]}},
  model: 'gpt-4o',
  parentId: '01JD00000000000000000000PA',
  parentPosition: 0,
  provider: 'openai',
  systemPrompt: 'Be "brief".\nVery.',
  title: 'Ünïcode 🧪 and a lone half \ud83e',
  updatedAt: new Date(AT.getTime() + 1),
}

/** A message with every field set: a hidden, pending, priced reply. */
const MESSAGE: Message = {
  cachedInputTokens: 7,
  content: 'Line one\nline "two" \u0000 ✓',
  costSource: 'catalogue',
  costUsd: 0.000125,
  createdAt: AT,
  durationMs: 1500,
  finishReason: 'stop',
  hiddenAt: new Date(AT.getTime() + 5),
  id: MESSAGE_ID,
  inputTokens: 12,
  metadata: {empty: [], tool: {name: 'x'}},
  model: 'gpt-4o',
  outputTokens: 34,
  position: 41,
  provider: 'openai',
  replyTo: '01JD00000000000000000000QQ',
  role: 'assistant',
  sessionId: SESSION_ID,
  status: 'pending',
  supersededBy: REPLACEMENT_ID,
  tokenSource: 'estimate',
}

describe('record codec: records as text', () => {
  describe('sessions as text fields', () => {
    it('round-trips every field of every kind, the id held by the key rather than a field', () => {
      const fields = sessionFields(SESSION)
      expect(Object.keys(fields).sort()).to.deep.equal(
        Object.keys(SESSION_FIELDS)
          .filter(field => field !== 'id')
          .sort(),
      )
      expect(fields).to.deep.include({createdAt: String(AT.getTime()), kept: 'true', parentPosition: '0', title: JSON.stringify(SESSION.title)})
      expect(sessionFromFields(SESSION_ID, fields)).to.deep.equal(SESSION)
      const unset = {...SESSION, kept: false, metadata: {}, model: null, parentId: null, parentPosition: null, provider: null, systemPrompt: null, title: null}
      expect(sessionFields(unset)).to.deep.include({kept: 'false', metadata: '{}', parentPosition: 'null', title: 'null'})
      expect(sessionFromFields(SESSION_ID, sessionFields(unset))).to.deep.equal(unset)
    })

    it('writes only the fields a patch names, so that a patch is the fields it changes', () => {
      expect(sessionFields({kept: true, model: undefined, title: null})).to.deep.equal({kept: 'true', title: 'null'})
      expect(sessionFields({})).to.deep.equal({})
    })

    it('reads fields a hash lacks (written before they existed) as absent, and ignores fields it does not know', () => {
      const old = {createdAt: '1000', preview: '"Hi"', previewId: MESSAGE_ID, title: '"old"', updatedAt: '2000'}
      // A session with nothing optional set: what an old hash lacks reads as unset.
      expect(sessionFromFields(SESSION_ID, old)).to.deep.equal(
        sessionRecord({createdAt: new Date(1000), id: SESSION_ID, title: 'old', updatedAt: new Date(2000)}),
      )
    })
  })

  describe('messages as one JSON text', () => {
    it('round-trips every field of every kind, behind the fixed head, with times as epoch milliseconds', () => {
      const text = messageText(MESSAGE)
      expect(text.startsWith(`{"position":41,"id":"${MESSAGE_ID}","cachedInputTokens":7,`)).to.equal(true)
      expect(JSON.parse(text)).to.deep.include({createdAt: AT.getTime(), hiddenAt: AT.getTime() + 5})
      expect(Object.keys(JSON.parse(text))).to.have.members(Object.keys(MESSAGE_FIELDS))
      expect(messageFromText(text, SESSION_ID)).to.deep.equal(MESSAGE)
      const plain = {...MESSAGE, cachedInputTokens: null, hiddenAt: null, metadata: {}, replyTo: null, status: 'complete', supersededBy: null} as const
      expect(messageFromText(messageText(plain), SESSION_ID)).to.deep.equal(plain)
    })

    it('gives an unplaced message the head without its position, which a backend adds after the brace', () => {
      const {position, ...unplaced} = MESSAGE
      const text = messageText(unplaced)
      expect(text.startsWith(`{"id":"${MESSAGE_ID}",`)).to.equal(true)
      expect(`{"position":${position},${text.slice(1)}`).to.equal(messageText(MESSAGE))
    })

    it('writes only the fields a change names; spliced onto the end of a record, the change wins', () => {
      expect(messageText({status: 'complete'})).to.equal('{"status":"complete"}')
      const hide = messageText({hiddenAt: AT, supersededBy: REPLACEMENT_ID, tokenSource: undefined})
      expect(hide).to.equal(`{"hiddenAt":${AT.getTime()},"supersededBy":"${REPLACEMENT_ID}"}`)
      const stored = messageText({...MESSAGE, hiddenAt: null, status: 'pending', supersededBy: null})
      const spliced = `${stored.slice(0, -1)},${messageText({status: 'complete'}).slice(1, -1)},${hide.slice(1)}`
      expect(messageFromText(spliced, SESSION_ID)).to.deep.equal({...MESSAGE, hiddenAt: AT, status: 'complete'})
    })

    it('reads fields a record lacks (written before they existed) as absent', () => {
      const old = `{"position":2,"id":"${MESSAGE_ID}","status":"pending","content":"Old?","createdAt":1000,"durationMs":null,"finishReason":null,"inputTokens":null,"metadata":{},"model":null,"outputTokens":null,"provider":null,"role":"user"}`
      expect(messageFromText(old, SESSION_ID)).to.deep.equal({
        cachedInputTokens: null,
        content: 'Old?',
        costSource: null,
        costUsd: null,
        createdAt: new Date(1000),
        durationMs: null,
        finishReason: null,
        hiddenAt: null,
        id: MESSAGE_ID,
        inputTokens: null,
        metadata: {},
        model: null,
        outputTokens: null,
        position: 2,
        provider: null,
        replyTo: null,
        role: 'user',
        sessionId: SESSION_ID,
        status: 'pending',
        supersededBy: null,
        tokenSource: null,
      })
      const withoutStatus = `{"position":0,"id":"${MESSAGE_ID}","content":"","createdAt":0,"role":"user"}`
      expect(messageFromText(withoutStatus, SESSION_ID)).to.deep.include({metadata: {}, status: 'complete'})
    })
  })
})

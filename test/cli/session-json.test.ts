import {expect} from 'chai'

import {messageJson, sessionJson} from '../../src/cli/views/sessions.js'
import {messageRecord, sessionRecord} from '../../src/testing/session-store-suite.js'

/** The same object with its fields in the opposite order, as another adapter may build it. */
function reversed<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).reverse()) as T
}

describe('--json of a session and a message', () => {
  const session = sessionRecord({id: '01K0000004EEEEEEEEEEEEEEEE', metadata: {tenant: 'acme'}, model: 'gpt-fake', provider: 'openai', title: 'Notes'})
  const message = messageRecord({content: 'q', id: '01MEEEEEEEEEEEEE0000000000', sessionId: session.id})

  it('is the same text whatever order the backend built the fields in, names in byte order', () => {
    expect(JSON.stringify(sessionJson(reversed(session)))).to.equal(JSON.stringify(sessionJson(session)))
    expect(Object.keys(sessionJson(reversed(session)))).to.deep.equal(Object.keys(session).sort())
    expect(JSON.stringify(messageJson(reversed(message)))).to.equal(JSON.stringify(messageJson(message)))
    expect(Object.keys(messageJson(reversed(message)))).to.deep.equal(Object.keys(message).sort())
  })
})

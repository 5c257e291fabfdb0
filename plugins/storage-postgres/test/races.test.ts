import {expect} from 'chai'
import type pg from 'pg'
import {type SessionStore, SynapseError} from 'synapse-cli'
import {messageRecord, sessionRecord} from 'synapse-cli/testing'

import {openPostgresStore} from '../src/postgres-store.js'
import {Schemas, urlOf, waitForLockWaiters, withClient} from './helpers.js'

async function codeOf(promise: Promise<unknown>): Promise<{code: string; message: string}> {
  try {
    await promise
  } catch (error) {
    expect(error, String(error)).to.be.instanceOf(SynapseError)
    return {code: (error as SynapseError).code, message: (error as SynapseError).message}
  }
  expect.fail('the call succeeded')
}

/**
 * What another process does at the worst moment, played by a second connection that holds its
 * transaction open until the store's statement waits for it. Each race then has one outcome.
 */
describe('PostgreSQL store: writers racing another process', () => {
  const schemas = new Schemas()
  let schema: string
  let store: SessionStore
  let other: pg.Client
  let closeOther: () => void
  let otherDone: Promise<void>

  beforeEach(async () => {
    schema = schemas.fresh('races')
    store = await openPostgresStore({url: urlOf(schema)})
    // A connection kept open for the whole test, in the store's schema.
    let ready!: (client: pg.Client) => void
    const opened = new Promise<pg.Client>(resolve => (ready = resolve))
    otherDone = withClient(async client => {
      await client.query(`SET search_path = "${schema}"`)
      ready(client)
      await new Promise<void>(resolve => (closeOther = resolve))
    })
    other = await opened
  })

  afterEach(async () => {
    closeOther()
    await otherDone
    await store.close()
  })
  after(() => schemas.dropAll())

  it('create with an id another process is inserting: INVALID_INPUT once it commits', async () => {
    const id = '01JR0000000000000000000000'
    await other.query('BEGIN')
    await other.query('INSERT INTO sessions (id, title, created_at, updated_at) VALUES ($1, $2, 1, 1)', [id, 'theirs'])
    const mine = codeOf(store.create({id, title: 'mine'}))
    await waitForLockWaiters(other)
    await other.query('COMMIT')
    expect(await mine).to.deep.equal({code: 'INVALID_INPUT', message: `A session with the id ${id} already exists.`})
    expect((await store.get(id)).title).to.equal('theirs')
  })

  it('restore of a message id another process is inserting: INVALID_INPUT, nothing written', async () => {
    const theirs = '01JR1111111111111111111111'
    const messageId = '01JR1111111111111111111112'
    await other.query('BEGIN')
    await other.query('INSERT INTO sessions (id, created_at, updated_at) VALUES ($1, 1, 1)', [theirs])
    await other.query("INSERT INTO messages (id, session_id, position, role, content, status, created_at) VALUES ($1, $2, 0, 'user', 'x', 'complete', 1)", [
      messageId,
      theirs,
    ])
    const session = sessionRecord({createdAt: new Date(5), id: '01JR2222222222222222222222', title: 'import', updatedAt: new Date(6)})
    const message = messageRecord({content: 'y', createdAt: new Date(5), id: messageId, sessionId: session.id})
    const restoring = codeOf(store.restore({messages: [message], session}))
    await waitForLockWaiters(other)
    await other.query('COMMIT')
    expect(await restoring).to.deep.equal({code: 'INVALID_INPUT', message: `A message with the id ${messageId} already exists.`})
    expect(await store.count()).to.equal(1)
  })

  it('finishing a reply while another process clears the session: MESSAGE_NOT_FOUND, no deadlock', async () => {
    const session = await store.create()
    const [reply] = await store.append(session.id, [{content: 'partial', role: 'assistant', status: 'interrupted'}])
    // The other process clears the session as the store does: the session row first, then its messages.
    await other.query('BEGIN')
    await other.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [session.id])
    const finishing = codeOf(store.updateMessage(session.id, reply.id, {content: 'whole reply', status: 'complete'}))
    await waitForLockWaiters(other)
    await other.query('DELETE FROM messages WHERE session_id = $1', [session.id])
    await other.query('COMMIT')
    expect(await finishing).to.deep.equal({code: 'MESSAGE_NOT_FOUND', message: `No message has the id "${reply.id}".`})
    expect(await store.messages(session.id)).to.deep.equal([])
  })

  it('prune never deletes a session another process is appending to', async () => {
    const id = '01JR3333333333333333333333'
    await other.query("INSERT INTO sessions (id, title, created_at, updated_at) VALUES ($1, 'old but busy', 1000, 1000)", [id])
    // The other process appends as the store does: it holds the session row, writes, makes it new.
    await other.query('BEGIN')
    await other.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [id])
    const pruning = store.prune({olderThan: new Date(1_000_000)})
    await waitForLockWaiters(other)
    await other.query(
      "INSERT INTO messages (id, session_id, position, role, content, status, created_at) VALUES ('01JR3333333333333333333334', $1, 0, 'user', 'hello', 'complete', $2)",
      [id, Date.now()],
    )
    await other.query('UPDATE sessions SET updated_at = $1 WHERE id = $2', [Date.now(), id])
    await other.query('COMMIT')
    expect((await pruning).deleted).to.deep.equal([])
    expect((await store.messages(id)).map(m => m.content)).to.deep.equal(['hello'])
    // Once it is due, it goes.
    expect((await store.prune({olderThan: new Date(Date.now() + 60_000)})).deleted.map(s => s.id)).to.deep.equal([id])
  })

  it('a write waits for a locked row at most busyTimeoutMs, then STORAGE_BUSY', async () => {
    const impatient = await openPostgresStore({busyTimeoutMs: 200, url: urlOf(schema)})
    // Its 4 s are below the 5 s default: had the 200 ms not been applied, this one would give up first.
    const patient = await openPostgresStore({busyTimeoutMs: 4000, url: urlOf(schema)})
    try {
      const session = await impatient.create()
      await other.query('BEGIN')
      await other.query('SELECT id FROM sessions WHERE id = $1 FOR UPDATE', [session.id])
      let patientSettled = false
      const waiting = patient.append(session.id, [{content: 'patient', role: 'user'}]).finally(() => (patientSettled = true))
      waiting.catch(() => undefined)
      await waitForLockWaiters(other)
      const result = await codeOf(impatient.append(session.id, [{content: 'x', role: 'user'}]))
      expect(result.code).to.equal('STORAGE_BUSY')
      expect(result.message).to.equal(`The session database at ${urlOf(schema)} stayed locked by another process for 0.2 s.`)
      expect(patientSettled, 'the writer with the longer busy timeout still waits').to.equal(false)
      await other.query('ROLLBACK')
      expect((await waiting)[0].position).to.equal(0)
      expect((await impatient.append(session.id, [{content: 'x', role: 'user'}]))[0].position).to.equal(1)
    } finally {
      await impatient.close()
      await patient.close()
    }
  })
})

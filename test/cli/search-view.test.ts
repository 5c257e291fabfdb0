import {expect} from 'chai'

import {localTimestamp} from '../../src/cli/output.js'
import {renderHits, searchHitJson} from '../../src/cli/views/search.js'
import {headline} from '../../src/cli/views/sessions.js'
import {displayWidth} from '../../src/cli/width.js'
import {MemorySessionStore} from '../../src/store/memory-store.js'
import type {SearchHit} from '../../src/store/search.js'

const HOSTILE = 'x\u001B]0;pwned\u0007y'
const plain = {color: false, terminal: true}
const pipe = {color: false, terminal: false}

describe('search hits view: a session named as the list names it', () => {
  let store: MemorySessionStore
  /** Session id -> its name in `sessions list` (the TITLE column). */
  let listed: Map<string, string>
  let hits: SearchHit[]

  beforeEach(async () => {
    store = new MemorySessionStore()
    const untitled = await store.create({id: '01JCAAAAAAAAAAAAAAAAAAAAAA', model: 'gpt-4o', provider: 'openai'})
    const [question] = await store.append(untitled.id, [{content: `Why do zebras\nhave stripes? ${HOSTILE}`, role: 'user', status: 'pending'}])
    await store.appendReply(untitled.id, question.id, {content: 'The stripes of a zebra confuse flies', role: 'assistant'})
    const titled = await store.create({id: '01JCBBBBBBBBBBBBBBBBBBBBBB', title: 'Zebra facts'})
    await store.append(titled.id, [{content: 'How fast is a zebra?', role: 'user'}])
    // No question at all: nothing to preview.
    const unasked = await store.create({id: '01JCCCCCCCCCCCCCCCCCCCCCCC'})
    await store.append(unasked.id, [{content: 'A zebra, unprompted', role: 'assistant'}])
    listed = new Map((await store.list()).map(s => [s.id, headline(s)]))
    hits = await store.search('zebra', {role: 'user'})
    hits.push(...(await store.search('zebra', {role: 'assistant'})))
  })
  afterEach(() => store.close())

  it('names each hit on a terminal by the title, else the first question made safe, else (empty)', () => {
    expect([...listed.values()].sort()).to.deep.equal(['(empty)', String.raw`Why do zebras have stripes? x\x1b]0;pwned\x07y`, 'Zebra facts'].sort())
    const lines = renderHits(hits, plain)
    expect(lines).to.have.length(2 * hits.length)
    hits.forEach((hit, i) => {
      const model = hit.session.model ? '  openai/gpt-4o' : ''
      expect(lines[2 * i]).to.equal(
        `${hit.session.shortId}  ${listed.get(hit.session.id)}  ${localTimestamp(hit.message!.createdAt)}${model}  ${hit.message!.role}`,
      )
    })
    expect(lines.filter(line => line.includes('\u001B'))).to.deep.equal([])
  })

  it('gives the name as the last field of a pipe line, after the six it had', () => {
    const lines = renderHits(hits, pipe)
    hits.forEach((hit, i) => {
      const fields = lines[i].split('\t')
      expect(fields).to.have.length(7)
      expect(fields.slice(0, 3)).to.deep.equal([hit.session.id, hit.message!.id, hit.message!.role])
      expect(fields[6]).to.equal(listed.get(hit.session.id))
    })
  })

  it('cuts a long name to the width of a narrow terminal, keeping the date, model and role', async () => {
    const long = await store.create()
    await store.append(long.id, [{content: `zebra ${'crossing '.repeat(20)}`, role: 'user'}])
    const [hit] = await store.search('crossing')
    expect(hit.session.preview).to.have.length(100)
    const [head] = renderHits([hit], plain, {width: 60})
    expect(displayWidth(head)).to.equal(60)
    expect(head).to.match(new RegExp(`^${hit.session.shortId}  zebra crossing crossing .*…  ${localTimestamp(hit.message!.createdAt)}  user$`))
    // Never narrower than the list's TITLE column: a tiny terminal wraps the head rather than lose the name.
    const [tiny] = renderHits([hit], plain, {width: 20})
    expect(tiny.split('  ')[1]).to.have.length(24)
    expect(renderHits([hit], plain)[0]).to.contain(hit.session.preview!.trim())
  })

  it('keeps the preview in --json, exactly as stored, beside the title', async () => {
    const byId = new Map((await store.list()).map(s => [s.id, s.preview]))
    for (const hit of hits) {
      const json = searchHitJson(hit)
      expect(json.session).to.have.property('preview', byId.get(hit.session.id))
      expect(Object.keys(json.session)).to.deep.equal(['id', 'model', 'preview', 'provider', 'shortId', 'title', 'updatedAt'])
    }
    expect(searchHitJson(hits.find(h => h.session.title === null && h.session.preview !== null)!).session.preview).to.equal(
      `Why do zebras\nhave stripes? ${HOSTILE}`,
    )
  })
})

import Anthropic from '@anthropic-ai/sdk'
import {expect} from 'chai'
import {eventually} from 'synapse-cli/testing'

import {FakeAnthropicServer} from './anthropic-server.js'

const KEY = 'sk-ant-test-7c1e9a2f4b6d'
const hi: Anthropic.MessageParam[] = [{content: 'Hi', role: 'user'}]

describe('FakeAnthropicServer through the Anthropic SDK', () => {
  let server: FakeAnthropicServer
  let client: Anthropic

  beforeEach(async () => {
    server = await FakeAnthropicServer.start()
    client = new Anthropic({apiKey: KEY, baseURL: server.url, maxRetries: 0})
  })

  afterEach(async () => {
    await server.close()
  })

  it('listens on 127.0.0.1 and is reached at its bare origin', () => {
    expect(server.url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(server.url).to.equal(server.origin)
  })

  it('answers a non-streaming request with a whole message', async () => {
    server.reply(['Hello', ' there'], {finishReason: 'max_tokens', usage: {inputTokens: 9, outputTokens: 2}})

    const message = await client.messages.create({max_tokens: 100, messages: hi, model: 'claude-fake', system: 'Be brief.'})

    expect(message).to.deep.include({id: 'msg_fake_1', model: 'claude-fake', role: 'assistant', stop_reason: 'max_tokens', type: 'message'})
    expect(message.content).to.deep.equal([{citations: null, text: 'Hello there', type: 'text'}])
    expect({input: message.usage.input_tokens, output: message.usage.output_tokens}).to.deep.equal({input: 9, output: 2})
    expect(server.requests[0].chat).to.deep.equal({
      maxTokens: 100,
      messages: [
        {content: 'Be brief.', role: 'system'},
        {content: 'Hi', role: 'user'},
      ],
      model: 'claude-fake',
      stream: false,
    })
  })

  it('streams named events that the SDK parses, pings included on the wire', async () => {
    server.reply(['x', 'y'], {usage: {inputTokens: 4, outputTokens: 2}})
    server.reply(['x', 'y'])

    const stream = await client.messages.create({max_tokens: 100, messages: hi, model: 'claude-fake', stream: true})
    const events: unknown[] = []
    for await (const event of stream) {
      switch (event.type) {
        case 'content_block_delta': {
          events.push([event.type, event.delta])
          break
        }

        case 'message_delta': {
          events.push([event.type, event.delta.stop_reason, event.usage])
          break
        }

        case 'message_start': {
          events.push([event.type, event.message.usage.input_tokens, event.message.usage.output_tokens])
          break
        }

        default: {
          events.push([event.type])
        }
      }
    }

    expect(events).to.deep.equal([
      ['message_start', 4, 1],
      ['content_block_start'],
      ['content_block_delta', {text: 'x', type: 'text_delta'}],
      ['content_block_delta', {text: 'y', type: 'text_delta'}],
      ['content_block_stop'],
      ['message_delta', 'end_turn', {output_tokens: 2}],
      ['message_stop'],
    ])

    const response = await fetch(`${server.url}/v1/messages`, {
      body: JSON.stringify({max_tokens: 100, messages: hi, model: 'claude-fake', stream: true}),
      headers: {'anthropic-version': '2026-10-21', 'content-type': 'application/json'},
      method: 'POST',
    })
    const text = await response.text()
    expect(response.headers.get('content-type')).to.equal('text/event-stream')
    expect(text.split('\n').filter(line => line.startsWith('event: '))).to.deep.equal([
      'event: message_start',
      'event: content_block_start',
      'event: ping',
      'event: content_block_delta',
      'event: content_block_delta',
      'event: content_block_stop',
      'event: message_delta',
      'event: message_stop',
    ])
  })

  it('reports an SSE error event, which the SDK throws as an APIError with the error type', async () => {
    server.enqueue({chunks: ['a', 'b'], streamError: {afterChunks: 1, errorType: 'overloaded_error', message: 'Overloaded'}, type: 'reply'})

    const stream = await client.messages.create({max_tokens: 100, messages: hi, model: 'claude-fake', stream: true})
    const types: string[] = []
    const thrown = await (async () => {
      for await (const event of stream) types.push(event.type)
    })().catch((error: unknown) => error)

    expect(types).to.deep.equal(['message_start', 'content_block_start', 'content_block_delta'])
    expect(thrown).to.be.instanceOf(Anthropic.APIError)
    const error = thrown as InstanceType<typeof Anthropic.APIError>
    expect({apiMessage: error.apiMessage, status: error.status, type: error.type}).to.deep.equal({
      apiMessage: 'Overloaded',
      status: undefined,
      type: 'overloaded_error',
    })
  })

  it('answers a scripted error in Anthropic’s shape, with a request id and the scripted headers', async () => {
    server.fail(529, 'Overloaded', {code: 'capacity', headers: {'retry-after': '3'}})

    const response = await fetch(`${server.url}/v1/messages`, {
      body: JSON.stringify({max_tokens: 100, messages: hi, model: 'claude-fake'}),
      headers: {'anthropic-version': '2026-10-21', 'content-type': 'application/json'},
      method: 'POST',
    })

    expect(response.status).to.equal(529)
    expect({requestId: response.headers.get('request-id'), retryAfter: response.headers.get('retry-after')}).to.deep.equal({
      requestId: 'req_fake_1',
      retryAfter: '3',
    })
    expect(await response.json()).to.deep.equal({
      error: {details: {error_code: 'capacity'}, message: 'Overloaded', type: 'overloaded_error'},
      request_id: 'req_fake_1',
      type: 'error',
    })
  })

  it('maps statuses to the API’s error types, which the SDK exposes', async () => {
    const statuses = [400, 401, 403, 404, 429, 500, 529]
    for (const status of statuses) server.fail(status, `status ${status}`)

    const types: unknown[] = []
    for (const _status of statuses) {
      const error = await client.messages.create({max_tokens: 100, messages: hi, model: 'claude-fake'}).catch((error: unknown) => error)
      types.push((error as InstanceType<typeof Anthropic.APIError>).type)
    }

    expect(types).to.deep.equal([
      'invalid_request_error',
      'authentication_error',
      'permission_error',
      'not_found_error',
      'rate_limit_error',
      'api_error',
      'overloaded_error',
    ])
  })

  it('refuses, as the API does, a request without anthropic-version or max_tokens, using no script', async () => {
    server.reply(['unused'])
    const post = async (headers: Record<string, string>, body: unknown) => {
      const response = await fetch(`${server.url}/v1/messages`, {
        body: JSON.stringify(body),
        headers: {'content-type': 'application/json', ...headers},
        method: 'POST',
      })
      return [response.status, ((await response.json()) as {error: {message: string}}).error.message]
    }

    expect(await post({}, {max_tokens: 10, messages: hi, model: 'claude-fake'})).to.deep.equal([400, 'anthropic-version: header is required'])
    expect(await post({'anthropic-version': '2026-10-21'}, {messages: hi, model: 'claude-fake'})).to.deep.equal([400, 'max_tokens: Field required'])
    const message = await client.messages.create({max_tokens: 10, messages: hi, model: 'claude-fake'})
    expect(message.content).to.deep.equal([{citations: null, text: 'unused', type: 'text'}])
  })

  it('answers unknown paths with an Anthropic-shaped 404', async () => {
    const response = await fetch(`${server.url}/v1/complete`, {method: 'POST'})

    expect(response.status).to.equal(404)
    expect(await response.json()).to.deep.equal({error: {message: 'Not Found', type: 'not_found_error'}, request_id: 'req_fake_1', type: 'error'})
    expect(server.requests.map(request => [request.method, request.path, request.chat])).to.deep.equal([['POST', '/v1/complete', undefined]])
  })

  it('uses queued responses in order, then the default', async () => {
    server.enqueue({chunks: ['first'], type: 'reply'}, {message: 'nope', status: 400, type: 'error'})
    const create = () => client.messages.create({max_tokens: 10, messages: hi, model: 'claude-fake'})

    const first = await create()
    const second = await create().catch((error: unknown) => error)
    const third = await create()

    expect(first.content).to.deep.equal([{citations: null, text: 'first', type: 'text'}])
    expect(second).to.be.instanceOf(Anthropic.BadRequestError).and.to.have.property('apiMessage', 'nope')
    expect(third.content).to.deep.equal([{citations: null, text: 'Hello from the fake.', type: 'text'}])
  })

  it('closes stalled connections on close()', async () => {
    server.setDefault({type: 'no-response'})
    const pending = client.messages.create({max_tokens: 10, messages: hi, model: 'claude-fake'}).catch((error: unknown) => error)
    await eventually(() => server.requests.length === 1, 'the server holds the request')

    await server.close()

    expect(await pending).to.be.instanceOf(Anthropic.APIConnectionError)
    expect(server.requests.map(request => request.clientClosedEarly)).to.deep.equal([false])
  })
})

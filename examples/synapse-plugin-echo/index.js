/**
 * A provider is a descriptor (name, default model, create) whose create() returns an object with
 * `stream(messages, options)`: an async iterable of {type: 'delta', text} events ending with one
 * {type: 'done', usage, finishReason, model}. See "Writing a plugin" in synapse's README.
 */
export const echoProvider = {
  name: 'echo',
  description: 'Answers with the last thing you said (no network, no key)',
  defaultModel: 'echo-1',
  models: ['echo-1', 'shout-1'],
  create() {
    return {
      defaultModel: 'echo-1',
      name: 'echo',
      async *stream(messages, options) {
        const last = messages.filter(m => m.role === 'user').at(-1)?.content ?? ''
        const reply = options.model === 'shout-1' ? last.toUpperCase() : last
        const words = reply.split(/(?<= )/)
        for (const word of words) {
          if (options.signal?.aborted) throw Object.assign(new Error('Interrupted.'), {code: 'INTERRUPTED'})
          yield {text: word, type: 'delta'}
        }
        yield {finishReason: 'stop', model: options.model, type: 'done', usage: {inputTokens: last.length, outputTokens: reply.length}}
      },
    }
  },
}

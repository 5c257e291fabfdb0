import {expect} from 'chai'

import {buildContext, type ContextBudget, estimateTokens} from '../../src/chat/context.js'
import {pairReplies} from '../../src/store/exchanges.js'
import type {Message, MessageRole, MessageStatus} from '../../src/store/session-store.js'
import {messageRecord} from '../../src/testing/index.js'

const NO_LIMIT: ContextBudget = {maxMessages: 0, maxTokens: 0}

/** What a request sends and how many earlier messages it leaves out. */
function sent(...args: Parameters<typeof buildContext>) {
  const {messages, omitted} = buildContext(...args)
  return {messages, omitted}
}

let counter = 0

/** A stored message as a store would return it; only role, content and status matter to the context. */
function message(role: MessageRole, content: string, status: MessageStatus = 'complete', replyTo: null | string = null): Message {
  counter++
  return messageRecord({
    content,
    createdAt: new Date(1_767_225_600_000 + counter),
    id: `01JX0000000000000000${String(counter).padStart(6, '0')}`,
    position: counter,
    replyTo,
    role,
    sessionId: '01JX0000000000000000SESSIO',
    status,
  })
}

/** Three complete exchanges, oldest first. */
function threeExchanges(): Message[] {
  return [
    message('user', 'q1'),
    message('assistant', 'a1'),
    message('user', 'q2'),
    message('assistant', 'a2'),
    message('user', 'q3'),
    message('assistant', 'a3'),
  ]
}

describe('chat context', () => {
  describe('estimateTokens', () => {
    it('is the number of characters divided by four, rounded up', () => {
      expect(['', 'a', 'abc', 'abcd', 'abcde', 'abcdefgh', 'x'.repeat(401)].map(text => estimateTokens(text))).to.deep.equal([0, 1, 1, 1, 2, 2, 101])
    })
  })

  describe('buildContext', () => {
    it('sends the system prompt first, the history in order, and the new prompt last', () => {
      const context = sent('Be brief.', threeExchanges(), 'q4', NO_LIMIT)

      expect(context).to.deep.equal({
        messages: [
          {content: 'Be brief.', role: 'system'},
          {content: 'q1', role: 'user'},
          {content: 'a1', role: 'assistant'},
          {content: 'q2', role: 'user'},
          {content: 'a2', role: 'assistant'},
          {content: 'q3', role: 'user'},
          {content: 'a3', role: 'assistant'},
          {content: 'q4', role: 'user'},
        ],
        omitted: 0,
      })
    })

    it('sends no system message when the session has no system prompt', () => {
      const context = sent(null, [message('user', 'q1'), message('assistant', 'a1')], 'q2', NO_LIMIT)

      expect(context.messages).to.deep.equal([
        {content: 'q1', role: 'user'},
        {content: 'a1', role: 'assistant'},
        {content: 'q2', role: 'user'},
      ])
    })

    it('sends only the prompt (after the system prompt) for an empty history', () => {
      expect(sent('Sys', [], 'hello', NO_LIMIT)).to.deep.equal({
        messages: [
          {content: 'Sys', role: 'system'},
          {content: 'hello', role: 'user'},
        ],
        omitted: 0,
      })
    })

    it('never sends failed requests, empty replies or stored system rows, but does send interrupted replies and tool output', () => {
      const history = [
        message('system', 'an old system prompt kept as a row'),
        message('user', 'q1'),
        message('assistant', 'a1'),
        message('user', 'failed question', 'error'),
        message('user', 'q2'),
        message('assistant', ''),
        message('user', 'q3'),
        message('assistant', 'half an ans', 'interrupted'),
        message('tool', 'tool says 42'),
      ]

      const context = sent('Sys', history, 'q4', NO_LIMIT)

      expect(context.messages).to.deep.equal([
        {content: 'Sys', role: 'system'},
        {content: 'q1', role: 'user'},
        {content: 'a1', role: 'assistant'},
        {content: 'q2', role: 'user'},
        {content: 'q3', role: 'user'},
        {content: 'half an ans', role: 'assistant'},
        {content: 'tool says 42', role: 'tool'},
        {content: 'q4', role: 'user'},
      ])
      // Left out as unusable, not to fit a budget (ContextBudget: "left out ... to fit the budget").
      expect(context.omitted).to.equal(0)
    })

    it("sends answered questions each followed by its reply, never another turn's pending question", () => {
      const q1 = message('user', 'q1')
      const mine = message('user', 'theirs, still waiting', 'pending')
      const q2 = message('user', 'q2')
      const history = [q1, mine, q2, message('assistant', 'a2', 'complete', q2.id), message('assistant', 'a1', 'complete', q1.id)]

      const context = sent(null, history, 'q3', NO_LIMIT)

      expect(context).to.deep.equal({
        messages: [
          {content: 'q1', role: 'user'},
          {content: 'a1', role: 'assistant'},
          {content: 'q2', role: 'user'},
          {content: 'a2', role: 'assistant'},
          {content: 'q3', role: 'user'},
        ],
        omitted: 0,
      })
    })

    it('leaves out a question that was never answered, even when marked complete (a process killed before pending existed)', () => {
      const history = [message('user', 'lost'), message('user', 'q1'), message('assistant', 'a1')]

      expect(sent(null, history, 'q2', NO_LIMIT).messages).to.deep.equal([
        {content: 'q1', role: 'user'},
        {content: 'a1', role: 'assistant'},
        {content: 'q2', role: 'user'},
      ])
    })

    it('pairs replies stored before replies named their question with the nearest earlier unanswered question', () => {
      const q1 = message('user', 'q1')
      const history = [q1, message('assistant', 'a1'), message('user', 'q2'), message('assistant', 'a2')]

      const replies = pairReplies(history)

      expect([...replies.entries()].map(([question, reply]) => [history.find(m => m.id === question)!.content, reply.content])).to.deep.equal([
        ['q1', 'a1'],
        ['q2', 'a2'],
      ])
    })

    it('does not change the history it is given', () => {
      const history = threeExchanges()
      const before = structuredClone(history)

      sent('Sys', history, 'q4', {maxMessages: 1, maxTokens: 1})

      expect(history).to.deep.equal(before)
    })

    describe('maxMessages', () => {
      it('keeps the newest N earlier messages and counts the rest as omitted', () => {
        const context = sent('Sys', threeExchanges(), 'q4', {maxMessages: 4, maxTokens: 0})

        expect(context).to.deep.equal({
          messages: [
            {content: 'Sys', role: 'system'},
            {content: 'q2', role: 'user'},
            {content: 'a2', role: 'assistant'},
            {content: 'q3', role: 'user'},
            {content: 'a3', role: 'assistant'},
            {content: 'q4', role: 'user'},
          ],
          omitted: 2,
        })
      })

      it('drops a reply whose question fell outside the limit, so the context never starts with an assistant message', () => {
        const context = sent('Sys', threeExchanges(), 'q4', {maxMessages: 3, maxTokens: 0})

        expect(context).to.deep.equal({
          messages: [
            {content: 'Sys', role: 'system'},
            {content: 'q3', role: 'user'},
            {content: 'a3', role: 'assistant'},
            {content: 'q4', role: 'user'},
          ],
          omitted: 4,
        })
      })

      it('keeps everything when N is at least the history length', () => {
        expect(sent(null, threeExchanges(), 'q4', {maxMessages: 6, maxTokens: 0}).omitted).to.equal(0)
        expect(sent(null, threeExchanges(), 'q4', {maxMessages: 100, maxTokens: 0}).messages).to.have.length(7)
      })

      it('does not let unsendable messages take a place in the limit', () => {
        const history = [message('user', 'q1'), message('assistant', 'a1'), message('user', 'q2', 'error'), message('assistant', '')]

        const context = sent(null, history, 'q3', {maxMessages: 2, maxTokens: 0})

        expect(context).to.deep.equal({
          messages: [
            {content: 'q1', role: 'user'},
            {content: 'a1', role: 'assistant'},
            {content: 'q3', role: 'user'},
          ],
          omitted: 0,
        })
      })

      it('always sends the system prompt and the new prompt, whatever the limit', () => {
        const context = sent('Sys', threeExchanges(), 'q4', {maxMessages: 1, maxTokens: 0})

        expect(context).to.deep.equal({
          messages: [
            {content: 'Sys', role: 'system'},
            {content: 'q4', role: 'user'},
          ],
          omitted: 6,
        })
      })
    })

    describe('maxTokens', () => {
      // Estimated tokens: 10, 10, 3 (9 chars, rounded up), 2.
      const history = () => [
        message('user', 'u'.repeat(40)),
        message('assistant', 'a'.repeat(40)),
        message('user', 'v'.repeat(9)),
        message('assistant', 'b'.repeat(8)),
      ]

      it('keeps the newest messages whose estimates fit, a total equal to the budget included', () => {
        // 2 + 3 + 10 = 15 fits exactly; the oldest (10 more) does not. The kept run then starts with
        // an assistant message, which goes too.
        const context = sent('Sys', history(), 'next', {maxMessages: 0, maxTokens: 15})

        expect(context).to.deep.equal({
          messages: [
            {content: 'Sys', role: 'system'},
            {content: 'v'.repeat(9), role: 'user'},
            {content: 'b'.repeat(8), role: 'assistant'},
            {content: 'next', role: 'user'},
          ],
          omitted: 2,
        })
      })

      it('keeps everything when the whole history fits', () => {
        expect(sent(null, history(), 'next', {maxMessages: 0, maxTokens: 25}).omitted).to.equal(0)
        expect(sent(null, history(), 'next', {maxMessages: 0, maxTokens: 24}).omitted).to.equal(2)
      })

      it('rounds each estimate up: 9 characters cost 3 tokens, so 2 + 3 does not fit in 4', () => {
        const context = sent(null, history(), 'next', {maxMessages: 0, maxTokens: 4})

        expect(context).to.deep.equal({messages: [{content: 'next', role: 'user'}], omitted: 4})
        expect(sent(null, history(), 'next', {maxMessages: 0, maxTokens: 5}).messages).to.deep.equal([
          {content: 'v'.repeat(9), role: 'user'},
          {content: 'b'.repeat(8), role: 'assistant'},
          {content: 'next', role: 'user'},
        ])
      })

      it('stops at the first message that does not fit, even if older ones would', () => {
        const mixed = [message('user', 'tiny'), message('assistant', 'x'.repeat(400)), message('user', 'q2'), message('assistant', 'a2')]

        const context = sent(null, mixed, 'q3', {maxMessages: 0, maxTokens: 50})

        expect(context).to.deep.equal({
          messages: [
            {content: 'q2', role: 'user'},
            {content: 'a2', role: 'assistant'},
            {content: 'q3', role: 'user'},
          ],
          omitted: 2,
        })
      })

      it('counts neither the system prompt nor the new prompt against the budget', () => {
        const context = sent('s'.repeat(1000), [message('user', 'q1'), message('assistant', 'a1')], 'p'.repeat(1000), {maxMessages: 0, maxTokens: 2})

        expect(context).to.deep.equal({
          messages: [
            {content: 's'.repeat(1000), role: 'system'},
            {content: 'q1', role: 'user'},
            {content: 'a1', role: 'assistant'},
            {content: 'p'.repeat(1000), role: 'user'},
          ],
          omitted: 0,
        })
      })

      it('applies together with maxMessages: the stricter of the two wins', () => {
        const byCount = sent(null, threeExchanges(), 'q4', {maxMessages: 2, maxTokens: 1000})
        expect(byCount.messages.map(m => m.content)).to.deep.equal(['q3', 'a3', 'q4'])
        expect(byCount.omitted).to.equal(4)

        // Each of q1..a3 is 1 token: 4 tokens keep four messages although the count allows six.
        const byTokens = sent(null, threeExchanges(), 'q4', {maxMessages: 6, maxTokens: 4})
        expect(byTokens.messages.map(m => m.content)).to.deep.equal(['q2', 'a2', 'q3', 'a3', 'q4'])
        expect(byTokens.omitted).to.equal(2)
      })
    })

    it('treats 0 as no limit for both', () => {
      const long = [message('user', 'u'.repeat(4000)), message('assistant', 'a'.repeat(4000))]

      const context = sent(null, long, 'next', {maxMessages: 0, maxTokens: 0})

      expect(context.messages.map(m => m.content.length)).to.deep.equal([4000, 4000, 4])
      expect(context.omitted).to.equal(0)
    })

    it('drops a history that starts with a reply (its question was lost), counting it as omitted', () => {
      const context = sent(null, [message('assistant', 'orphan'), message('user', 'q1'), message('assistant', 'a1')], 'q2', NO_LIMIT)

      expect(context).to.deep.equal({
        messages: [
          {content: 'q1', role: 'user'},
          {content: 'a1', role: 'assistant'},
          {content: 'q2', role: 'user'},
        ],
        omitted: 1,
      })
    })
  })
})

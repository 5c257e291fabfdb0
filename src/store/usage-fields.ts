import type {Message} from './session-store.js'

/**
 * A message's usage fields (cached tokens, where the counts came from, cost and its source) when it
 * has none: questions, records written before the fields existed, and every default. The record
 * codec (record-codec.ts) reads and writes them with the other fields.
 */
export const NO_USAGE: Pick<Message, 'cachedInputTokens' | 'costSource' | 'costUsd' | 'tokenSource'> = Object.freeze({
  cachedInputTokens: null,
  costSource: null,
  costUsd: null,
  tokenSource: null,
})

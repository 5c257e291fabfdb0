import {type Message, TOKEN_SOURCES, type TokenSource} from './session-store.js'

/**
 * A reply's usage fields (cached tokens, where the counts came from, cost and its source) as every
 * JSON form of a message carries them: exports, the filesystem backend's files, Redis records. One
 * reader and one writer for all of them, so that a field added here reaches every form at once.
 * Absent reads as null: records written before the fields existed have no usage to report.
 */
export const USAGE_FIELDS = ['cachedInputTokens', 'tokenSource', 'costUsd', 'costSource'] as const

export type UsageFields = Pick<Message, (typeof USAGE_FIELDS)[number]>

/** The usage fields of a message, in the fixed order the JSON forms write them. */
export function usageFieldsOf(message: UsageFields): UsageFields {
  return {
    cachedInputTokens: message.cachedInputTokens,
    tokenSource: message.tokenSource,
    costUsd: message.costUsd,
    costSource: message.costSource,
  }
}

/**
 * The usage fields read back from a parsed JSON record, each checked for its type. `fail` makes the
 * error for a field that is there but of the wrong kind, in the words of the reader's format.
 */
export function decodeUsageFields(raw: Record<string, unknown>, fail: (field: string, expected: string) => Error): UsageFields {
  const number = (field: 'cachedInputTokens' | 'costUsd'): null | number => {
    const value = raw[field]
    if (value === undefined || value === null) return null
    if (typeof value !== 'number' || !Number.isFinite(value)) throw fail(field, 'a number or null')
    return value
  }
  const source = raw.tokenSource
  if (source !== undefined && source !== null && !TOKEN_SOURCES.includes(source as TokenSource))
    throw fail('tokenSource', `one of ${TOKEN_SOURCES.join(', ')} or null`)
  const costSource = raw.costSource
  if (costSource !== undefined && costSource !== null && typeof costSource !== 'string') throw fail('costSource', 'a string or null')
  return {
    cachedInputTokens: number('cachedInputTokens'),
    costSource: (costSource as null | string | undefined) ?? null,
    costUsd: number('costUsd'),
    tokenSource: (source as null | TokenSource | undefined) ?? null,
  }
}

/** Usage fields of a message that has none: questions, and every default. */
export const NO_USAGE: UsageFields = Object.freeze({cachedInputTokens: null, costSource: null, costUsd: null, tokenSource: null})

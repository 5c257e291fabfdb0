/**
 * Token counts synapse makes itself, for a provider that reports none: the model family's own
 * tokenizer where synapse ships one (gpt-tokenizer, for OpenAI model names), about four characters a
 * token otherwise. The tokenizer costs about 150 ms to load, so it is imported only when a count is
 * asked of it, never by a turn whose provider reported its usage.
 */
import type {ChatMessage} from './provider.js'

export type CountSource = 'estimate' | 'tokenizer'

export interface TokenCounter {
  /** Tokens of a request carrying these messages, with the framing each message adds. */
  countMessages(messages: readonly ChatMessage[]): number
  countText(text: string): number
  readonly source: CountSource
}

/**
 * A rough token count, about four characters a token for English text and code: close enough to
 * keep a request under a budget without shipping a tokenizer per model.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4)
}

/**
 * Tokens a chat format adds per message (the role and the separators around it) and once per
 * request (the start of the reply), as OpenAI documents them for its chat models.
 */
export const PER_MESSAGE = 4
export const PER_REQUEST = 3

type Encoding = 'cl100k_base' | 'o200k_base'

/**
 * Which of OpenAI's encodings a model name uses: o200k_base for GPT-4o and later (4.1, 4.5, 5, the
 * o-series, gpt-oss), cl100k_base for GPT-4 and GPT-3.5; undefined for any other name.
 */
export function openaiEncodingOf(model: string): Encoding | undefined {
  const name = model
    .trim()
    .toLowerCase()
    .replace(/^openai\//, '')
  if (/^(?:gpt-4o|gpt-4\.[15]|gpt-5|gpt-oss|chatgpt-4o|o[1-9](?:$|-))/.test(name)) return 'o200k_base'
  if (/^gpt-(?:4|3\.5)(?:$|-)/.test(name)) return 'cl100k_base'
  return undefined
}

const ESTIMATE: TokenCounter = counterOf(estimateTokens, 'estimate')

const tokenizers = new Map<Encoding, Promise<TokenCounter>>()

/** The counter for a model: its tokenizer, loaded on first use, or the estimate. */
export async function tokenCounter(model: string): Promise<TokenCounter> {
  const encoding = openaiEncodingOf(model)
  if (!encoding) return ESTIMATE
  let counter = tokenizers.get(encoding)
  if (!counter) {
    counter = loadEncoding(encoding).then(count => counterOf(count, 'tokenizer'))
    tokenizers.set(encoding, counter)
  }
  return counter
}

/** Whether `tokenCounter(model)` would load a tokenizer rather than estimate. */
export function hasTokenizer(model: string): boolean {
  return openaiEncodingOf(model) !== undefined
}

async function loadEncoding(encoding: Encoding): Promise<(text: string) => number> {
  const module = encoding === 'o200k_base' ? await import('gpt-tokenizer/encoding/o200k_base') : await import('gpt-tokenizer/encoding/cl100k_base')
  return text => module.countTokens(text)
}

function counterOf(count: (text: string) => number, source: CountSource): TokenCounter {
  return {
    countMessages: messages => messages.reduce((sum, message) => sum + count(message.content) + PER_MESSAGE, PER_REQUEST),
    countText: count,
    source,
  }
}

/**
 * The most tokens any byte-level BPE tokenizer (every OpenAI encoding) can make of these messages:
 * no token is shorter than one byte of UTF-8. What lets a budget check skip loading a tokenizer when
 * the whole conversation fits even at one token a byte.
 */
export function tokenCeiling(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, message) => sum + Buffer.byteLength(message.content, 'utf8') + PER_MESSAGE, PER_REQUEST)
}

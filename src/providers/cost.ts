/**
 * What a reply cost, fixed when it is stored: the amount the provider reported, else the tokens at
 * the prices in force then. Unknown stays unknown: a model without a price has a null cost, never 0.
 */
import {type ModelFacts, sourceLine} from './model-facts.js'

export interface ReplyTokens {
  /** Of inputTokens, those read from the prompt cache; null when not reported (none are assumed). */
  cachedInputTokens: null | number
  inputTokens: null | number
  outputTokens: null | number
}

export interface ReplyCost {
  /** Where `costUsd` came from: 'provider', 'config', or the shipped data with its version and date; null with no cost. */
  costSource: null | string
  costUsd: null | number
}

export const NO_COST: ReplyCost = Object.freeze({costSource: null, costUsd: null})

/** The cost source of prices from the shipped data: the package, its version and date. */
export function shippedPriceSource(): string {
  return sourceLine().replace(/^prices: /, '')
}

/**
 * The reply's cost. A reported amount wins. Otherwise: uncached input at the input price, cached
 * input at the cached price (the input price when the model has none), output at the output price,
 * all per million tokens. Null when a count or a needed price is missing.
 */
export function replyCost(tokens: ReplyTokens, facts: ModelFacts | null, reported?: null | number): ReplyCost {
  if (typeof reported === 'number' && Number.isFinite(reported) && reported >= 0) return {costSource: 'provider', costUsd: reported}
  if (!facts || facts.pricesFrom === null || facts.inputPrice === null || facts.outputPrice === null) return NO_COST
  const {inputTokens, outputTokens} = tokens
  if (inputTokens === null || outputTokens === null) return NO_COST
  const cached = Math.min(tokens.cachedInputTokens ?? 0, inputTokens)
  const micro = (inputTokens - cached) * facts.inputPrice + cached * (facts.cachedInputPrice ?? facts.inputPrice) + outputTokens * facts.outputPrice
  return {costSource: facts.pricesFrom === 'config' ? 'config' : shippedPriceSource(), costUsd: micro / 1_000_000}
}

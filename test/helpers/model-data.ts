import {findProvider} from '@pydantic/genai-prices'

import type {ModelFacts} from '../../src/providers/model-facts.js'

/**
 * What the shipped data says of the model with exactly this id, read straight from the package, so
 * that a test follows the pinned data rather than a copy of it: the last price list (the one in force,
 * since every start date in it has passed), a tiered price at its base. Undefined when no entry has
 * that id.
 */
export function shippedFacts(provider: string, id: string): ModelFacts | undefined {
  const entry = findProvider({providerId: provider})?.models.find(model => model.id === id)
  if (!entry) return undefined
  const prices = Array.isArray(entry.prices) ? entry.prices.at(-1)!.prices : entry.prices
  const base = (price: unknown) => (typeof price === 'number' ? price : price === undefined ? null : (price as {base: number}).base)
  return {
    cachedInputPrice: base(prices.cache_read_mtok),
    contextWindow: entry.context_window ?? null,
    inputPrice: base(prices.input_mtok),
    outputPrice: base(prices.output_mtok),
    pricesFrom: 'shipped',
    source: 'shipped',
  }
}

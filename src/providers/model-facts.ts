/**
 * A model's context window and prices, from the data synapse ships (@pydantic/genai-prices, pinned in
 * package.json) with the user's `[models."<name>"]` tables over it key by key. The data is inside the
 * package and is imported only when a fact is asked for, so no other command pays for loading it, and
 * nothing is fetched at run time: the package's `updatePrices`, which would, is never called.
 *
 * Which shipped entry a model name gets, and nothing looser (the package's own matcher also takes
 * prefixes, which gives `claude-sonnet-5-5` the prices of `claude-sonnet-5`):
 * 1. the entry whose id is the name, or that lists the name as an exact alias (`gpt-4o-2024-08-06`);
 * 2. else, for a dated variant (a name ending in `-YYYY-MM-DD` or `-YYYYMMDD`), the entry that rule 1
 *    gives for the name without its date: `claude-haiku-4-5-20251001` → `claude-haiku-4-5`.
 * The shipped entries are those of the synapse provider's namesake in the data (openai, anthropic...);
 * a provider the data does not know has only what the config says.
 */
import type {LoadedConfig, ModelOverrides} from '../config/index.js'

/** The shipped data: which package, which version, and when that version was published. */
export const MODEL_FACTS_SOURCE = {date: '2026-09-23', name: '@pydantic/genai-prices', version: '0.1.8'} as const

export type ModelFactsSource = typeof MODEL_FACTS_SOURCE

/** Prices are USD per million tokens; each fact is null when neither the data nor the config gives it. */
export interface ModelFacts {
  cachedInputPrice: null | number
  contextWindow: null | number
  inputPrice: null | number
  outputPrice: null | number
  /** 'config' when the user's config sets at least one of the facts (the others may still be shipped). */
  source: 'config' | 'shipped'
}

/** The footer `synapse models` prints under the table. */
export function sourceLine(source: ModelFactsSource = MODEL_FACTS_SOURCE): string {
  return `prices: ${source.name} ${source.version}, ${source.date}`
}

/**
 * The facts of `model` as served by `provider` (a registry name), or null when nothing is known of it.
 * The shipped data is loaded only when the config leaves a fact open.
 */
export async function modelFacts(model: string, provider: string, config: LoadedConfig): Promise<ModelFacts | null> {
  // A LoadedConfig an embedder builds by hand may predate the models section.
  const overrides: ModelOverrides = config.settings.models?.[model] ?? {}
  const complete = FACT_KEYS.every(([, option]) => overrides[option] !== undefined)
  const shipped = complete ? undefined : await shippedFacts(model, provider)
  const fromConfig = FACT_KEYS.some(([, option]) => overrides[option] !== undefined)
  if (!shipped && !fromConfig) return null
  const facts: ModelFacts = {cachedInputPrice: null, contextWindow: null, inputPrice: null, outputPrice: null, source: fromConfig ? 'config' : 'shipped'}
  for (const [fact, option] of FACT_KEYS) facts[fact] = overrides[option] ?? shipped?.[fact] ?? null
  return facts
}

type Fact = Exclude<keyof ModelFacts, 'source'>

const FACT_KEYS: ReadonlyArray<readonly [Fact, keyof ModelOverrides]> = [
  ['contextWindow', 'context_window'],
  ['inputPrice', 'input_price'],
  ['outputPrice', 'output_price'],
  ['cachedInputPrice', 'cached_input_price'],
]

type GenaiPrices = typeof import('@pydantic/genai-prices')
type DataProvider = NonNullable<ReturnType<GenaiPrices['findProvider']>>
type DataModel = DataProvider['models'][number]
type MatchLogic = DataModel['match']
type ModelPrice = Extract<DataModel['prices'], Record<string, unknown>>

let data: Promise<GenaiPrices> | undefined

async function shippedFacts(model: string, provider: string): Promise<Record<Fact, null | number> | undefined> {
  data ??= import('@pydantic/genai-prices')
  const {findProvider} = await data
  // findProvider also matches loosely; only the provider of that very id counts.
  const entries = findProvider({providerId: provider})
  if (entries?.id !== provider) return undefined
  const entry = findEntry(entries.models, model.trim().toLowerCase())
  if (!entry) return undefined
  const price = pricesInForce(entry.prices, new Date())
  return {
    cachedInputPrice: baseOf(price?.cache_read_mtok),
    contextWindow: typeof entry.context_window === 'number' ? entry.context_window : null,
    inputPrice: baseOf(price?.input_mtok),
    outputPrice: baseOf(price?.output_mtok),
  }
}

const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/

function findEntry(models: DataModel[], name: string): DataModel | undefined {
  const exact = models.find(entry => entry.id.toLowerCase() === name || exactAliases(entry.match).includes(name))
  if (exact || !DATE_SUFFIX.test(name)) return exact
  return findEntry(models, name.replace(DATE_SUFFIX, ''))
}

/** The names a match rule accepts as they are (its `equals` clauses under `or`); prefixes, substrings and patterns are not taken. */
function exactAliases(match: MatchLogic): string[] {
  if ('equals' in match) return [match.equals.toLowerCase()]
  if ('or' in match) return match.or.flatMap(clause => exactAliases(clause))
  return []
}

/**
 * The price list in force at `now`: the last one whose start date has passed. A list that depends on
 * the time of day gives no single price, so it is passed over.
 */
function pricesInForce(prices: DataModel['prices'], now: Date): ModelPrice | undefined {
  if (!Array.isArray(prices)) return prices
  let inForce: ModelPrice | undefined
  for (const {constraint, prices: list} of prices) {
    if (!constraint || (constraint.type === 'start_date' && new Date(constraint.start_date) <= now)) inForce = list
  }

  return inForce
}

/** A tiered price (long prompts cost more) as its first tier's: the price of a prompt below the first threshold. */
function baseOf(price: ModelPrice[string]): null | number {
  if (typeof price === 'number') return price
  if (price && typeof price === 'object' && typeof price.base === 'number') return price.base
  return null
}

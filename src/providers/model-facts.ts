/**
 * A model's context window and prices, from the data synapse ships (@pydantic/genai-prices, pinned in
 * package.json devDependencies) with the user's `[models."<name>"]` tables over it key by key. What
 * synapse needs of the package is extracted at build time (scripts/model-data.mjs) into a small JSON
 * module, imported only when a fact is asked for; nothing is fetched at run time.
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
  /** Where the prices came from: 'config' when the user's config sets at least one of them; null when there is none. */
  pricesFrom: 'config' | 'shipped' | null
  /** 'config' when the user's config sets at least one of the facts (the others may still be shipped). */
  source: 'config' | 'shipped'
}

/** The footer `synapse models` prints under the table. */
export function sourceLine(source: ModelFactsSource = MODEL_FACTS_SOURCE): string {
  return `prices: ${source.name} ${source.version}, ${source.date}`
}

/**
 * The facts of `model` as served by `provider` (a registry name), or null when nothing is known of it.
 * The shipped data is loaded only when the config leaves a fact open. Prices are those in force at
 * `options.at` (default now): what a reply made then cost.
 */
export async function modelFacts(model: string, provider: string, config: LoadedConfig, options: {at?: Date} = {}): Promise<ModelFacts | null> {
  // A LoadedConfig an embedder builds by hand may predate the models section.
  const overrides: ModelOverrides = config.settings.models?.[model] ?? {}
  const complete = FACT_KEYS.every(([, option]) => overrides[option] !== undefined)
  const shipped = complete ? undefined : await shippedFacts(model, provider, options.at ?? new Date())
  const fromConfig = FACT_KEYS.some(([, option]) => overrides[option] !== undefined)
  if (!shipped && !fromConfig) return null
  const facts: ModelFacts = {
    cachedInputPrice: null,
    contextWindow: null,
    inputPrice: null,
    outputPrice: null,
    pricesFrom: null,
    source: fromConfig ? 'config' : 'shipped',
  }
  for (const [fact, option] of FACT_KEYS) facts[fact] = overrides[option] ?? shipped?.[fact] ?? null
  const priced = facts.inputPrice !== null || facts.outputPrice !== null || facts.cachedInputPrice !== null
  const pricedInConfig = PRICE_KEYS.some(option => overrides[option] !== undefined)
  facts.pricesFrom = priced ? (pricedInConfig ? 'config' : 'shipped') : null
  return facts
}

type Fact = Exclude<keyof ModelFacts, 'pricesFrom' | 'source'>

const FACT_KEYS: ReadonlyArray<readonly [Fact, keyof ModelOverrides]> = [
  ['contextWindow', 'context_window'],
  ['inputPrice', 'input_price'],
  ['outputPrice', 'output_price'],
  ['cachedInputPrice', 'cached_input_price'],
]

const PRICE_KEYS: ReadonlyArray<keyof ModelOverrides> = ['input_price', 'output_price', 'cached_input_price']

/** The extract of the shipped data that scripts/model-data.mjs writes at build time. */
interface ModelData {
  providers: Record<string, DataModel[]>
  source: ModelFactsSource
}

interface DataModel {
  /** Other names the entry takes as they are, lower case. */
  aliases: string[]
  contextWindow: null | number
  /** Lower case. */
  id: string
  /** Price lists in order of the date they start (null: always); the last one started is in force. */
  prices: Array<{cachedInput: null | number; input: null | number; output: null | number; since: null | string}>
}

let data: Promise<ModelData> | undefined

/** The shipped extract, loaded on first use: a few milliseconds, where the package itself took 30-70. */
export async function shippedModelData(): Promise<ModelData> {
  data ??= import('./model-data.generated.json', {with: {type: 'json'}}).then(module => module.default as ModelData)
  return data
}

async function shippedFacts(model: string, provider: string, at: Date): Promise<Record<Fact, null | number> | undefined> {
  const {providers} = await shippedModelData()
  // Only the data's provider of that very id counts (Object.hasOwn: a provider named "constructor" has no data).
  if (!Object.hasOwn(providers, provider)) return undefined
  const entry = findEntry(providers[provider], model.trim().toLowerCase())
  if (!entry) return undefined
  const price = pricesInForce(entry.prices, at)
  return {
    cachedInputPrice: price?.cachedInput ?? null,
    contextWindow: entry.contextWindow,
    inputPrice: price?.input ?? null,
    outputPrice: price?.output ?? null,
  }
}

const DATE_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8})$/

function findEntry(models: DataModel[], name: string): DataModel | undefined {
  const exact = models.find(entry => entry.id === name || entry.aliases.includes(name))
  if (exact || !DATE_SUFFIX.test(name)) return exact
  return findEntry(models, name.replace(DATE_SUFFIX, ''))
}

/** The price list in force at `at`: the last one whose start date has passed. */
function pricesInForce(prices: DataModel['prices'], at: Date): DataModel['prices'][number] | undefined {
  let inForce: DataModel['prices'][number] | undefined
  for (const list of prices) if (list.since === null || new Date(list.since) <= at) inForce = list
  return inForce
}

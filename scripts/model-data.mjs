// Extracts what synapse needs from @pydantic/genai-prices (context windows, and prices per million
// input, output and cached-input tokens with the dates they start) into one small JSON file that
// src/providers/model-facts.ts imports. Importing the package itself costs 30-70 ms (it builds its
// whole data set and matchers on load); the extract loads in a few. Run by scripts/build.mjs, before
// esbuild bundles the file in.
import {readFileSync, writeFileSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join} from 'node:path'

/**
 * When each version of the package was published: the date `synapse models` shows with the prices.
 * npm's metadata is not read at build time (no network), so a new version needs its date here.
 */
const PUBLISHED = {'0.1.8': '2026-09-23'}

export const MODEL_DATA_FILE = 'src/providers/model-data.generated.json'

export async function writeModelData(root) {
  const require = createRequire(join(root, 'package.json'))
  const entry = require.resolve('@pydantic/genai-prices')
  let dir = dirname(entry)
  while (!safeRead(join(dir, 'package.json'))?.includes('"@pydantic/genai-prices"')) dir = dirname(dir)
  const {version} = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'))
  const date = PUBLISHED[version]
  if (!date) throw new Error(`scripts/model-data.mjs: add the publication date of @pydantic/genai-prices ${version} to PUBLISHED`)
  const module = await import(join(dir, 'dist/index.js'))
  // The package exports no list of its providers: their ids are read from its data, and each is
  // confirmed through its own look-up, so a change of layout fails here rather than ships less.
  const source = readFileSync(join(dir, 'dist/index.js'), 'utf8')
  const ids = [...source.matchAll(/^ {2}\{\n {4}id: "([^"]+)",\n {4}name: /gm)].map(match => match[1])
  const providers = {}
  for (const id of ids) {
    const provider = module.findProvider({providerId: id})
    if (provider?.id !== id) continue
    providers[id] = provider.models.map(model => ({
      aliases: exactAliases(model.match).filter(alias => alias !== model.id.toLowerCase()),
      contextWindow: typeof model.context_window === 'number' ? model.context_window : null,
      id: model.id.toLowerCase(),
      prices: priceLists(model.prices),
    }))
  }
  if (!providers.openai || !providers.anthropic)
    throw new Error('scripts/model-data.mjs: found no openai or anthropic models in @pydantic/genai-prices; has its layout changed?')
  const data = {providers, source: {date, name: '@pydantic/genai-prices', version}}
  writeFileSync(join(root, MODEL_DATA_FILE), `${JSON.stringify(data)}\n`)
  return data
}

function safeRead(file) {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return undefined
  }
}

/** The names a match rule accepts as they are (its `equals` clauses under `or`); prefixes, substrings and patterns are not taken. */
function exactAliases(match) {
  if ('equals' in match) return [match.equals.toLowerCase()]
  if ('or' in match) return match.or.flatMap(clause => exactAliases(clause))
  return []
}

/**
 * Each price list with the date it starts (null: always), in order. A list that depends on the time
 * of day gives no single price and is left out; a tiered price (long prompts cost more) is its first
 * tier's, the price of a prompt below the first threshold.
 */
function priceLists(prices) {
  const lists = Array.isArray(prices) ? prices : [{prices}]
  return lists
    .filter(({constraint}) => !constraint || constraint.type === 'start_date')
    .map(({constraint, prices: list}) => ({
      cachedInput: baseOf(list.cache_read_mtok),
      input: baseOf(list.input_mtok),
      output: baseOf(list.output_mtok),
      since: constraint?.start_date ?? null,
    }))
}

function baseOf(price) {
  if (typeof price === 'number') return price
  if (price && typeof price === 'object' && typeof price.base === 'number') return price.base
  return null
}

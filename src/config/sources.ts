import {ConfigError} from '../core/errors.js'
import {
  ALL_SECTIONS,
  findKey,
  KNOWN_KEYS,
  keysOfSection,
  MAX_MODEL_NAME_LENGTH,
  MODEL_OPTIONS,
  modelKey,
  modelOptionSpec,
  modelTable,
  MODELS_SECTION,
  PROVIDER_NAME,
  PROVIDER_OPTION_NAME,
  providerOptionSpec,
  PROVIDERS_SECTION,
  type KeySpec,
  sectionOf,
  settingsPath,
} from './keys.js'
import type {SettingSource} from './types.js'
import {checkSpec, closest, describeValue, expectedOf, isTable, parseSpec, type Scalar, type ValueSpec} from './values.js'

/** One value for one key from one source; later sources replace earlier ones key by key. */
export interface Assignment {
  key: string
  /** Where it goes in Settings; kept apart from key because provider names may contain dots. */
  path: string[]
  source: SettingSource
  value: Scalar
}

export interface FileOrigin {
  /** The path as shown in messages. */
  shown: string
  source: SettingSource & {file: string; kind: 'project' | 'user'}
  /** Where the settings sit inside the file (package.json: "synapse"), to name keys as the user sees them. */
  keyPrefix?: string
}

/** Validates a parsed config file and lists what it sets. Unknown keys are errors, not ignored: a typo would otherwise silently do nothing. */
export function fromFile(content: unknown, origin: FileOrigin): Assignment[] {
  if (content === undefined) return []
  const {shown} = origin
  const name = (key: string) => (origin.keyPrefix ? `${origin.keyPrefix}.${key}` : key)
  if (!isTable(content)) {
    throw new ConfigError(
      `${shown}: ${origin.keyPrefix ? `${origin.keyPrefix} must be` : 'must hold'} a table of settings (sections such as session and provider), not ${describeValue(content)}.`,
    )
  }

  const out: Assignment[] = []
  for (const [section, body] of Object.entries(content)) {
    if (body === undefined) continue
    if (!ALL_SECTIONS.includes(section)) throw unknownTopLevel(section, body, origin)
    if (!isTable(body)) {
      const example =
        section === PROVIDERS_SECTION
          ? ', one table per provider such as providers.openai'
          : section === MODELS_SECTION
            ? ', one table per model such as models."gpt-4o"'
            : ''
      throw new ConfigError(`${shown}: ${name(section)} must be a table of settings${example}, not ${describeValue(body)}.`)
    }

    if (section === PROVIDERS_SECTION) {
      for (const [provider, options] of Object.entries(body)) {
        if (options === undefined) continue
        if (!PROVIDER_NAME.test(provider)) throw badProviderName(`${shown}: ${name(section)}`, provider)
        if (!isTable(options)) {
          throw new ConfigError(
            `${shown}: ${name(`${section}.${provider}`)} must be a table of options for the ${provider} provider, not ${describeValue(options)}.`,
          )
        }

        for (const [option, value] of Object.entries(options)) {
          if (value === undefined) continue
          const key = `${section}.${provider}.${option}`
          if (!PROVIDER_OPTION_NAME.test(option)) throw badOptionName(`${shown}: ${name(`${section}.${provider}`)}`, option)
          const spec = providerOptionSpec(key, option)
          const checked = checkSpec(spec, value)
          if (checked === undefined)
            throw new ConfigError(`${shown}: ${name(key)} must be ${expectedOf(spec)}, not ${describeValue(value)}.`, {suggestions: [remedy(spec)]})
          out.push({key, path: [section, provider, option], source: origin.source, value: checked})
        }
      }

      continue
    }

    if (section === MODELS_SECTION) {
      out.push(...modelTables(body, origin, name))
      continue
    }

    for (const [leaf, value] of Object.entries(body)) {
      if (value === undefined) continue
      const key = `${section}.${leaf}`
      const spec = findKey(key)
      if (!spec) {
        const guess = closest(leaf, keysOfSection(section))
        throw new ConfigError(`${shown}: unknown key ${name(key)}.`, {
          suggestions: [guess ? `Did you mean ${name(`${section}.${guess}`)}?` : `The keys of ${section} are: ${keysOfSection(section).join(', ')}.`],
        })
      }

      const checked = checkSpec(spec, value)
      if (checked === undefined)
        throw new ConfigError(`${shown}: ${name(key)} must be ${expectedOf(spec)}, not ${describeValue(value)}.`, {suggestions: [remedy(spec)]})
      out.push({key, path: settingsPath(key), source: origin.source, value: checked})
    }
  }

  return out
}

/** The `[models."<name>"]` tables: only the known options, each in its range. */
function modelTables(body: Record<string, unknown>, origin: FileOrigin, name: (key: string) => string): Assignment[] {
  const {shown} = origin
  const out: Assignment[] = []
  for (const [model, options] of Object.entries(body)) {
    if (options === undefined) continue
    // eslint-disable-next-line no-control-regex
    if (model.trim() === '' || /[\s\u0000-\u001F\u007F-\u009F]/.test(model) || model.length > MAX_MODEL_NAME_LENGTH) {
      throw new ConfigError(`${shown}: ${name(MODELS_SECTION)}.${JSON.stringify(model.slice(0, 40))} is not a model name.`, {
        suggestions: ['Name the table after the model id as the provider spells it, e.g. [models."gpt-4o"]: no spaces or control characters.'],
      })
    }

    const table = name(modelTable(model))
    if (!isTable(options))
      throw new ConfigError(`${shown}: ${table} must be a table of facts about the ${model} model, not ${describeValue(options)}.`, {
        suggestions: [`Write it as [${table}] with ${MODEL_OPTIONS.map(o => o.name).join(', ')}.`],
      })
    for (const [option, value] of Object.entries(options)) {
      if (value === undefined) continue
      const key = modelKey(model, option)
      const spec = modelOptionSpec(option)
      if (!spec) {
        const guess = closest(
          option,
          MODEL_OPTIONS.map(o => o.name),
        )
        throw new ConfigError(`${shown}: unknown key ${name(key)}.`, {
          suggestions: [guess ? `Did you mean ${name(modelKey(model, guess))}?` : `A model table may set: ${MODEL_OPTIONS.map(o => o.name).join(', ')}.`],
        })
      }

      const checked = checkSpec(spec, value)
      if (checked === undefined)
        throw new ConfigError(`${shown}: ${name(key)} must be ${expectedOf(spec)}, not ${describeValue(value)}.`, {
          suggestions: [`Use ${expectedOf(spec)} (${spec.description}), or remove it to use the shipped data.`],
        })
      out.push({key, path: [MODELS_SECTION, model, option], source: origin.source, value: checked})
    }
  }

  return out
}

/** Reads the variables named in KNOWN_KEYS; an empty value counts as unset, as shells make unsetting awkward. */
export function fromEnv(env: NodeJS.ProcessEnv): Assignment[] {
  const out: Assignment[] = []
  for (const spec of KNOWN_KEYS) {
    const raw = spec.env === undefined ? undefined : env[spec.env]
    if (raw === undefined || raw === '') continue
    const value = parseSpec(spec, raw)
    if (value === undefined) {
      throw new ConfigError(`Environment variable ${spec.env} (${spec.key}) must be ${expectedOf(spec)}, not ${describeValue(raw)}.`, {
        suggestions: [
          `Set ${spec.env} to ${expectedOf(spec)}, or unset it to use ${spec.default === undefined ? 'no value' : `the default (${spec.default})`}.`,
        ],
      })
    }

    out.push({key: spec.key, path: settingsPath(spec.key), source: {kind: 'env', variable: spec.env}, value})
  }

  return out
}

function remedy(spec: KeySpec | ValueSpec): string {
  const fallback = !('key' in spec)
    ? ''
    : spec.default === undefined
      ? ', or remove it to leave it unset'
      : `, or remove it to use the default (${spec.default})`
  return `Use ${expectedOf(spec)}${fallback}.`
}

/** `where` names the table the bad name sits in, e.g. "~/.config/synapse/config.toml: providers". */
function badProviderName(where: string, provider: string): ConfigError {
  return new ConfigError(`${where}.${describeName(provider)} is not a provider name.`, {
    suggestions: ['Name the table after a provider, e.g. [providers.openai]: lower-case letters, digits, "-" and "_".'],
  })
}

function badOptionName(where: string, option: string): ConfigError {
  return new ConfigError(`${where}.${describeName(option)} is not an option name.`, {
    suggestions: ['Option names are letters, digits and "_", starting with a letter, e.g. timeout_ms.'],
  })
}

/** A name as written, quoted when it holds anything but plain characters. */
function describeName(name: string): string {
  return /^[\w-]+$/.test(name) ? name : JSON.stringify(name)
}

/** A name at the top of a file that is not a section; often a key written without its section. */
function unknownTopLevel(name: string, body: unknown, origin: FileOrigin): ConfigError {
  const shown = origin.keyPrefix ? `${origin.keyPrefix}.${name}` : name
  const leafMatch = KNOWN_KEYS.find(spec => spec.key.split('.').at(-1) === name && sectionOf(spec.key) !== PROVIDERS_SECTION)
  const section = closest(name, ALL_SECTIONS)
  let suggestion: string
  if (leafMatch) suggestion = `Did you mean ${leafMatch.key}? Put ${name} inside the ${sectionOf(leafMatch.key)} section.`
  else if (section) suggestion = `Did you mean ${section}?`
  else suggestion = `The sections are: ${ALL_SECTIONS.join(', ')}.`
  return new ConfigError(`${origin.shown}: unknown ${isTable(body) ? 'section' : 'key'} ${shown}.`, {suggestions: [suggestion]})
}

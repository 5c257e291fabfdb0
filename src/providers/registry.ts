import {PROVIDER_NAME} from '../config/keys.js'
import {closest} from '../config/values.js'
import {SynapseError} from '../core/errors.js'
import {openaiProvider} from './openai.js'
import type {ProviderDescriptor} from './provider.js'

/** Who registered a provider: 'builtin', or the name of the plugin that did. */
export type ProviderSource = string

export interface RegisteredProvider {
  descriptor: ProviderDescriptor
  /** The source of the registration this one replaced, so the CLI can say that a plugin overrides a provider. */
  replaced?: ProviderSource
  source: ProviderSource
}

/**
 * The providers the CLI knows by name. Built-in providers are registered through the same `register`
 * call as plugin ones; a later registration of a name replaces the earlier one, so a plugin can
 * override a built-in provider.
 */
export class ProviderRegistry {
  private readonly entries = new Map<string, RegisteredProvider>()

  /**
   * Returns the descriptor registered under exactly `name`.
   * Throws SynapseError 'PROVIDER_NOT_FOUND' naming the known providers when there is none: exit 2
   * with `typed` (the name came from the command line, where a value outside a fixed set is a usage
   * error, as any bad flag value is), else 1 (a session's or the config's provider that is gone).
   */
  get(name: string, options: {typed?: boolean} = {}): ProviderDescriptor {
    const entry = this.entries.get(name)
    if (entry) return entry.descriptor

    const known = this.names()
    const sameButCase = known.find(candidate => candidate === name.toLowerCase())
    const guess = sameButCase ? undefined : closest(name, known)
    const suggestions = [
      ...(sameButCase ? [`Provider names are lower case: use "${sameButCase}".`] : []),
      ...(guess ? [`Did you mean "${guess}"?`] : []),
      `If a plugin provides "${name}", install it: synapse plugins install <package>.`,
    ]
    throw new SynapseError('PROVIDER_NOT_FOUND', `Unknown provider "${name}". Known providers: ${known.length > 0 ? known.join(', ') : 'none'}.`, {
      exitCode: options.typed ? 2 : 1,
      suggestions,
    })
  }

  has(name: string): boolean {
    return this.entries.has(name)
  }

  /** Every registration, sorted by name. */
  list(): RegisteredProvider[] {
    return this.names().map(name => this.entries.get(name)!)
  }

  names(): string[] {
    return [...this.entries.keys()].sort()
  }

  /**
   * Adds `descriptor` under its name, replacing an earlier registration of that name.
   * Throws SynapseError 'PROVIDER_ERROR' for a name that could not be typed as a flag or config key.
   */
  register(descriptor: ProviderDescriptor, options: {source?: ProviderSource} = {}): RegisteredProvider {
    const source = options.source ?? 'builtin'
    if (!PROVIDER_NAME.test(descriptor.name)) {
      throw new SynapseError(
        'PROVIDER_ERROR',
        `The provider name ${JSON.stringify(descriptor.name)} registered by ${source} is invalid: use lower-case letters, digits, "-" and "_".`,
      )
    }

    const previous = this.entries.get(descriptor.name)
    const entry: RegisteredProvider = previous ? {descriptor, replaced: previous.source, source} : {descriptor, source}
    this.entries.set(descriptor.name, entry)
    return entry
  }

  /** The registration of `name`, with its source, or undefined. */
  registration(name: string): RegisteredProvider | undefined {
    return this.entries.get(name)
  }
}

/** The providers that ship with synapse; the CLI registers them first, with source 'builtin'. */
export function builtinProviders(): ProviderDescriptor[] {
  return [openaiProvider]
}

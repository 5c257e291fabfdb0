import {SynapseCommand} from '../../cli/base-command.js'
import {reportConfigWarnings, storageUrl} from '../../cli/open.js'
import {table} from '../../cli/output.js'
import {type ConfigEntry, loadConfig, withEffectiveDefaults} from '../../config/index.js'
import {listKeys, withApiKeyEntries} from '../../providers/api-keys.js'
import {checkProviderOptions} from '../../providers/settings.js'

export default class ConfigShow extends SynapseCommand {
  static description =
    'Each setting with the value in effect and where it came from: flag, environment, project file, user file or default (a default is shown as what it means: the database file, the provider\'s default model and endpoint); API keys also from the environment and the keys file ("keys set"). Secrets are masked. What an untrusted project file may not set is not shown, and a warning on stderr names each such key.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']
  static summary = 'Show the effective configuration.'

  async run(): Promise<ConfigEntry[]> {
    await this.parse(ConfigShow)
    const config = await loadConfig()
    reportConfigWarnings(config)
    const registry = await this.providerRegistry()
    // What a chat would refuse, shown here too: each installed provider's table against what it declares.
    for (const {descriptor} of registry.list()) checkProviderOptions(descriptor, config)
    // API keys resolve beyond the config files (environment, keys file): show the one in use, masked.
    const provider = registry.list().find(r => r.descriptor.name === config.settings.provider.default)?.descriptor
    const effective: Record<string, unknown> = {'provider.model': provider?.defaultModel, 'storage.url': storageUrl(config)}
    for (const {descriptor} of registry.list()) effective[`providers.${descriptor.name}.base_url`] = descriptor.defaultBaseUrl
    const entries = withEffectiveDefaults(withApiKeyEntries(config.entries(), listKeys(registry, config)), effective)
    const source = (e: ConfigEntry) =>
      e.source.file ? `${e.source.kind} (${e.source.file})` : e.source.variable ? `${e.source.kind} (${e.source.variable})` : e.source.kind
    const rows = table(
      entries,
      [
        {header: 'KEY', value: e => e.key},
        {header: 'VALUE', value: e => (e.value === undefined ? '' : typeof e.value === 'string' ? e.value : JSON.stringify(e.value))},
        {header: 'SOURCE', tint: e => (e.source.kind === 'default' ? 'dim' : undefined), value: source},
      ],
      this.style,
    )
    for (const line of rows) this.log(line)
    return entries
  }
}

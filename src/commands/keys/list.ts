import {SynapseCommand} from '../../cli/base-command.js'
import {table, terminalWidth} from '../../cli/output.js'
import {displayPath} from '../../config/files.js'
import {loadConfig, type SettingSource} from '../../config/index.js'
import {type KeyStatus, listKeys} from '../../providers/api-keys.js'

export type KeysListResult = KeyStatus[]

export default class KeysList extends SynapseCommand {
  static description =
    'Every installed provider, with the key it would use (masked: at most its last four characters) and where that key comes from: the environment, the keys file ("keys set") or a config file, in that order of precedence. A key that a higher one shadows is named too.'
  static examples = ['<%= config.bin %> <%= command.id %>', "<%= config.bin %> <%= command.id %> --json | jq -r '.[] | select(.source == null) | .provider'"]
  static summary = 'List API keys, masked, and where each comes from.'

  async run(): Promise<KeysListResult> {
    await this.parse(KeysList)
    const config = await loadConfig()
    const registry = await this.providerRegistry()
    const keys = listKeys(registry, config)
    const where = (source: SettingSource) =>
      source.variable ? `${source.kind} (${source.variable})` : source.file ? `${source.kind} (${displayPath(source.file)})` : source.kind
    const note = (status: KeyStatus) => [
      ...(status.installed ? [] : ['provider not installed']),
      ...(status.shadowed.length > 0 ? [`overrides ${status.shadowed.map(s => s.kind).join(', ')}`] : []),
      ...(status.source === null && status.envVariable ? [`set ${status.envVariable} or run "synapse keys set ${status.provider}"`] : []),
    ]
    const rows = table(
      keys,
      [
        {header: 'PROVIDER', value: s => s.provider},
        {header: 'KEY', value: s => s.masked ?? '-'},
        {header: 'SOURCE', tint: s => (s.source ? undefined : 'dim'), value: s => (s.source ? where(s.source) : 'none')},
        {header: 'NOTE', tint: () => 'dim', value: s => note(s).join('; '), wrap: true},
      ],
      this.style,
      {width: terminalWidth(this.style, process.stdout)},
    )
    for (const line of rows) this.log(line)
    return keys
  }
}

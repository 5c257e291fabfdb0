import {Args} from '@oclif/core'

import {SynapseCommand} from '../../cli/base-command.js'
import {displayPath} from '../../config/files.js'
import {loadConfig} from '../../config/index.js'
import {checkProviderArgument, describeSource, type KeyChange, removeKey} from '../../providers/api-keys.js'

export type KeysRemoveResult = KeyChange

export default class KeysRemove extends SynapseCommand {
  static args = {
    provider: Args.string({description: 'The provider whose stored key to remove.', ignoreStdin: true, required: true}),
  }
  static description =
    'Removes the key that "keys set" stored. A key in the environment or in a config file is not touched: the command says so when one remains in use.'
  static examples = ['<%= config.bin %> <%= command.id %> openai']
  static summary = 'Remove a stored API key.'

  async run(): Promise<KeysRemoveResult> {
    const {args} = await this.parse(KeysRemove)
    checkProviderArgument(args.provider)
    const config = await loadConfig()
    const registry = await this.providerRegistry()
    const change = removeKey(registry, config, args.provider)
    this.log(`Removed the ${change.provider} key from ${displayPath(change.file)}.`)
    if (change.source) this.log(`The ${change.provider} key in use now comes from ${describeSource(change.source)}.`)
    return change
  }
}

import {Args} from '@oclif/core'

import {SynapseCommand} from '../../cli/base-command.js'
import {paint} from '../../cli/output.js'
import {readSecretLine} from '../../cli/secret-prompt.js'
import {readPipedStdin} from '../../chat/input.js'
import {displayPath} from '../../config/files.js'
import {loadConfig} from '../../config/index.js'
import {checkProviderArgument, describeSource, type KeyChange, setKey} from '../../providers/api-keys.js'

export type KeysSetResult = KeyChange

export default class KeysSet extends SynapseCommand {
  static args = {
    // Never from stdin: piped text is the key, and must not be taken for (and printed as) a provider name.
    provider: Args.string({description: 'The provider the key is for, e.g. openai or anthropic.', ignoreStdin: true, required: true}),
  }
  static description =
    "On a terminal, asks for the key without showing what you type or paste; piped in, reads it from stdin. The key is stored in keys.json in the config directory (mode 0600) and used by every command from then on, unless the provider's environment variable (OPENAI_API_KEY...) is set: that wins. Never pass a key as an argument: it would stay in your shell history."
  static examples = [
    '<%= config.bin %> <%= command.id %> openai',
    'printf %s "$OPENAI_API_KEY" | <%= config.bin %> <%= command.id %> openai',
    '<%= config.bin %> <%= command.id %> anthropic < ~/secrets/anthropic.key',
  ]
  static summary = 'Store an API key for a provider.'

  async run(): Promise<KeysSetResult> {
    const {args} = await this.parse(KeysSet)
    checkProviderArgument(args.provider)
    const config = await loadConfig()
    const registry = await this.providerRegistry()
    // An unknown provider fails before the user types a key for nothing.
    const provider = registry.get(args.provider, {typed: true}).name
    const key = process.stdin.isTTY ? await readSecretLine(`API key for ${provider} (not shown): `) : ((await readPipedStdin()) ?? '').trim()
    const change = setKey(registry, config, provider, key)
    this.log(`Stored the ${provider} key in ${displayPath(change.file)}.`)
    if (change.source && change.source.kind !== 'keys') {
      process.stderr.write(
        `${paint(this.errorStyle, 'yellow', 'Warning:')} ${describeSource(change.source)} also sets the ${provider} key, and wins while it is set.\n`,
      )
    }
    return change
  }
}

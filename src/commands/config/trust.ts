import {Args} from '@oclif/core'

import {SynapseCommand} from '../../cli/base-command.js'
import {trustProject, type TrustResult} from '../../config/index.js'

export type ConfigTrustResult = TrustResult

export default class ConfigTrust extends SynapseCommand {
  static args = {
    dir: Args.string({description: 'Where to look for the project file, upward to the project root (default: the working directory).'}),
  }
  static description =
    'Until you trust it, a project file (.synapserc, synapse.config.*, a package.json "synapse" key, found from the working directory up) may set only the provider, the model and the context limits, and a JavaScript one is not run. Trusting records the file\'s sha256 in trusted.json in your config dir: once the file changes, it is untrusted again until you run this again.'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> ~/src/my-project',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static summary = "Let this project's config file set everything, as your own file does."

  async run(): Promise<ConfigTrustResult> {
    const {args} = await this.parse(ConfigTrust)
    const result = await trustProject({cwd: args.dir})
    this.log(`Trusted ${result.file} (sha256 ${result.sha256.slice(0, 12)}).`)
    if (result.keys === null) this.log('It is JavaScript: synapse runs it from the next command on, and whatever it sets applies.')
    else if (result.keys.length === 0) this.log('It sets nothing.')
    else {
      this.log(`It sets: ${result.keys.join(', ')}.`)
      if (result.unlocked && result.unlocked.length > 0) this.log(`Now applied, which an untrusted file may not set: ${result.unlocked.join(', ')}.`)
    }

    return result
  }
}

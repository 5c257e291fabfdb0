import {Args} from '@oclif/core'

import {SynapseCommand} from '../../cli/base-command.js'
import {untrustProject, type UntrustResult} from '../../config/index.js'

export type ConfigUntrustResult = UntrustResult

export default class ConfigUntrust extends SynapseCommand {
  static args = {
    dir: Args.string({description: 'The project directory, or any directory under it (default: the working directory).'}),
  }
  static description = 'Its project file goes back to setting only what an untrusted file may: the provider, the model and the context limits.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> ~/src/my-project --json']
  static summary = "Stop trusting this project's config file."

  async run(): Promise<ConfigUntrustResult> {
    const {args} = await this.parse(ConfigUntrust)
    const result = await untrustProject({cwd: args.dir})
    this.log(result.removed ? `No longer trusted: ${result.directory}.` : `${result.directory} was not trusted.`)
    return result
  }
}

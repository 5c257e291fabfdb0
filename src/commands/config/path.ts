import {join} from 'node:path'

import {SynapseCommand} from '../../cli/base-command.js'
import {reportConfigWarnings, storageUrl} from '../../cli/open.js'
import {type ConfigFile, loadConfig} from '../../config/index.js'
import {redactUrl} from '../../core/redact.js'

export interface ConfigPathResult {
  database: string
  /** A project file also says whether it is trusted (`synapse config trust`). */
  files: ConfigFile[]
  userFile: string
}

export default class ConfigPath extends SynapseCommand {
  static description =
    'The configuration files that were read, lowest precedence first, the user file (whether or not it exists) and the database in use. A project file is marked trusted, untrusted or changed (trusted once, edited since): see "synapse config trust".'
  static examples = ['<%= config.bin %> <%= command.id %>', '$EDITOR "$(<%= config.bin %> <%= command.id %> --json | jq -r .userFile)"']
  static summary = 'Show which configuration files are read.'

  async run(): Promise<ConfigPathResult> {
    await this.parse(ConfigPath)
    const config = await loadConfig()
    reportConfigWarnings(config)
    const userFile = config.files.find(f => f.kind === 'user')?.path ?? join(config.userDir, 'config.toml')
    const result = {database: redactUrl(storageUrl(config)), files: config.files, userFile}
    if (config.files.length === 0) this.log('No configuration file was found; the defaults apply.')
    for (const file of config.files) this.log(`${file.kind}\t${file.path}${file.trust ? `\t${file.trust}` : ''}`)
    this.log(`user file\t${userFile}`)
    this.log(`database\t${result.database}`)
    return result
  }
}

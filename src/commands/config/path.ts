import {join} from 'node:path'

import {SynapseCommand} from '../../cli/base-command.js'
import {storageUrl} from '../../cli/open.js'
import {loadConfig} from '../../config/index.js'
import {redactUrl} from '../../core/redact.js'

export interface ConfigPathResult {
  database: string
  files: Array<{kind: 'project' | 'user'; path: string}>
  userFile: string
}

export default class ConfigPath extends SynapseCommand {
  static description = 'The configuration files that were read, lowest precedence first, the user file (whether or not it exists) and the database in use.'
  static examples = ['<%= config.bin %> <%= command.id %>', '$EDITOR "$(<%= config.bin %> <%= command.id %> --json | jq -r .userFile)"']
  static summary = 'Show which configuration files are read.'

  async run(): Promise<ConfigPathResult> {
    await this.parse(ConfigPath)
    const config = await loadConfig()
    const userFile = config.files.find((f) => f.kind === 'user')?.path ?? join(config.userDir, 'config.toml')
    const result = {database: redactUrl(storageUrl(config)), files: config.files, userFile}
    if (config.files.length === 0) this.log('No configuration file was found; the defaults apply.')
    for (const file of config.files) this.log(`${file.kind}\t${file.path}`)
    this.log(`user file\t${userFile}`)
    this.log(`database\t${result.database}`)
    return result
  }
}

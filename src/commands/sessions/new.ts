import {Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {sessionJson, type SessionJson} from '../../cli/views/sessions.js'
import {InvalidInputError} from '../../core/errors.js'
import type {Metadata} from '../../store/session-store.js'

export default class SessionsNew extends StoreCommand {
  static description = 'Prints the new session’s id (only the id when piped, for scripts). Metadata is free-form: tenant, user, traits, working directory...'
  static examples = [
    '<%= config.bin %> <%= command.id %> --title "Release notes"',
    '<%= config.bin %> <%= command.id %> --system "Answer in French." --meta tenant=acme --meta user=ada',
    'id=$(<%= config.bin %> <%= command.id %>) && <%= config.bin %> -s "$id" "Hello"',
  ]
  static flags = {
    meta: Flags.string({description: 'Metadata as key=value; repeat for more.', multiple: true}),
    model: Flags.string({char: 'm', description: 'Model the session will use.'}),
    provider: Flags.string({char: 'p', description: 'Provider the session will use.'}),
    system: Flags.string({description: 'System prompt, sent first in every request of the session.'}),
    title: Flags.string({char: 't', description: 'A title for the session.'}),
  }
  static summary = 'Create an empty session.'

  async run(): Promise<SessionJson> {
    const {flags} = await this.parse(SessionsNew)
    // A session's provider answers every later turn: one not installed would fail only then, far from the typo.
    if (flags.provider !== undefined) (await this.providerRegistry()).get(flags.provider, {typed: true})
    const session = await this.store.create({
      metadata: parseMeta(flags.meta ?? []),
      model: flags.model ?? null,
      provider: flags.provider ?? null,
      systemPrompt: flags.system ?? null,
      title: flags.title ?? null,
    })
    this.log(this.style.terminal ? `Created session ${session.id}` : session.id)
    return sessionJson(session)
  }
}

export function parseMeta(pairs: string[]): Metadata {
  const metadata: Metadata = {}
  for (const pair of pairs) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new InvalidInputError(`--meta takes key=value, not "${pair}".`, {suggestions: ['Example: --meta tenant=acme']})
    metadata[pair.slice(0, at).trim()] = pair.slice(at + 1)
  }
  return metadata
}

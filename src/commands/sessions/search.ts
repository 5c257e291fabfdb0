import {Args, Flags} from '@oclif/core'

import {StoreCommand} from '../../cli/base-command.js'
import {terminalWidth} from '../../cli/output.js'
import {parseWhen, renderHits, type SearchHitJson, searchHitJson} from '../../cli/views/search.js'
import {SynapseError} from '../../core/errors.js'
import {DEFAULT_SEARCH_LIMIT, MAX_QUERY_LENGTH, MAX_SEARCH_LIMIT} from '../../store/search.js'
import {MESSAGE_ROLES, type MessageRole} from '../../store/session-store.js'

export interface SessionsSearchResult {
  /** In order: titles first, then by relevance, then the most recent. */
  hits: SearchHitJson[]
  query: string
}

const sinceFlag = Flags.custom<Date>({parse: async input => parseWhen(input)})
const untilFlag = Flags.custom<Date>({parse: async input => parseWhen(input, {endOfDay: true})})

export default class SessionsSearch extends StoreCommand {
  static args = {
    query: Args.string({
      description: `Words (all must match), "quoted phrases", prefix* (at most ${MAX_QUERY_LENGTH} characters).`,
      ignoreStdin: true,
      required: true,
    }),
  }
  static description =
    `Full-text search over every message still in its conversation and every session title (with --all, also what a retry, an edit or an undo took out, marked replaced), ranked: titles first, then the most relevant messages, the most recent first among equals. Words match whole words, in any case; "a phrase" matches its words in order; pre* matches words starting so. Everything else (AND, OR, NOT, -, ^, :, parentheses, punctuation) is read as plain words. On a terminal each hit shows the session's short id, its name as sessions list shows it (the title, else the first question), date and model, and the matching text with the matches marked; in a pipe, one tab-separated line per hit (session id, message id, role, ISO date, model, snippet, session name).

Exit codes: 0 with hits, 1 when nothing matches (a one-line note on stderr, like grep) or on failure, 2 for a bad query or flag.`
  static examples = [
    '<%= config.bin %> <%= command.id %> zebra',
    '<%= config.bin %> <%= command.id %> \'"release notes" draft*\'',
    '<%= config.bin %> <%= command.id %> migration --role assistant --since 7d',
    '<%= config.bin %> <%= command.id %> invoice --model gpt-4o --until 2026-11-30',
    '<%= config.bin %> <%= command.id %> deploy --session 01JX4Q2B --limit 5',
    '<%= config.bin %> <%= command.id %> kittiwake --all   # also what /retry, /edit and /undo took out, marked (replaced)',
    "<%= config.bin %> <%= command.id %> postgres --json | jq -r '.hits[].session.id'",
  ]
  static flags = {
    all: Flags.boolean({
      description: 'Also messages a retry, an edit or an undo took out of the conversation, each marked (replaced); --json: "replaced": true.',
    }),
    limit: Flags.integer({char: 'n', default: DEFAULT_SEARCH_LIMIT, description: 'How many hits to show.', max: MAX_SEARCH_LIMIT, min: 1}),
    model: Flags.string({description: 'Only messages of this model (a message’s own, else its session’s).'}),
    offset: Flags.integer({default: 0, description: 'Skip this many hits first (the next page).', min: 0}),
    provider: Flags.string({description: 'Only messages of this provider (a message’s own, else its session’s).'}),
    role: Flags.option({description: 'Only messages of this role (leaves out title hits).', options: MESSAGE_ROLES})(),
    session: Flags.string({char: 's', description: 'Only this session (an id or a unique prefix).'}),
    since: sinceFlag({
      description: 'Only messages from then on: a date (2026-11-30), a time (2026-11-30T14:00Z) or a duration back from now (30m, 12h, 7d, 2w).',
    }),
    until: untilFlag({description: 'Only messages up to then (a date means to its end), in the forms --since takes.'}),
  }
  static summary = 'Search messages and titles of every session.'

  async run(): Promise<SessionsSearchResult> {
    const {args, flags} = await this.parse(SessionsSearch)
    const hits = await this.store.search(args.query, {
      includeReplaced: flags.all,
      limit: flags.limit,
      model: flags.model,
      offset: flags.offset,
      provider: flags.provider,
      role: flags.role as MessageRole | undefined,
      session: flags.session,
      since: flags.since,
      until: flags.until,
    })
    if (hits.length === 0 && (await this.store.count()) === 0) {
      throw new SynapseError('SESSION_NOT_FOUND', 'There is no saved session to search yet.', {suggestions: ['Start one with: synapse "Hello"']})
    }
    const result = {hits: hits.map(hit => searchHitJson(hit)), query: args.query}
    if (hits.length === 0) {
      // As grep: no match is exit 1, and a line on stderr keeps a pipe's output empty.
      process.exitCode = 1
      if (!this.jsonEnabled())
        process.stderr.write(`Nothing matches ${JSON.stringify(args.query)}${flags.offset > 0 ? ` past the first ${flags.offset} hits` : ''}.\n`)
      return result
    }
    const {style} = this
    for (const line of renderHits(hits, style, {width: terminalWidth(style, process.stdout)})) this.log(line)
    return result
  }
}

import {Flags} from '@oclif/core'

import {SynapseCommand} from '../cli/base-command.js'
import {paint, table, terminalWidth} from '../cli/output.js'
import {loadConfig} from '../config/index.js'
import {sourceLine} from '../providers/model-facts.js'
import {type ModelEntry, type ModelsResult, listModels, SERVER_TIMEOUT_MS, serverNote} from '../providers/models.js'

export type {ModelsResult} from '../providers/models.js'

export default class Models extends SynapseCommand {
  static description =
    `Each installed provider's default and well-known models, with their context window and prices in USD per million input, output and cached input tokens (from the data synapse ships, or your config's [models."<name>"] tables; — where neither knows). For an OpenAI-compatible server (providers.openai.base_url or OPENAI_BASE_URL: Ollama, vLLM, llama.cpp, LM Studio...), also the models it lists at /models; a server that gives no list within ${SERVER_TIMEOUT_MS / 1000} s costs a one-line note on stderr, and the known models are still shown.`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --provider anthropic',
    'OPENAI_BASE_URL=http://127.0.0.1:11434/v1 <%= config.bin %> <%= command.id %> -p openai   # what a local Ollama has',
    "<%= config.bin %> <%= command.id %> --json | jq -r '.models[] | select(.served) | .model'",
  ]
  static flags = {
    provider: Flags.string({char: 'p', description: "Only this provider's models."}),
  }
  static summary = 'List the models of the installed providers.'

  async run(): Promise<ModelsResult> {
    const {flags} = await this.parse(Models)
    const config = await loadConfig()
    const registry = await this.providerRegistry()
    const result = await listModels(registry, config, {provider: flags.provider})
    for (const listing of result.servers) if (listing.error !== null) process.stderr.write(`${paint(this.errorStyle, 'yellow', serverNote(listing))}\n`)
    const note = (entry: ModelEntry) =>
      [
        ...(entry.default ? ['default'] : []),
        ...(entry.served ? ['on the server'] : []),
        ...(entry.facts?.source === 'config' ? ['facts from config'] : []),
      ].join(', ')
    const fact = (value: null | number | undefined) => (value === null || value === undefined ? '—' : String(value))
    const rows = table(
      result.models,
      [
        {header: 'PROVIDER', value: m => m.provider},
        {header: 'MODEL', value: m => m.model},
        {header: 'CONTEXT', value: m => fact(m.facts?.contextWindow)},
        {header: 'INPUT $/1M', value: m => fact(m.facts?.inputPrice)},
        {header: 'OUTPUT $/1M', value: m => fact(m.facts?.outputPrice)},
        {header: 'CACHED $/1M', value: m => fact(m.facts?.cachedInputPrice)},
        {header: 'NOTE', tint: () => 'dim', value: note, wrap: true},
      ],
      this.style,
      {width: terminalWidth(this.style, process.stdout)},
    )
    for (const line of rows) this.log(line)
    // In a pipe every line is one model's record; the footer would be a bogus one.
    if (this.style.terminal) this.log(paint(this.style, 'dim', sourceLine(result.source)))
    return result
  }
}

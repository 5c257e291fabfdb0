import {Flags} from '@oclif/core'

import {StoreCommand} from '../cli/base-command.js'
import {paint} from '../cli/output.js'
import {terminalSafe} from '../core/terminal-text.js'

/** `synapse ui --json`: printed once the server listens (the command then runs until Ctrl-C). */
export interface UiResult {
  /** 127.0.0.1: the server listens on loopback only. */
  host: string
  port: number
  /** The address to open, with the token that the first request trades for a cookie. */
  url: string
}

export default class Ui extends StoreCommand {
  static args = {}
  static description =
    `A page to browse the sessions (sorted and filtered by model and date), read one with its Markdown rendered and code highlighted, its system prompt, metadata and tokens per reply, and rename, keep, delete or export it. It works on whichever store synapse uses.

The server listens on 127.0.0.1 only, and answers only requests that carry the random token in the printed address (traded for a cookie on the first one) and name 127.0.0.1 and its port as their Host; what changes anything needs the token in a header too, which no other site can send. Everything it shows comes from this server: no request leaves the machine. Ctrl-C stops it (exit 130).`
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --port 8765 --no-open',
    '<%= config.bin %> <%= command.id %> --no-open --json',
  ]
  static flags = {
    open: Flags.boolean({allowNo: true, default: true, description: 'Open the page in the browser (--no-open: only print its address).'}),
    port: Flags.integer({char: 'p', description: 'Listen on this port of 127.0.0.1 (default: a free one).', max: 65_535, min: 1}),
  }
  static summary = 'Browse, read and manage your sessions in a local web page.'

  async run(): Promise<UiResult> {
    const {flags} = await this.parse(Ui)
    const [{startUiServer}, {openBrowser}, assets] = await Promise.all([
      import('../ui/server.js'),
      import('../ui/open-browser.js'),
      import('synapse-ui:assets'),
    ])
    const server = await startUiServer({
      assets,
      // A failure quotes what it failed on (stored text among it): escaped for the terminal.
      onError: error => {
        const detail = error instanceof Error ? ((process.env.DEBUG ? error.stack : undefined) ?? error.message) : String(error)
        process.stderr.write(`${paint(this.errorStyle, 'red', 'Error:')} ${terminalSafe(detail, {multiline: true})}\n`)
      },
      port: flags.port,
      store: this.store,
    })
    const result: UiResult = {host: '127.0.0.1', port: server.port, url: server.url}
    // The command runs until stopped, so its JSON is said when the server is ready, not when it ends.
    if (this.jsonEnabled()) this.logJson(result)
    else {
      this.log(`synapse ui: ${server.url}`)
      this.log(paint(this.style, 'dim', `Serving ${this.store.backend} sessions on ${server.origin}; Ctrl-C stops it.`))
    }
    if (flags.open) openBrowser(server.url)
    const signal = await new Promise<NodeJS.Signals>(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    await server.close()
    // The store closes in StoreCommand.finally, after the last request has settled.
    this.exit(signal === 'SIGINT' ? 130 : 143)
  }
}

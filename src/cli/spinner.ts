const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏']

/**
 * A spinner on stderr while waiting for the first token. Only on a terminal: in a pipe or a log it
 * would be noise. `stop()` erases it, so the reply starts at the beginning of the line.
 */
export class Spinner {
  private frame = 0
  private timer?: NodeJS.Timeout

  constructor(
    private readonly stream: NodeJS.WriteStream,
    private readonly label: string,
  ) {}

  start(): this {
    if (!this.stream.isTTY || this.timer) return this
    this.draw()
    this.timer = setInterval(() => this.draw(), 80)
    this.timer.unref()
    return this
  }

  stop(): void {
    if (!this.timer) return
    clearInterval(this.timer)
    this.timer = undefined
    this.stream.write('\r\u001B[2K')
  }

  private draw(): void {
    this.stream.write(`\r${FRAMES[this.frame++ % FRAMES.length]} ${this.label}`)
  }
}

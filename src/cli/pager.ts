import {spawn} from 'node:child_process'

import {displayWidth} from './width.js'

export interface PagerOptions {
  env?: NodeJS.ProcessEnv
  /** --no-pager. */
  disabled?: boolean
  output?: NodeJS.WriteStream
}

/**
 * The pager command for output taller than the screen, as git chooses it: $PAGER, else `less -R`;
 * none when $PAGER is empty or `cat`.
 */
export function pagerCommand(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const command = env.PAGER ?? 'less -R'
  return command.trim() === '' || command.trim() === 'cat' ? undefined : command
}

/** Rows `lines` take on a terminal `columns` wide, long lines wrapping. */
export function screenRows(lines: string[], columns: number): number {
  return lines.reduce((rows, line) => rows + Math.max(1, Math.ceil(displayWidth(line) / columns)), 0)
}

/**
 * Shows `lines` through the pager when the output is a terminal and they would not fit on its
 * screen; resolves false, having written nothing, when they are the caller's to print (a pipe, a
 * screen tall enough, --no-pager, no pager configured). The pager runs through `sh -c`, as git runs
 * it, with LESS=FRX unless LESS is set (quit when it fits, keep colours, leave the text on the screen).
 */
export async function page(lines: string[], options: PagerOptions = {}): Promise<boolean> {
  const output = options.output ?? process.stdout
  const env = options.env ?? process.env
  const command = pagerCommand(env)
  if (options.disabled || !command || !output.isTTY || !output.rows || !output.columns) return false
  // One row stays for the shell's prompt after it.
  if (screenRows(lines, output.columns) < output.rows) return false

  const child = spawn('sh', ['-c', command], {env: {...env, LESS: env.LESS ?? 'FRX', LV: env.LV ?? '-c'}, stdio: ['pipe', 'inherit', 'inherit']})
  // Ctrl-C belongs to the pager (less clears its input line); synapse waits for it to end.
  const ignoreInterrupt = () => {}
  process.on('SIGINT', ignoreInterrupt)
  try {
    return await new Promise<boolean>(resolve => {
      // Quitting the pager before the end closes its input: that is no error.
      child.stdin.on('error', () => {})
      child.on('error', () => resolve(false))
      // 127: the shell found no such command; the text is printed instead, under its complaint.
      child.on('close', code => resolve(code !== 127))
      child.stdin.end(lines.map(line => `${line}\n`).join(''))
    })
  } finally {
    process.off('SIGINT', ignoreInterrupt)
  }
}

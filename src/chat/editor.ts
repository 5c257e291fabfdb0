import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {SynapseError} from '../core/errors.js'

/** The editor the user chose: $VISUAL, else $EDITOR, as git and crontab look for it. */
export function editorCommand(env: NodeJS.ProcessEnv = process.env): {command: string; variable: 'EDITOR' | 'VISUAL'} {
  for (const variable of ['VISUAL', 'EDITOR'] as const) {
    const command = env[variable]?.trim()
    if (command) return {command, variable}
  }
  throw new SynapseError('INVALID_INPUT', 'No editor to open: neither $VISUAL nor $EDITOR is set.', {
    exitCode: 1,
    suggestions: ['Set one, e.g. export EDITOR=nano (or VISUAL="code --wait"), or give the new prompt on the command line: synapse -c --edit "…"'],
  })
}

/**
 * Opens `text` in the user's editor and returns what they saved. The file is private (0600, in a
 * directory of its own, 0700) and removed afterwards, whatever happens. The command runs through
 * `sh -c` so that "code --wait" works, with the file's path passed as an argument, never spliced
 * into the command. The editor owns the terminal meanwhile: a Ctrl-C is its to handle, and an
 * editor that dies of one is an interruption (exit 130).
 */
export async function editText(text: string, options: {env?: NodeJS.ProcessEnv; name?: string} = {}): Promise<string> {
  const {command, variable} = editorCommand(options.env)
  const dir = await mkdtemp(join(tmpdir(), 'synapse-edit-'))
  const file = join(dir, options.name ?? 'prompt.md')
  // Editors end a file with a newline; the text gets one so that saving it unchanged changes nothing.
  const ended = text.endsWith('\n')
  const ignore = () => {}
  process.on('SIGINT', ignore)
  try {
    await writeFile(file, ended ? text : `${text}\n`, {flag: 'wx', mode: 0o600})
    const outcome = await new Promise<{code: null | number; signal: NodeJS.Signals | null}>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', `${command} "$@"`, 'synapse-editor', file], {env: options.env ?? process.env, stdio: 'inherit'})
      child.on('error', reject)
      child.on('exit', (code, signal) => resolve({code, signal}))
    })
    if (outcome.signal === 'SIGINT') throw new SynapseError('INTERRUPTED', 'The editor was interrupted; nothing was sent.', {exitCode: 130})
    if (outcome.code !== 0) {
      const how = outcome.signal ? `was stopped by ${outcome.signal}` : `exited with status ${outcome.code}`
      throw new SynapseError('INVALID_INPUT', `The editor ($${variable}: ${command}) ${how}; nothing was sent.`, {
        exitCode: 1,
        suggestions: [`Check that $${variable} names an editor that runs here, e.g. export ${variable}=nano.`],
      })
    }
    const edited = await readFile(file, 'utf8')
    return ended ? edited : edited.replace(/\r?\n$/, '')
  } finally {
    process.off('SIGINT', ignore)
    await rm(dir, {force: true, recursive: true})
  }
}

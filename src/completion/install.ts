import type {Interfaces} from '@oclif/core'
import {existsSync, readdirSync} from 'node:fs'
import {appendFile, readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {writeFileAtomic} from '../core/atomic-write.js'
import {makePrivateDir} from '../core/private-dir.js'
import {bashScript, zshScript} from './scripts.js'
import {completionSpec} from './spec.js'

export interface InstalledScripts {
  bash: string
  zsh: string
}

/**
 * Writes the value-completion scripts beside those @oclif/plugin-autocomplete just wrote
 * (`<cacheDir>/autocomplete/functions/{bash,zsh}/`) and makes its setup scripts (`bash_setup`,
 * `zsh_setup`, which the line in ~/.bashrc or ~/.zshrc sources) source them after oclif's own. The
 * plugin rewrites its setup scripts on every run, so this runs after every run; the line is added once.
 */
export async function installValueCompletion(config: Pick<Interfaces.Config, 'bin' | 'cacheDir' | 'commands' | 'topics'>): Promise<InstalledScripts> {
  const dir = join(config.cacheDir, 'autocomplete')
  const spec = completionSpec(config)
  const scripts: InstalledScripts = {
    bash: join(dir, 'functions', 'bash', `${config.bin}-values.bash`),
    zsh: join(dir, 'functions', 'zsh', `${config.bin}-values.zsh`),
  }
  // Scripts every new shell sources: the user's alone (the plugin makes its directories as the umask says).
  const functions = join(dir, 'functions')
  for (const shellDir of [dir, functions, join(functions, 'bash'), join(functions, 'zsh')]) makePrivateDir(shellDir)
  for (const entry of readdirSync(functions, {withFileTypes: true})) if (entry.isDirectory()) makePrivateDir(join(functions, entry.name))
  await Promise.all([
    // Whole or not at all: a shell starting meanwhile must never source half a script.
    writeFileAtomic(scripts.bash, bashScript(spec)),
    writeFileAtomic(scripts.zsh, zshScript(spec)),
    sourceFrom(join(dir, 'bash_setup'), scripts.bash),
    sourceFrom(join(dir, 'zsh_setup'), scripts.zsh),
  ])
  return scripts
}

/** Adds `test -f SCRIPT && source SCRIPT` to the end of a setup script, unless it is there. */
async function sourceFrom(setup: string, script: string): Promise<void> {
  const quoted = `'${script.replaceAll("'", String.raw`'\''`)}'`
  const line = `test -f ${quoted} && source ${quoted};\n`
  const current = existsSync(setup) ? await readFile(setup, 'utf8') : ''
  if (current.includes(line)) return
  await appendFile(setup, `${current === '' || current.endsWith('\n') ? '' : '\n'}${line}`)
}

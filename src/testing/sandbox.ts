import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * A private HOME and XDG tree for one test: nothing a test runs may read or write the real ones.
 * `env` is a complete environment for child processes; `apply()` points this process at it too
 * (for runCommand, which reads process.env) and returns the function that undoes it.
 */
export interface Sandbox {
  cleanup(): void
  configDir: string
  dataDir: string
  env: NodeJS.ProcessEnv
  home: string
  root: string
}

const ISOLATED_KEYS = [
  'HOME',
  'XDG_CONFIG_HOME',
  'XDG_DATA_HOME',
  'XDG_CACHE_HOME',
  'XDG_STATE_HOME',
  'DATABASE_URL',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'NO_COLOR',
  'FORCE_COLOR',
  'LLM_USER_PATH',
]

export function makeSandbox(extra: NodeJS.ProcessEnv = {}): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'synapse-test-'))
  const home = join(root, 'home')
  const env: NodeJS.ProcessEnv = {...process.env}
  for (const key of ISOLATED_KEYS) delete env[key]
  for (const key of Object.keys(env)) if (key.startsWith('SYNAPSE_')) delete env[key]
  Object.assign(env, {
    // Some dependencies colour their output when they see CI=true; tests compare plain text.
    NO_COLOR: '1',
    HOME: home,
    XDG_CACHE_HOME: join(root, 'cache'),
    XDG_CONFIG_HOME: join(root, 'config'),
    XDG_DATA_HOME: join(root, 'data'),
    XDG_STATE_HOME: join(root, 'state'),
    ...extra,
  })
  return {
    cleanup: () => rmSync(root, {force: true, recursive: true}),
    configDir: join(root, 'config', 'synapse'),
    dataDir: join(root, 'data', 'synapse'),
    env,
    home,
    root,
  }
}

/** Points process.env at the sandbox until the returned function runs. */
export function enterSandbox(sandbox: Sandbox): () => void {
  const saved = {...process.env}
  for (const key of Object.keys(process.env)) if (!(key in sandbox.env)) delete process.env[key]
  Object.assign(process.env, sandbox.env)
  return () => {
    for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key]
    Object.assign(process.env, saved)
  }
}

/** Writes the sandbox user's own config.toml (the trusted user file, as `synapse` finds it). */
export function writeUserConfig(sandbox: Sandbox, toml: string): void {
  mkdirSync(sandbox.configDir, {recursive: true})
  writeFileSync(join(sandbox.configDir, 'config.toml'), toml)
}

import type {TrustState} from './trust.js'

/** The effective settings, after every source has been applied. */
export interface Settings {
  session: {
    autoCleanup: boolean
    contextStrategy: 'summarize' | 'truncate'
    maxContextMessages: number
    maxContextTokens: number
    maxSessions: number
    retentionDays: number
  }
  /** url undefined means the default SQLite file in the data directory. */
  storage: {busyTimeoutMs: number; url?: string}
  provider: {default: string; model?: string}
  /** Per provider name, its free-form options exactly as written (snake_case keys). */
  providers: Record<string, Record<string, boolean | number | string>>
  /** Per model name as written in `[models."<name>"]`, the facts it overrides (snake_case keys; prices in USD per million tokens). */
  models: Record<string, ModelOverrides>
}

export interface ModelOverrides {
  cached_input_price?: number
  context_window?: number
  input_price?: number
  output_price?: number
}

/** 'keys': the keys file that `synapse keys set` writes (only for `providers.<name>.api_key`). */
export type SourceKind = 'default' | 'env' | 'keys' | 'project' | 'user'

/** file is absolute, for user, project and keys; variable is set for env. */
export interface SettingSource {
  file?: string
  kind: SourceKind
  variable?: string
}

/** key is dotted snake_case as written in files; value is masked when the key holds a secret. */
export interface ConfigEntry {
  key: string
  source: SettingSource
  value: unknown
}

export interface LoadedConfig {
  settings: Settings
  /** every known key (plus each providers.* key present), in a stable order, with where its value came from */
  entries(): ConfigEntry[]
  /** the files that were read, in precedence order lowest first */
  files: ConfigFile[]
  /** the user config dir, for `synapse config path`; the names looked for in it are config.toml, config.json, config.yaml, config.yml */
  userDir: string
  /**
   * One line each (without "Warning: "), for what was ignored: a key an untrusted project file may not
   * set, an untrusted JavaScript file not run. The CLI prints them on stderr; completion drops them.
   */
  warnings: string[]
}

export interface ConfigFile {
  kind: 'project' | 'user'
  path: string
  /** Project files only: whether the user trusts it (`synapse config trust`); an untrusted one sets only the keys a project may. */
  trust?: TrustState
}

export interface LoadConfigOptions {
  /** Where the project file search starts; process.cwd() by default. */
  cwd?: string
  /** process.env by default. HOME and XDG_CONFIG_HOME are read from here too. */
  env?: NodeJS.ProcessEnv
}

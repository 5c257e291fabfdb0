/**
 * Configuration: defaults, the user file, the project file, the environment and command-line flags,
 * merged key by key in that order of precedence. The known keys are listed once, in `keys.ts`.
 */
export {userConfigDir} from './files.js'
export {DEFAULT_SETTINGS} from './keys.js'
export {loadConfig, withEffectiveDefaults} from './load.js'
export {
  PROJECT_SAFE_KEYS,
  PROJECT_SAFE_MODEL_OPTIONS,
  trustProject,
  type TrustProjectOptions,
  type TrustResult,
  untrustProject,
  type UntrustResult,
} from './project.js'
export {TRUST_FILE, type TrustState} from './trust.js'
export type {ConfigEntry, ConfigFile, LoadConfigOptions, LoadedConfig, ModelOverrides, SettingSource, Settings, SourceKind} from './types.js'

// The public API for plugin authors and embedders: the ports, their types and the errors.
export {syncDirectory, writeFileAtomic, writeTemporary} from './core/atomic-write.js'
export * from './core/errors.js'
export {newId, normalizeIdPrefix, shortestUniquePrefix} from './core/ids.js'
export type {LoadedConfig, Settings} from './config/index.js'
export * from './providers/provider.js'
export {ProviderRegistry} from './providers/registry.js'
// A model's context window and prices (shipped data under the user's [models."<name>"] tables), for cost and context budgets.
export {MODEL_FACTS_SOURCE, type ModelFacts, modelFacts, type ModelFactsSource} from './providers/model-facts.js'
// What every provider needs around its SDK, so that a plugin's provider fails exactly as the built-in one does.
export {createProvider, missingApiKeyError, needsApiKey} from './providers/create.js'
export {type SdkClientOptions, SdkProvider} from './providers/sdk-provider.js'
export {
  baseUrlSetting,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_TIMEOUT_MS,
  type OpenedStream,
  type ProviderAdvice,
  type ProviderErrorContext,
  ProviderErrorTranslator,
  type ProviderFailure,
  type ReplyPart,
  readStainlessError,
  type ServerAnswer,
  type StainlessErrors,
  displayUrl,
  formatDuration,
  guardStream,
  interruptedError,
  sdkTimeout,
  type StreamLimits,
  streamLimits,
  streamReply,
  systemAndTurns,
  systemErrorCode,
  type WireMessage,
  wireMessages,
  withDetail,
} from './providers/support.js'
export {REDACTED, redactUrl} from './core/redact.js'
export {type OpenStoreOptions, type StorageBackend, StorageBackends, schemeOf} from './store/backends.js'
export {applyPatch, MemorySessionStore, MemoryStorageAdapter, patchMessageOf, summaryOf} from './store/memory-store.js'
export * from './store/session-store.js'
export {newestFirst, SessionStore} from './store/store.js'
// The checks every adapter makes, so that a plugin's store rejects bad input exactly as the built-in ones do.
export {
  checkLast,
  checkMessagePatch,
  checkNewMessages,
  checkPolicy,
  checkSnapshot,
  checkSnapshotBatch,
  closedStoreError,
  MAX_RESTORED_POSITION,
  MAX_STORED_INTEGER,
  monotonicClock,
  newMessageRecord,
  newSessionRecord,
  pageOf,
  selectForPrune,
} from './store/store-helpers.js'
export {decodeUsageFields, NO_USAGE, USAGE_FIELDS, type UsageFields, usageFieldsOf} from './store/usage-fields.js'
export type {Missing, NeighbouredSummary, RestoreConflict, StorageAdapter, StoredSummary, UnplacedMessage} from './store/storage-adapter.js'

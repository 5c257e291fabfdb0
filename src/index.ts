// The public API for plugin authors and embedders: the ports, their types and the errors.
export {syncDirectory, writeFileAtomic, writeTemporary} from './core/atomic-write.js'
// File mechanics a file-based backend needs: a directory lock, all-or-nothing writes, errors a user can act on.
export {DirectoryLock, type DirectoryLockOptions, UNNAMED_LOCK_GRACE_MS} from './core/directory-lock.js'
export {describeFsError} from './core/fs-errors.js'
export {eachLimited, JOURNAL_FILE, LEFTOVER_FILE, LockedDirectory, type LockedDirectoryOptions} from './core/locked-directory.js'
export * from './core/errors.js'
export {newId, normalizeIdPrefix, shortestUniquePrefix} from './core/ids.js'
export type {LoadedConfig, Settings} from './config/index.js'
export * from './providers/provider.js'
export {ProviderRegistry} from './providers/registry.js'
// A model's context window and prices (shipped data under the user's [models."<name>"] tables), for cost and context budgets.
export {MODEL_FACTS_SOURCE, type ModelFacts, modelFacts, type ModelFactsSource} from './providers/model-facts.js'
// What every provider needs around its SDK, so that a plugin's provider fails exactly as the built-in one does.
export {createProvider, missingApiKeyError, needsApiKey} from './providers/create.js'
export {type SdkAdvice, type SdkClientOptions, SdkProvider} from './providers/sdk-provider.js'
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
export {REDACTED, redactUrl, scrubSecret} from './core/redact.js'
export {type OpenStoreOptions, type StorageBackend, StorageBackends, schemeOf} from './store/backends.js'
// What the backends of network servers share: their URL read once, their failures worded once.
export {
  type ConnectionErrorDialect,
  type ConnectionTarget,
  type ConnectionUrlForm,
  checkedName,
  connectionTarget,
  describeConnectionError,
  type NetworkFailure,
  type ServerRefusal,
} from './store/connection-target.js'
export {MemorySessionStore, MemoryStorageAdapter} from './store/memory-store.js'
export {applyPatch, SnapshotStorageAdapter, stillDue, summaryOf} from './store/snapshot-adapter.js'
export {currentMessages, firstQuestion, lastExchange, pairReplies, previewOf} from './store/exchanges.js'
export * from './store/session-store.js'
export {newestFirst, SessionStore} from './store/store.js'
// The one record codec: the written form of a session (export files, session files, text for key-value backends) and what every backend accepts.
export {
  absentValue,
  checkMessagePatch,
  checkNewMessages,
  checkSnapshot,
  checkSnapshotBatch,
  checkSnapshotShape,
  type DecodeFailure,
  decodeSnapshot,
  type EncodedMessage,
  type EncodedSession,
  encodeSnapshot,
  fieldFromText,
  type FieldKind,
  fieldText,
  FORMAT_VERSION,
  MESSAGE_FIELDS,
  messageFromText,
  messageText,
  MAX_RESTORED_POSITION,
  MAX_STORED_INTEGER,
  READABLE_VERSIONS,
  READABLE_VERSIONS_TEXT,
  SESSION_FIELDS,
  sessionFields,
  sessionFromFields,
} from './store/record-codec.js'
export {
  checkLast,
  checkPolicy,
  closedStoreError,
  monotonicClock,
  newMessageRecord,
  newSessionRecord,
  pageOf,
  selectForPrune,
} from './store/store-helpers.js'
export {NO_USAGE} from './store/usage-fields.js'
export type {
  AppendOptions,
  MessageHide,
  Missing,
  NeighbouredSummary,
  RestoreConflict,
  StorageAdapter,
  StoredSummary,
  UnplacedMessage,
} from './store/storage-adapter.js'

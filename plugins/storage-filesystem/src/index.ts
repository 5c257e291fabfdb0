// @synapse-cli/storage-filesystem: sessions as one JSON file each in a directory, for file: URLs.
export {filesystemBackend} from './backend.js'
export {
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_STALE_LOCK_MS,
  FilesystemStorageAdapter,
  type FilesystemStoreOptions,
  openFilesystemAdapter,
  openFilesystemStore,
} from './filesystem-store.js'
export {directoryOf} from './url.js'

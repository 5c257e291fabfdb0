import {StorageUnavailableError, SynapseError} from './errors.js'

/** File-system failures a user can act on, as STORAGE_UNAVAILABLE naming the path; anything else passes through. */
export function describeFsError(error: unknown, path: string): unknown {
  if (error instanceof SynapseError) return error
  const code = (error as NodeJS.ErrnoException).code ?? ''
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS': {
      return new StorageUnavailableError(`Cannot write ${path} (${code}).`, {
        cause: error,
        suggestions: ['Check the permissions of the session directory, or point DATABASE_URL at a writable one.'],
      })
    }
    case 'EDQUOT':
    case 'ENOSPC': {
      return new StorageUnavailableError(`The disk holding ${path} is full (${code}).`, {
        cause: error,
        suggestions: ['Free some space, or prune old sessions with "synapse sessions prune".'],
      })
    }
    case 'EEXIST':
    case 'EIO':
    case 'EISDIR':
    case 'EMFILE':
    case 'ENFILE':
    case 'ENOENT':
    case 'ENOTDIR': {
      return new StorageUnavailableError(`Cannot use ${path} (${code}).`, {
        cause: error,
        suggestions: ['Check that the session directory is a writable directory, or set DATABASE_URL to another one.'],
      })
    }
    default: {
      return error
    }
  }
}

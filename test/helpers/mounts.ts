import {spawnSync} from 'node:child_process'
import {closeSync, mkdirSync, openSync, writeSync} from 'node:fs'
import {join} from 'node:path'

/**
 * A real file system of its own for a test: a small tmpfs mounted on a fresh directory, which the
 * test can make read-only or fill up, so that SQLite meets the errors a user's disk gives (EROFS,
 * ENOSPC) rather than an imitation. Needs the right to mount (root, as in the test machines);
 * `mountTmpfs` says so when it is missing.
 */
export interface TmpfsMount {
  /** Writes zeros to a file there until the file system has no space left. */
  fill(): void
  /** `mount -o remount,ro`: what a disk that turned read-only looks like. */
  remountReadOnly(): void
  readonly path: string
  unmount(): void
}

export function mountTmpfs(parent: string, sizeBytes: number): TmpfsMount {
  const path = join(parent, 'mnt')
  mkdirSync(path, {recursive: true})
  mountCommand(['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', path])
  let mounted = true
  return {
    fill() {
      const fd = openSync(join(path, 'filler'), 'w')
      const block = Buffer.alloc(4096)
      try {
        for (;;) writeSync(fd, block)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
      } finally {
        closeSync(fd)
      }
    },
    path,
    remountReadOnly() {
      mountCommand(['-o', 'remount,ro', path])
    },
    unmount() {
      if (!mounted) return
      mounted = false
      mountCommand(['-l', path], 'umount')
    },
  }
}

function mountCommand(args: string[], command = 'mount'): void {
  const result = spawnSync(command, args, {encoding: 'utf8'})
  if (result.status !== 0)
    throw new Error(
      `${command} ${args.join(' ')} failed (${result.error?.message ?? result.stderr.trim()}); these tests need the right to mount a tmpfs (root).`,
    )
}

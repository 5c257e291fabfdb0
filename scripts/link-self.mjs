// Links this package into its own node_modules, so that the in-repo plugins import "synapse-cli" and
// "synapse-cli/testing" exactly as a plugin written elsewhere would, through the package's exports.
import {lstatSync, mkdirSync, readlinkSync, rmSync, symlinkSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const link = join(root, 'node_modules', 'synapse-cli')
let current
try {
  current = lstatSync(link).isSymbolicLink() ? readlinkSync(link) : 'not a link'
} catch {}
if (current !== '..') {
  if (current !== undefined) rmSync(link, {force: true, recursive: true})
  mkdirSync(dirname(link), {recursive: true})
  symlinkSync('..', link, 'dir')
}

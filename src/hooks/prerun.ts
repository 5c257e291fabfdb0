import type {Hook} from '@oclif/core'

/**
 * `plugins install/link` write installed code into the data directory (`$XDG_DATA_HOME/synapse`),
 * and `autocomplete` writes shell scripts that every new shell sources into the cache directory
 * (`$XDG_CACHE_HOME/synapse`). Another user who could write there would run code as you, so both
 * are made 0700 before those commands run, whatever the umask (oclif's plugins would make them
 * 0777 under `umask 000`). Other commands write neither and pay nothing.
 */
const WRITES_CODE = /^(?:autocomplete|plugins)(?::|$)/

const hook: Hook.Prerun = async function ({Command}) {
  // The hidden `autocomplete values` runs on every TAB and only reads.
  if (!WRITES_CODE.test(Command.id) || Command.id === 'autocomplete:values') return
  const {makePrivateDir} = await import('../core/private-dir.js')
  try {
    makePrivateDir(this.config.dataDir)
    makePrivateDir(this.config.cacheDir)
  } catch {
    // The command itself reports a directory it cannot write, in its own words.
  }
}

export default hook

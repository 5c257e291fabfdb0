import type {Hook} from '@oclif/core'

/**
 * After @oclif/plugin-autocomplete has (re)written its completion scripts, add synapse's completion of
 * session ids, model and provider names beside them (src/completion/install.ts). `autocomplete [SHELL]` writes
 * them (so does `--refresh-cache`), and `plugins install/uninstall` run `autocomplete:create`. The
 * plugin emits no event of its own when it is done; oclif's postrun, which follows every command, is
 * the one that comes after, so this hook returns at once for any other command.

 */
const REGENERATING = new Set(['autocomplete', 'autocomplete:create'])

const hook: Hook.Postrun = async options => {
  if (!REGENERATING.has(options.Command?.id)) return
  try {
    const {installValueCompletion} = await import('../completion/install.js')
    await installValueCompletion(options.config)
  } catch (error) {
    // Commands and flags still complete; say why the rest does not.
    process.stderr.write(`Warning: session ids and model names will not complete: ${error instanceof Error ? error.message : String(error)}\n`)
  }
}

export default hook

import {builtinProviders} from '../providers/registry.js'

/** synapse's own answer to `synapse:providers`: the OpenAI provider, the way plugins add theirs. */
export default async function providers() {
  return builtinProviders()
}

import {echoProvider} from '../index.js'

// synapse runs every plugin's `synapse:providers` hook and merges the descriptors by name.
export default async function providers() {
  return [echoProvider]
}

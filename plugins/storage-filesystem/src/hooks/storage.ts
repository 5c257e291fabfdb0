import {filesystemBackend} from '../backend.js'

/** This plugin's answer to `synapse:storage`: the backend for `file:` URLs. */
export default async function storage() {
  return [filesystemBackend]
}

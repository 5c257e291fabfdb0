import type {StorageBackend} from 'synapse-cli'

import {redisBackend} from '../backend.js'

/** `synapse:storage`: the backends this plugin adds. */
export default async function storage(): Promise<StorageBackend[]> {
  return [redisBackend]
}

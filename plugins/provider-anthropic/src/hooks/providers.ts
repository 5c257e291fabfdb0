/**
 * The `synapse:providers` hook: how this plugin registers its providers, through the same descriptor
 * list as every other provider plugin. It runs on every command that resolves providers, so it only
 * hands over static descriptors; `anthropic.ts` imports the SDK itself on the first request.
 */
import type {ProviderDescriptor} from 'synapse-cli'

import {anthropicProvider} from '../anthropic.js'

export default async function providers(): Promise<ProviderDescriptor[]> {
  return [anthropicProvider]
}

// The public API of @synapse-cli/provider-anthropic, for embedders that register providers themselves.
export {ANTHROPIC_BASE_URL, AnthropicProvider, anthropicProvider, DEFAULT_MAX_TOKENS} from './anthropic.js'
export {default as providers} from './hooks/providers.js'

// The fakes live in src/testing, exported from "synapse-cli/testing"; the host's tests import them here.
export * from '../../src/testing/openai-server.js'

// Lives in src/testing, exported from "synapse-cli/testing" for plugins' tests; the host's tests import it here.
export * from '../../src/testing/sandbox.js'

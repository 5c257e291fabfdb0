// Loaded before the test files of the Deno pass (test/deno/mocharc.json): every synapse that
// test/helpers/spawn.ts starts from here on runs under Deno. The tests themselves run in Node.
process.env.SYNAPSE_TEST_RUNTIME = 'deno'

// What @oclif/core's plugin loader gets for `require('minimatch')` in the bundle (scripts/build.mjs).
// On every run it matches each name in package.json `oclif.plugins` against each dependency with
// minimatch, which compiles every pattern anew: ~100 compilations, ~5 ms, to compare package names.
// A pattern that is a plain npm package name has no glob syntax (no `*?[]{}()!+\`, no `#` or `!`
// in front, no empty or dot segment) and matches exactly itself; anything else goes to minimatch,
// which is then loaded.
const PACKAGE_NAME = /^(?:@[a-z0-9~-][a-z0-9._~-]*\/)?[a-z0-9~-][a-z0-9._~-]*$/

let real

function minimatch(path, pattern, options) {
  if (options === undefined && PACKAGE_NAME.test(pattern)) return path === pattern
  real ??= require('minimatch').minimatch
  return real(path, pattern, options)
}

module.exports = {minimatch}

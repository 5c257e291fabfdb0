// The page's bundle, made by scripts/build.mjs (esbuild, for the browser) before the CLI's own build,
// which inlines it into the `synapse ui` command: one artefact, no files to find at run time.
declare module 'synapse-ui:assets' {
  export const script: string
  export const stylesheet: string
}

// highlight.js declares its languages' modules but not its core's, which is the same HLJSApi.
declare module 'highlight.js/lib/core' {
  import hljs from 'highlight.js'
  export default hljs
}

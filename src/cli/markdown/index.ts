// Loaded only when a reply is rendered at a terminal (chat, the REPL, sessions show): a pipe, --json
// and --raw never import it.
export {knownLanguage} from './highlight.js'
export {MarkdownStream, type MarkdownOptions, renderMarkdown} from './stream.js'

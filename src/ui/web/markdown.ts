import hljs from 'highlight.js/lib/core'
import bash from 'highlight.js/lib/languages/bash'
import c from 'highlight.js/lib/languages/c'
import cpp from 'highlight.js/lib/languages/cpp'
import css from 'highlight.js/lib/languages/css'
import diff from 'highlight.js/lib/languages/diff'
import go from 'highlight.js/lib/languages/go'
import java from 'highlight.js/lib/languages/java'
import javascript from 'highlight.js/lib/languages/javascript'
import json from 'highlight.js/lib/languages/json'
import python from 'highlight.js/lib/languages/python'
import rust from 'highlight.js/lib/languages/rust'
import sql from 'highlight.js/lib/languages/sql'
import typescript from 'highlight.js/lib/languages/typescript'
import xml from 'highlight.js/lib/languages/xml'
import yaml from 'highlight.js/lib/languages/yaml'
import MarkdownIt from 'markdown-it'

// The languages replies show most; a block in another is shown plain (escaped, unhighlighted).
for (const [name, language] of Object.entries({bash, c, cpp, css, diff, go, java, javascript, json, python, rust, sql, typescript, xml, yaml})) {
  hljs.registerLanguage(name, language)
}

/** Where a link in a message may lead: the web and mail, never `javascript:`, `data:` or a file. */
const SAFE_LINK = /^(?:https?:|mailto:)/i

/**
 * Markdown from a model or a person is data: raw HTML in it is shown as text (html: false), a link
 * to anything but http, https or mailto stays text, and images are not loaded (the page fetches
 * nothing from elsewhere; the Content-Security-Policy would refuse it anyway).
 */
const md = new MarkdownIt({
  highlight(code, language) {
    const name = language.toLowerCase()
    if (!hljs.getLanguage(name)) return ''
    return hljs.highlight(code, {ignoreIllegals: true, language: name}).value
  },
  html: false,
  linkify: true,
})
md.disable('image')
md.validateLink = url => SAFE_LINK.test(url.trim())

const defaultLinkOpen = md.renderer.rules.link_open ?? ((tokens, index, options, _env, self) => self.renderToken(tokens, index, options))
md.renderer.rules.link_open = (tokens, index, options, env, self) => {
  // A link opens elsewhere, and tells the site nothing of where it came from.
  tokens[index].attrSet('target', '_blank')
  tokens[index].attrSet('rel', 'noopener noreferrer')
  return defaultLinkOpen(tokens, index, options, env, self)
}

/** The message rendered into a fresh element: markdown-it's escaped HTML is the only HTML the page inserts. */
export function renderMarkdown(text: string): HTMLElement {
  const element = document.createElement('div')
  element.className = 'markdown'
  element.innerHTML = md.render(text)
  return element
}

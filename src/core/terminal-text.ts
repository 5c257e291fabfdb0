/**
 * Stored text (titles, messages, model names, metadata: anything a model, an import or a database
 * wrote) is data, and a terminal must never run it: an ESC or a C1 control starts a sequence that
 * can retitle the window, clear the screen, move the cursor or, in some terminals, write files.
 *
 * Every control character is therefore shown as a visible escape in the style of a JavaScript
 * string: `\x1b` for ESC, `\x07` for BEL, `\x7f` for DEL, `\x9b` for the C1 CSI (U+009B), `\r` for
 * a carriage return. What followed the ESC stays as the plain characters it is, so
 * `ESC ] 0 ; pwned BEL` reads `\x1b]0;pwned\x07`. A backslash is left alone: the output is for
 * reading, and the exact text is in `--json` and in exports.
 *
 * The bidirectional embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069) are escaped
 * too, as `\u202e`: a terminal that does bidi would let one reorder the rest of its line, so that
 * what is shown is not what was written (the "Trojan Source" trick). The marks (LRM, RLM) stay: they
 * only nudge the characters around them, and right-to-left text needs them.
 */

export interface TerminalSafeOptions {
  /** Message bodies: newline and tab stay as they are (so does the CR of a CRLF). Default false. */
  multiline?: boolean
}

// C0, DEL, C1 and the bidi controls. U+2028/2029 are not controls, and terminals print them as spaces.
const ANY_CONTROL = /[\u0000-\u001F\u007F-\u009F\u202A-\u202E\u2066-\u2069]/
const CONTROL = new RegExp(ANY_CONTROL.source, 'g')
const NAMED: Record<string, string> = {'\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v'}

/** `text` with every control character replaced by a visible escape (see the module comment). */
export function terminalSafe(text: string, options: TerminalSafeOptions = {}): string {
  const {multiline = false} = options
  return text.replace(CONTROL, (char, offset: number) => {
    if (multiline && (char === '\n' || char === '\t' || (char === '\r' && text[offset + 1] === '\n'))) return char
    const code = char.codePointAt(0)!
    return NAMED[char] ?? (code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`)
  })
}

// What JSON.stringify leaves raw in a string: C0 controls it escapes itself.
const JSON_RAW_CONTROL = /[\u007F-\u009F\u202A-\u202E\u2066-\u2069]/g

/**
 * JSON text for a terminal: the controls JSON.stringify writes as they are (DEL, C1, the bidi ones)
 * as `\u` escapes. They can stand only inside strings, so it is the same JSON, value for value; a
 * pipe gets the exact bytes instead.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_RAW_CONTROL, char => `\\u${char.codePointAt(0)!.toString(16).padStart(4, '0')}`)
}

/** Whether `text` holds a character terminalSafe would escape (newline and tab included). */
export function hasControlCharacters(text: string): boolean {
  return ANY_CONTROL.test(text)
}

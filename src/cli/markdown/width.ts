const SGR = /\u001B\[[0-9;]*m/g
// Marks that combine with the character before them, joiners and variation selectors: no column of their own.
const ZERO_WIDTH = /[\p{Mn}\p{Me}\u200B-\u200F\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u
// East Asian Wide and Fullwidth blocks (Hangul, CJK, kana, fullwidth forms) and the emoji planes.
const WIDE = /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F000}-\u{1FAFF}\u{20000}-\u{3FFFD}]/u

/** Columns `text` takes on a terminal, colour codes left out: 2 for CJK and emoji, 0 for combining marks. */
export function displayWidth(text: string): number {
  let width = 0
  for (const char of text.replace(SGR, '')) {
    if (ZERO_WIDTH.test(char)) continue
    width += WIDE.test(char) ? 2 : 1
  }
  return width
}

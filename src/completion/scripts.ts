import type {CommandValues, CompletionSpec} from './spec.js'

/**
 * The completion scripts that add session ids, model and provider names to what
 * @oclif/plugin-autocomplete completes. Each defines a function that decides, from the words on the
 * line, whether the word being completed is such a value; if so it asks
 * `<bin> autocomplete values <kind> -- <typed>` for the candidates, and otherwise calls oclif's own
 * completion function, which it then replaces as the shell's completion for the CLI.
 *
 * The decision is one function shared by bash and zsh, written in the subset both run alike
 * (positional parameters, `case`, `local`, no arrays), generated from the commands' flags and
 * arguments (see spec.ts) so that it knows which flags take a value and skips those values when it
 * counts arguments.
 */

/** A shell identifier made from the CLI's name. */
function identifier(bin: string): string {
  return bin.replaceAll(/[^A-Za-z0-9_]/g, '_')
}

function quote(word: string): string {
  return `'${word.replaceAll("'", String.raw`'\''`)}'`
}

/** A word as the shell reads it: quoted only when it needs to be. */
function shellWord(word: string): string {
  return /^[\w./-]+$/.test(word) ? word : quote(word)
}

function caseArm(patterns: string[], body: string): string {
  return `    ${patterns.join('|')}) ${body} ;;`
}

function pairs(command: CommandValues, words: string[]): string[] {
  return words.map(word => quote(`${command.id} ${word}`))
}

/** The decision function and the tables it reads, for bash and zsh alike. */
export function sharedScript(spec: CompletionSpec): string {
  const p = `__${identifier(spec.bin)}`
  const ids = spec.commands.map(c => c.id)
  const takesValue = spec.commands.filter(c => c.optionFlags.length > 0).map(c => caseArm(pairs(c, c.optionFlags), 'return 0'))
  const flagKinds = spec.commands.flatMap(c => c.flags.map(flag => caseArm(pairs(c, flag.spellings), `${p}_kind=${flag.kind}`)))
  const argKinds = spec.commands.flatMap(c => argumentArms(c, p))
  const chat = spec.defaultCommand
    ? `    if [ "$cword" -eq 1 ]; then
      case $1 in --*=*) ;; *) return ;; esac
    elif ${p}_root_word "$1"; then
      return
    fi
    cmd=${spec.defaultCommand}`
    : '    return'
  return `# Which commands take values completed here: ${p}_has_values ID
${p}_has_values() {
  case $1 in
${
  ids.length > 0
    ? caseArm(
        ids.map(id => quote(id)),
        'return 0',
      )
    : ''
}
  esac
  return 1
}

# Does a line that starts with WORD name a command? Otherwise it is a prompt: ${p}_root_word WORD
${p}_root_word() {
  case $1 in
${caseArm(
  spec.rootWords.map(word => quote(word)),
  'return 0',
)}
  esac
  return 1
}

# Is FLAG one of the command's flags that take a value? ${p}_takes_value ID FLAG
${p}_takes_value() {
  case "$1 $2" in
${takesValue.join('\n')}
  esac
  return 1
}

# What the value of FLAG completes as, in ${p}_kind: ${p}_flag_kind ID FLAG
${p}_flag_kind() {
  case "$1 $2" in
${flagKinds.join('\n')}
  esac
}

# What the INDEXth argument (from 0) completes as, in ${p}_kind: ${p}_arg_kind ID INDEX
${p}_arg_kind() {
  case "$1 $2" in
${argKinds.join('\n')}
  esac
}

# ${p}_values_at CWORD WORD0 WORD1 ...: what the word at index CWORD (0 is the program) completes as.
# Sets ${p}_kind (sessions, models, providers; empty: oclif's completion handles the word) and
# ${p}_cur, the value typed so far ("--model=gp" gives "gp").
${p}_values_at() {
  local cword=$1 n=0 word cmd= start=0 candidate= expect= positional=0 options=1
  ${p}_kind= ${p}_cur=
  shift 2
  # The command: the longest run of leading words that names one.
  for word in "$@"; do
    n=$((n + 1))
    [ "$n" -lt "$cword" ] || break
    case $word in -*) break ;; esac
    candidate=\${candidate:+$candidate:}$word
    if ${p}_has_values "$candidate"; then
      cmd=$candidate
      start=$n
    fi
  done
  if [ -z "$cmd" ]; then
    # bin/run.js runs ${spec.defaultCommand ?? 'no command'} for a line that names no command: a prompt, or flags first.
${chat}
  fi
  n=0
  for word in "$@"; do
    n=$((n + 1))
    [ "$n" -gt "$start" ] || continue
    if [ "$n" -eq "$cword" ]; then
      ${p}_cur=$word
      break
    fi
    if [ -n "$expect" ]; then
      expect=
    elif [ -z "$options" ]; then
      positional=$((positional + 1))
    else
      case $word in
        --) options= ;;
        --*=*) ;;
        -?*) ${p}_takes_value "$cmd" "$word" && expect=$word ;;
        *) positional=$((positional + 1)) ;;
      esac
    fi
  done
  if [ -n "$expect" ]; then
    ${p}_flag_kind "$cmd" "$expect"
    return
  fi
  if [ -n "$options" ]; then
    case $${p}_cur in
      --*=*)
        ${p}_flag_kind "$cmd" "\${${p}_cur%%=*}"
        ${p}_cur=\${${p}_cur#*=}
        return
        ;;
      -*) return ;;
    esac
  fi
  ${p}_arg_kind "$cmd" "$positional"
}
`
}

/** Arguments by index; a variadic command's last argument matches every index from its own on. */
function argumentArms(command: CommandValues, p: string): string[] {
  const arms: string[] = []
  const last = command.args.length - 1
  for (const [index, kind] of command.args.entries()) {
    if (command.variadic && index === last) {
      if (kind) arms.push(caseArm([`${quote(`${command.id} `)}*`], `${p}_kind=${kind}`))
    } else if (kind) {
      arms.push(caseArm(pairs(command, [String(index)]), `${p}_kind=${kind}`))
    } else if (command.variadic && command.args[last]) {
      // Before a variadic argument that completes, an earlier one that does not must say so first.
      arms.push(caseArm(pairs(command, [String(index)]), ':'))
    }
  }
  return arms
}

const HEADER = (spec: CompletionSpec, shell: string) => `# ${spec.bin}: completion of session ids, model and provider names for ${shell}, on top of
# @oclif/plugin-autocomplete's. Written by "${spec.bin} autocomplete" beside oclif's scripts and sourced
# by its setup script; regenerated with them. Candidates come from "${spec.bin} autocomplete values".
`

/** For bash: a completion function that wraps oclif's `_<bin>_autocomplete`. */
export function bashScript(spec: CompletionSpec): string {
  const id = identifier(spec.bin)
  const p = `__${id}`
  const bin = shellWord(spec.bin)
  return `${HEADER(spec, 'bash')}
${sharedScript(spec)}
${spec.cacheFile ? bashCacheReader(p, shellWord(spec.cacheFile)) : `${p}_cached() { return 1; }\n`}
# bash splits words at the characters of COMP_WORDBREAKS, ":" and "=" among them. Glue the pieces that
# touch on the line back together, so that "--model=gpt-4o" and "llama3.2:latest" are one word each,
# as the command sees them; the word being completed ends at the cursor.
# Sets ${p}_words and ${p}_cword.
${p}_reassemble() {
  local line=\${COMP_LINE:0:COMP_POINT} i=0 word
  ${p}_words=()
  while [ "$i" -le "$COMP_CWORD" ]; do
    word=\${COMP_WORDS[i]}
    if [ "$i" -eq 0 ] || [[ $line == [[:space:]]* ]]; then
      line=\${line#"\${line%%[![:space:]]*}"}
      [ "$i" -eq "$COMP_CWORD" ] && word=$line
      ${p}_words+=("$word")
    else
      [ "$i" -eq "$COMP_CWORD" ] && word=$line
      ${p}_words[\${#${p}_words[@]} - 1]+=$word
    fi
    line=\${line#"$word"}
    i=$((i + 1))
  done
  ${p}_cword=$((\${#${p}_words[@]} - 1))
}

_${id}_values_complete() {
  local ${p}_kind= ${p}_cur= ${p}_cword=0 word trim head value typed
  local -a ${p}_words ${p}_found
  ${p}_reassemble
  ${p}_values_at "$${p}_cword" "\${${p}_words[@]}"
  if [ -z "$${p}_kind" ]; then
    if declare -F _${spec.bin}_autocomplete >/dev/null; then _${spec.bin}_autocomplete "$@"; fi
    return
  fi
  word=\${${p}_words[${p}_cword]}
  # readline replaces only what follows the word's last ":" or "=": offer the rest of each value.
  trim=\${word%"\${word##*[:=]}"}
  head=\${word%"$${p}_cur"}
  # The value as typed, its quotes and backslashes dropped (never evaluated): what to match against.
  typed=\${${p}_cur//[\\\\\\"\\']/}
  COMPREPLY=()
  # From the cache when it is current; otherwise synapse answers (and refreshes it).
  ${p}_cached "$${p}_kind" "$typed" || mapfile -t ${p}_found < <(command ${bin} autocomplete values "$${p}_kind" -- "$typed" 2>/dev/null)
  for value in "\${${p}_found[@]}"; do
    [ -n "$value" ] || continue
    value=$head$value
    value=\${value#"$trim"}
    # readline inserts a candidate as it is: quote it, or a value such as $(cmd) would run on Enter.
    printf -v value %q "$value"
    COMPREPLY+=("$value")
  done
  # In the command's order: sessions most recently updated first.
  compopt -o nosort 2>/dev/null
  return 0
}

complete -F _${id}_values_complete ${bin}
`
}

/** For zsh: a completion function that wraps oclif's `_<bin>` (autoloaded from its fpath directory). */
export function zshScript(spec: CompletionSpec): string {
  const id = identifier(spec.bin)
  const p = `__${id}`
  const bin = shellWord(spec.bin)
  return `${HEADER(spec, 'zsh')}
${sharedScript(spec)}
${spec.cacheFile ? zshCacheReader(p, shellWord(spec.cacheFile)) : `${p}_cached() { return 1; }\n`}
_${id}_values_complete() {
  local ${p}_kind= ${p}_cur= line value description
  local -a items ${p}_found
  ${p}_values_at $((CURRENT - 1)) "\${(@)words[1,CURRENT-1]}" "$PREFIX"
  if [[ -z $${p}_kind ]]; then
    _${spec.bin} "$@"
    return
  fi
  [[ $PREFIX == --*=* ]] && compset -P '*='
  # \${(Q)…} drops the typed word's quoting without evaluating it; compadd (through _describe) quotes
  # each value it inserts for the context it is typed in, so a value such as $(cmd) stays inert.
  # From the cache when it is current; otherwise synapse answers (and refreshes it).
  if ! ${p}_cached "$${p}_kind" "\${(Q)${p}_cur}"; then
    ${p}_found=("\${(@f)$(command ${bin} autocomplete values "$${p}_kind" --describe -- "\${(Q)${p}_cur}" 2>/dev/null)}")
  fi
  for line in "\${(@)${p}_found}"; do
    [[ -n $line ]] || continue
    value=\${line%%$'\\t'*} description=\${line#*$'\\t'}
    # _describe reads "value:description", with \\: for a colon and \\\\ for a backslash in either.
    items+=("\${\${value//\\\\/\\\\\\\\}//:/\\\\:}:\${description//\\\\/\\\\\\\\}")
  done
  # -V: in the command's order, sessions most recently updated first.
  _describe -V -t ${p.slice(2)}-$${p}_kind "\${${p}_kind%s}" items
}

compdef _${id}_values_complete ${bin}
`
}

/** For bash: reads the completion cache (cache.ts) with builtins only; see there for its format. */
function bashCacheReader(p: string, cache: string): string {
  return `# ${p}_cached KIND TYPED: the candidates from the cache that synapse writes (src/completion/cache.ts),
# in ${p}_found, without starting synapse. Fails when the cache cannot answer: missing, of another
# format, written in another directory or environment, or older than the database or a config file.
${p}_cached() {
  local kind=$1 typed=$2 file=${cache} line tag rest name value short upper lower= ids= tab=$'\\t' i=1 n=0 recorded=0 exported=0
  local -a lines
  ${p}_found=()
  [[ -f $file ]] || return 1
  mapfile -t lines <"$file" 2>/dev/null || return 1
  [[ \${lines[0]-} == "synapse-completion\${tab}2" ]] || return 1
  while [ "$i" -lt "\${#lines[@]}" ]; do
    line=\${lines[i]}
    tag=\${line%%"$tab"*} rest=\${line#*"$tab"}
    case $tag in
      cwd) [[ $PWD == "$rest" ]] || return 1 ;;
      env)
        name=\${rest%%"$tab"*}
        [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ && \${!name@a} == *x* && \${!name} == "\${rest#*"$tab"}" ]] || return 1
        recorded=$((recorded + 1))
        ;;
      newer) [[ -e $rest && $file -nt $rest ]] || return 1 ;;
      maybe) [[ ! -e $rest || $file -nt $rest ]] || return 1 ;;
      absent) [[ ! -e $rest && ! -L $rest ]] || return 1 ;;
      *) break ;;
    esac
    i=$((i + 1))
  done
  # A variable exported now that was not then names another database or config.
  for name in \${!SYNAPSE_*} DATABASE_URL HOME XDG_CONFIG_HOME XDG_DATA_HOME; do
    [[ \${!name@a} == *x* ]] && exported=$((exported + 1))
  done
  [ "$exported" -eq "$recorded" ] || return 1
  case $kind in
    sessions)
      # As the hidden command matches: ids in any case, in lower case when typed so, the full id once
      # more than the short id is typed; then, for a typed prefix, titles that start with it.
      typed=\${typed#"\${typed%%[![:space:]]*}"}
      typed=\${typed%"\${typed##*[![:space:]]}"}
      upper=\${typed^^} ids=1
      if [ -n "$typed" ]; then
        [[ \${#upper} -le 26 && $upper != *[!0-9A-HJKMNP-TV-Z]* ]] || ids=
        [[ $typed == "\${typed,,}" && $typed != "$upper" ]] && lower=1
      fi
      for line in "\${lines[@]:i}"; do
        [ -n "$ids" ] || break
        [[ $line == "s$tab$upper"* ]] || continue
        rest=\${line#s"$tab"}
        value=\${rest%%"$tab"*} rest=\${rest#*"$tab"}
        short=\${rest%%"$tab"*}
        [ "\${#short}" -lt "\${#upper}" ] || value=$short
        [ -z "$lower" ] || value=\${value,,}
        ${p}_found+=("$value")
        n=$((n + 1))
        [ "$n" -lt 50 ] || break
      done
      for line in "\${lines[@]:i}"; do
        [[ -n $typed && $n -lt 50 ]] || break
        # "$typed" quoted: matched as text, never as a pattern.
        [[ $line == "t$tab$typed"* ]] || continue
        rest=\${line#t"$tab"}
        ${p}_found+=("\${rest%%"$tab"*}")
        n=$((n + 1))
      done
      ;;
    models | providers)
      tag=\${kind:0:1}
      for line in "\${lines[@]:i}"; do
        [[ $line == "$tag$tab$typed"* ]] || continue
        rest=\${line#?"$tab"}
        ${p}_found+=("\${rest%%"$tab"*}")
        n=$((n + 1))
        [[ $kind == providers || $n -lt 50 ]] || break
      done
      ;;
    *) return 1 ;;
  esac
  return 0
}
`
}

/** For zsh: reads the completion cache (cache.ts) with builtins and zsh's own modules only. */
function zshCacheReader(p: string, cache: string): string {
  return `# ${p}_age: in age, how long before now (ms) a session was updated (ms), as relativeTime() words
# it, else its date: reads and sets the variables of ${p}_cached, which calls it.
${p}_age() {
  s=$(( (now - updated + 500) / 1000 ))
  if (( s < 45 )); then age='just now'
  elif (( (m = (s + 30) / 60) < 60 )); then age="$m min ago"
  elif (( (h = (m + 30) / 60) < 24 )); then age="$h h ago"
  elif (( (d = (h + 12) / 24) < 30 )); then age="$d d ago"
  else age=$date
  fi
}

# ${p}_cached KIND TYPED: the candidates from the cache that synapse writes (src/completion/cache.ts),
# each "value<TAB>description", in ${p}_found, without starting synapse. Fails when the cache cannot
# answer: missing, of another format, written in another directory or environment, or older than the
# database or a config file.
${p}_cached() {
  emulate -L zsh
  zmodload zsh/parameter zsh/datetime 2>/dev/null || return 1
  local kind=$1 typed=$2 file=${cache} line tag rest name value short upper lower= ids= tab=$'\\t' date label age
  local -i i=2 n=0 recorded=0 exported=0 now updated s m h d
  local -a lines
  ${p}_found=()
  [[ -f $file ]] || return 1
  lines=("\${(@f)$(<$file)}")
  [[ \${lines[1]-} == "synapse-completion\${tab}2" ]] || return 1
  for (( ; i <= $#lines; i++ )); do
    line=$lines[i]
    tag=\${line%%$tab*} rest=\${line#*$tab}
    case $tag in
      (cwd) [[ $PWD == "$rest" ]] || return 1 ;;
      (env)
        name=\${rest%%$tab*}
        [[ $name =~ '^[A-Za-z_][A-Za-z0-9_]*$' && \${parameters[$name]-} == *export* && \${(P)name} == "\${rest#*$tab}" ]] || return 1
        (( ++recorded ))
        ;;
      (newer) [[ -e $rest && $file -nt $rest ]] || return 1 ;;
      (maybe) [[ ! -e $rest || $file -nt $rest ]] || return 1 ;;
      (absent) [[ ! -e $rest && ! -L $rest ]] || return 1 ;;
      (*) break ;;
    esac
  done
  # A variable exported now that was not then names another database or config.
  for name in \${(k)parameters[(I)SYNAPSE_*]} DATABASE_URL HOME XDG_CONFIG_HOME XDG_DATA_HOME; do
    [[ \${parameters[$name]-} == *export* ]] && (( ++exported ))
  done
  (( exported == recorded )) || return 1
  case $kind in
    (sessions)
      # As the hidden command matches and describes: ids in any case, in lower case when typed so, the
      # full id once more than the short id is typed; then, for a typed prefix, titles that start with
      # it; the age as relativeTime() words it.
      typed=\${typed#"\${typed%%[![:space:]]*}"}
      typed=\${typed%"\${typed##*[![:space:]]}"}
      upper=\${(U)typed} ids=1
      if [[ -n $typed ]]; then
        [[ \${#upper} -le 26 && $upper != *[^0-9A-HJKMNP-TV-Z]* ]] || ids=
        [[ $typed == "\${(L)typed}" && $typed != "$upper" ]] && lower=1
      fi
      now=\${EPOCHREALTIME%.*}\${\${EPOCHREALTIME#*.}[1,3]}
      for line in "\${(@)lines[i,-1]}"; do
        [[ -n $ids ]] || break
        [[ $line == "s$tab$upper"* ]] || continue
        rest=\${line#s$tab}
        value=\${rest%%$tab*} rest=\${rest#*$tab}
        short=\${rest%%$tab*} rest=\${rest#*$tab}
        updated=\${rest%%$tab*} rest=\${rest#*$tab}
        date=\${rest%%$tab*} label=\${rest#*$tab}
        (( \${#short} < \${#upper} )) || value=$short
        [[ -z $lower ]] || value=\${(L)value}
        ${p}_age
        ${p}_found+=("$value$tab$label ($age)")
        (( ++n < 50 )) || break
      done
      for line in "\${(@)lines[i,-1]}"; do
        [[ -n $typed ]] && (( n < 50 )) || break
        # "$typed" quoted: matched as text, never as a pattern.
        [[ $line == "t$tab$typed"* ]] || continue
        rest=\${line#t$tab}
        value=\${rest%%$tab*} rest=\${rest#*$tab}
        short=\${rest%%$tab*} rest=\${rest#*$tab}
        updated=\${rest%%$tab*} date=\${rest#*$tab}
        ${p}_age
        ${p}_found+=("$value$tab$short ($age)")
        (( ++n ))
      done
      ;;
    (models|providers)
      tag=\${kind[1]}
      for line in "\${(@)lines[i,-1]}"; do
        [[ $line == "$tag$tab$typed"* ]] || continue
        ${p}_found+=("\${line#?$tab}")
        [[ $kind == providers ]] || (( ++n < 50 )) || break
      done
      ;;
    (*) return 1 ;;
  esac
  return 0
}
`
}

#compdef git-agentos
#description run coding agents on a backlog of task files

# zsh completion for git agentos: commands, options, task ids, agents and
# templates. Written by `git agentos completions zsh`. zsh's git completion
# calls _git-agentos for `git agentos `; `git-agentos ` gets it too. Install:
#   git agentos completions zsh > ~/.zfunc/_git-agentos   (with ~/.zfunc in fpath)
# or add `source <(git agentos completions zsh)` to ~/.zshrc after compinit.

# words[1] is `agentos` (or `git-agentos`); the candidates come from the binary:
# `git agentos __complete zsh -- git-agentos WORD… CURRENT`, one `value<TAB>help`
# a line.
_git-agentos() {
    local -a lines described folders
    local line value help
    lines=("${(@f)$(git agentos __complete zsh -- git-agentos "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    for line in "${lines[@]}"; do
        [[ -z $line ]] && continue
        value=${line%%$'\t'*}
        if [[ $line == *$'\t'* ]]; then
            help=${line#*$'\t'}
        else
            help=
        fi
        if [[ $value == */ ]]; then
            folders+=("$value")
        elif [[ -n $help ]]; then
            described+=("${value//:/\\:}:$help")
        else
            described+=("${value//:/\\:}")
        fi
    done
    local ret=1
    (( ${#described} )) && _describe -t values 'git agentos' described && ret=0
    (( ${#folders} )) && compadd -S '' -a folders && ret=0
    return ret
}

if [[ $funcstack[1] == _git-agentos ]]; then
    _git-agentos "$@"
elif (( $+functions[compdef] )); then
    compdef _git-agentos git-agentos
fi

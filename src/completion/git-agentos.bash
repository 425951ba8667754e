# bash completion for git agentos: commands, options, task ids, agents and
# templates after `git agentos `. Written by `git agentos completions bash`.
#
# It works with git's own bash completion, which calls _git_agentos for the
# `agentos` subcommand (the bash-completion package loads both on demand). Install:
#   mkdir -p ~/.local/share/bash-completion/completions
#   git agentos completions bash > ~/.local/share/bash-completion/completions/git-agentos
# or add `eval "$(git agentos completions bash)"` to ~/.bashrc.

# Called by git's completion with `words`, `cword` and `cur` set, and
# `__git_cmd_idx` at `agentos` (0 when an alias such as `ga` was set up with
# `__git_complete ga _git_agentos`). The candidates come from the binary itself:
# `git agentos __complete bash -- git-agentos WORD… CURRENT`.
_git_agentos ()
{
	local first=$(( ${__git_cmd_idx:-0} + 1 ))
	local line
	local -a run=(git)
	# `git -C DIR agentos …` completes for DIR, as git's own commands do.
	if [ -n "${__git_C_args+set}" ]; then
		run+=("${__git_C_args[@]}")
	fi
	COMPREPLY=()
	while IFS= read -r line; do
		COMPREPLY+=("$line")
	done < <("${run[@]}" agentos __complete bash -- git-agentos \
		"${words[@]:first:cword-first}" "$cur" 2>/dev/null)
}

# `git-agentos <TAB>` too, when git's completion is loaded.
if declare -F __git_complete >/dev/null 2>&1; then
	__git_complete git-agentos _git_agentos
fi

# fish completion for git agentos: commands, options, task ids, agents and
# templates. Written by `git agentos completions fish`. Install (fish reads
# conf.d at start-up, so `git agentos ` completes as soon as git's completion
# loads):
#   git agentos completions fish > ~/.config/fish/conf.d/git-agentos.fish

# The candidates come from the binary: `git agentos __complete fish -- git-agentos
# WORD… CURRENT`, one `value<TAB>help` a line.
function __git_agentos_complete
    set -l words (commandline -opc)
    set -l git git
    if test "$words[1]" = git-agentos
        set -e words[1]
    else
        set -e words[1] # git
        # git's own options (-C DIR, -c K=V, --git-dir …) come before `agentos`.
        if functions -q __fish_git_global_optspecs
            argparse -s (__fish_git_global_optspecs) -- $words 2>/dev/null
            or return
            set words $argv
            for dir in $_flag_C
                set -a git -C $dir
            end
        end
        set -l at (contains -i -- agentos $words)
        or return
        set words $words[(math $at + 1)..-1]
    end
    $git agentos __complete fish -- git-agentos $words (commandline -ct) 2>/dev/null
end

complete -c git -n '__fish_git_using_command agentos' -f -a '(__git_agentos_complete)'
complete -c git-agentos -f -a '(__git_agentos_complete)'

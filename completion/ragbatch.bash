# ragbatch.bash -- bash completion for ragbatch(1).
#
# Installed as $(datadir)/bash-completion/completions/ragbatch, where
# bash-completion loads it on the first <TAB> after `ragbatch`; or source it
# from ~/.bashrc.  It needs nothing of bash-completion itself.
#
# Nothing here lists the verbs, options or job keys: each <TAB> asks the
# binary being completed (the command word as typed, so `build/ragbatch`
# completes from that build) for its `--help` and `ragbatch config`, so the
# completion cannot fall behind the program.  That costs one short process
# per <TAB> (a few milliseconds).
#
# What it completes:
#   ragbatch <TAB>              the verbs of `ragbatch --help`
#   ragbatch dlq <TAB>          the sub-verbs a verb's usage lists
#                               (`dlq show|stats|replay`, `index create|show|drop`)
#   ragbatch run --<TAB>        the options of `ragbatch run --help`
#   ragbatch run --set <TAB>    the job keys of `ragbatch config` and, as
#                               kafka.*, librdkafka's (`config --kafka`), as KEY=
#   --set log.format=<TAB>      the values of a key whose type is a|b|c
#   --similarity <TAB>          the values a usage line spells as a|b|c
#   anything else               file names (job files, --value-file, --model)

# The help of `verb` (and `sub`), from the binary `bin`; empty when it fails.
_ragbatch_help() {
    local bin=$1 verb=$2
    if [[ -z $verb ]]; then
        "$bin" --help 2>/dev/null
    else
        "$bin" "$verb" --help 2>/dev/null
    fi
}

# The verbs: the indented first words of the top-level help.
_ragbatch_verbs() {
    _ragbatch_help "$1" "" | sed -n -E 's/^  ([a-z][a-z-]*)  .*/\1/p'
}

# The sub-verbs of `verb`: "ragbatch VERB a|b|c ..." or one usage line per
# sub-verb ("ragbatch dlq show ...", "ragbatch dlq stats ...").
_ragbatch_subverbs() {
    _ragbatch_help "$1" "$2" |
        sed -n -E "s/^(usage:|Usage:)? *ragbatch $2 ([a-z][a-z|-]*)( .*)?\$/\\2/p" |
        tr '|' '\n' | grep -v -E '^[A-Z]' | sort -u
}

# The options a verb's help names.
_ragbatch_options() {
    _ragbatch_help "$1" "$2" | grep -o -E -- '(^|[[ ])--[a-z][a-z0-9-]*|(^|[[ ])-[A-Z]\b' |
        sed -E 's/^[[ ]//' | sort -u
}

# The values the help spells for `opt`: "--opt a|b|c" or "--opt word" where
# the word is lower case (a literal, not a placeholder such as N or FILE).
_ragbatch_option_values() {
    _ragbatch_help "$1" "$2" | grep -o -E -- "$3 [a-z][a-zA-Z0-9|-]*" |
        sed -E "s/^$3 //" | tr '|' '\n' | sort -u
}

# The job keys: the table's (`ragbatch config`, whose unindented lines start
# with one) and librdkafka's as kafka.* (`ragbatch config --kafka`).
_ragbatch_keys() {
    {
        "$1" config 2>/dev/null
        "$1" config --kafka 2>/dev/null
    } | sed -n -E 's/^([a-z][a-z0-9_.-]*) .*/\1/p'
}

# The values of a choice key: `ragbatch config` spells its type a|b|c.
_ragbatch_key_values() {
    "$1" config 2>/dev/null | sed -n -E "s/^${2//./\\.} +([a-z0-9_-]+(\|[a-zA-Z0-9_-]+)+)(,.*)?\$/\1/p" |
        tr '|' '\n'
}

_ragbatch() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=""
    ((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local bin=${COMP_WORDS[0]}
    bin=${bin/#\~/$HOME}
    COMPREPLY=()

    if ((COMP_CWORD == 1)); then
        mapfile -t COMPREPLY < <(compgen -W "$(_ragbatch_verbs "$bin") --help --version" -- "$cur")
        return 0
    fi
    local verb=${COMP_WORDS[1]}

    if ((COMP_CWORD == 2)) && [[ $cur != -* ]]; then
        local subs
        subs=$(_ragbatch_subverbs "$bin" "$verb")
        if [[ -n $subs ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
            return 0
        fi
    fi

    # --set KEY=VALUE: bash splits the word at '=' (COMP_WORDBREAKS), so the
    # value being typed follows a word "=" after the key.
    if [[ $prev == = ]] && ((COMP_CWORD >= 3)) && [[ ${COMP_WORDS[COMP_CWORD - 3]} == --set ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_ragbatch_key_values "$bin" "${COMP_WORDS[COMP_CWORD - 2]}")" -- "$cur")
        return 0
    fi
    if [[ $cur == = ]] && ((COMP_CWORD >= 2)) && [[ ${COMP_WORDS[COMP_CWORD - 2]} == --set ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_ragbatch_key_values "$bin" "$prev")")
        return 0
    fi

    case $prev in
    --set)
        # KEY=VALUE: the key, then the user types the value.
        compopt -o nospace 2>/dev/null
        mapfile -t COMPREPLY < <(compgen -W "$(_ragbatch_keys "$bin")" -S = -- "$cur")
        return 0
        ;;
    --*)
        local values
        values=$(_ragbatch_option_values "$bin" "$verb" "$prev")
        if [[ -n $values ]]; then
            mapfile -t COMPREPLY < <(compgen -W "$values" -- "$cur")
            return 0
        fi
        ;;
    esac

    if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$(_ragbatch_options "$bin" "$verb")" -- "$cur")
        return 0
    fi
    # Job files and other paths: readline's own file name completion
    # (complete -o default).
    return 0
}

complete -o default -F _ragbatch ragbatch

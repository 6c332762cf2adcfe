#!/bin/sh
# Docs and completions agree with the command table: every command and
# option evctl knows (as `evctl __complete` reports them) is in its man page
# and in --help, and the bash and fish completions really complete.
. "${top_srcdir:?}/tests/cli/lib.sh"
: "${EVCTL:?}"
man=$top_srcdir/man
comp=$top_srcdir/completions

# troff spells '-' as '\-': a grep pattern for a name as a page writes it.
troff() { printf '%s' "$1" | sed 's/-/\\\\-/g'; }

# The page that documents a top-level command: evctl-CMD.1, else the
# evctl-*.1 page with a subsection headed "evctl CMD ...", else evctl.1.
page_for() {
	if [ -f "$man/evctl-$1.1" ]; then echo "$man/evctl-$1.1"; return; fi
	found=$(grep -l "^\.SS \"evctl $(troff "$1")[ \"]" "$man"/evctl-*.1 | head -n 1)
	echo "${found:-$man/evctl.1}"
}

# The subsection of PAGE headed "evctl WORDS", or the whole page if it has
# none (family pages that document their commands their own way).
section() {
	text=$(sed -n "/^\.SS \"evctl $(troff "$2")\"\$/,/^\.S[HS] /p" "$1")
	if [ -n "$text" ]; then printf '%s\n' "$text"; else cat "$1"; fi
}

# Options every command of a kind takes (the runner adds them): documented
# once per page, not in every section.
common_opt() {
	case $1 in --json | --help | --server | --token) return 0 ;; esac
	return 1
}

# check_opts PAGE "WORDS": the options of `evctl WORDS` are in its section
# of PAGE (common ones anywhere in PAGE) and in its --help.
check_opts() {
	doc=$(section "$1" "$2")
	for opt in $("$EVCTL" __complete $2 | grep '^--'); do
		t=$(troff "$opt")
		if common_opt "$opt"; then where=$(cat "$1"); else where=$doc; fi
		printf '%s\n' "$where" | grep -q -- "$t" && ok "$2 $opt documented" ||
			not_ok "$2 $opt documented" "not in $(basename "$1")${doc:+ (section evctl $2)}"
		"$EVCTL" $2 --help | grep -q -- "$opt" && ok "$2 $opt in --help" ||
			not_ok "$2 $opt in --help" "missing"
	done
}

for cmd in $("$EVCTL" __complete); do
	page=$(page_for "$cmd")
	grep -q "^\.B.*$(troff "$cmd")" "$man/evctl.1" && ok "evctl.1 lists $cmd" || not_ok "evctl.1 lists $cmd" "missing"
	"$EVCTL" --help | grep -q "^  $cmd " && ok "--help lists $cmd" || not_ok "--help lists $cmd" "missing"
	subs=$("$EVCTL" __complete "$cmd" | grep -v '^-')
	if [ -z "$subs" ]; then
		check_opts "$page" "$cmd"
		continue
	fi
	for sub in $subs; do
		grep -q "$(troff "$cmd $sub")" "$page" && ok "$(basename "$page") documents $cmd $sub" ||
			not_ok "$(basename "$page") documents $cmd $sub" "missing"
		check_opts "$page" "$cmd $sub"
	done
done

# Every evstationd setting (as its --help lists them) is in
# evstationd.conf(5), and its options in evstationd(8).
for name in $("${EVSTATIOND:?}" --help | sed -n 's/^  --\([a-z-]*\) VALUE.*/\1/p'); do
	troff=$(printf '%s' "$name" | sed 's/-/\\\\-/g')
	grep -q "^\.B.* $troff\b\|^\.B $troff\$" "$man/evstationd.conf.5" && ok "evstationd.conf(5) documents $name" ||
		not_ok "evstationd.conf(5) documents $name" "missing"
done
for opt in config check-config help version; do
	troff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
	grep -q -- "$troff" "$man/evstationd.8" && ok "evstationd(8) documents --$opt" ||
		not_ok "evstationd(8) documents --$opt" "missing"
done

# Every exit status of the table (util/exitcode.h) is documented in evctl(1).
codes=$(sed -n 's/^[[:space:]]*EV_EXIT_[A-Z_]* = \([0-9]*\),.*/\1/p' "$top_srcdir/src/util/exitcode.h")
[ -n "$codes" ] && ok "exit statuses read from exitcode.h" || not_ok "exit statuses read from exitcode.h" "none found"
for code in $codes; do
	grep -q "^\.B $code\$" "$man/evctl.1" && ok "exit status $code documented" ||
		not_ok "exit status $code documented" "missing from EXIT STATUS"
done

# The man pages render without warnings, and all of them are installed.
if command -v groff >/dev/null 2>&1; then
	for page in "$man"/*.[0-9]; do
		warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$warnings" ] && ok "$(basename "$page") renders" || not_ok "$(basename "$page") renders" "$warnings"
	done
fi
installed=$(sed -n '/^dist_man_MANS/,/[^\\]$/p' "$top_srcdir/Makefile.am")
for page in "$man"/*.[0-9]; do
	case $installed in
	*"man/$(basename "$page")"*) ok "$(basename "$page") in dist_man_MANS" ;;
	*) not_ok "$(basename "$page") in dist_man_MANS" "missing from Makefile.am" ;;
	esac
done

# bash: the real completion function, with evctl on PATH.
bindir=$(dirname "$EVCTL")
bash_complete() {
	PATH="$bindir:$PATH" bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _evctl; printf "%s\n" "${COMPREPLY[@]}"' \
		_ "$comp/bash/evctl" "$@"
}
contains "bash completes commands" "$(bash_complete evctl oc)" "ocpp"
contains "bash completes subcommands" "$(bash_complete evctl ocpp v)" "validate"
contains "bash completes options" "$(bash_complete evctl ocpp validate --q)" "--quiet"
contains "bash completes option values" "$(bash_complete evctl ocpp validate --ocpp 2)" "2.0.1"
contains "bash completes a command's options" "$(bash_complete evctl start --con)" "--connector"
contains "bash completes API options" "$(bash_complete evctl reset --ser)" "--server"
contains "bash completes option hints" "$(bash_complete evctl profile clear --purpose Tx)" "TxDefaultProfile"

# fish: `complete -C` asks fish itself for the completions of a command line.
if command -v fish >/dev/null 2>&1; then
	fish_complete() {
		PATH="$bindir:$PATH" fish -c "source '$comp/fish/evctl.fish'; complete -C '$1'"
	}
	contains "fish completes subcommands" "$(fish_complete 'evctl ocpp va')" "validate"
	contains "fish completes options" "$(fish_complete 'evctl ocpp validate --js')" "--json"
	contains "fish completes families" "$(fish_complete 'evctl stations a')" "add"
	contains "fish completes a command's options" "$(fish_complete 'evctl sessions list --act')" "--active"
else
	echo "# fish not installed: fish completion not exercised"
fi
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$comp/zsh/_evctl" && ok "zsh completion parses" || not_ok "zsh completion parses" "syntax error"
else
	echo "# zsh not installed: zsh completion not checked"
fi

# evctl-api(7) is generated from doc/API.md: the committed page is current.
if command -v node >/dev/null 2>&1; then
	stale=$(node "$top_srcdir/tools/gen-api-man.js" --check 2>&1) && ok "evctl-api.7 is current with doc/API.md" ||
		not_ok "evctl-api.7 is current with doc/API.md" "$stale"
else
	echo "# node not installed: evctl-api.7 not checked against doc/API.md"
fi

finish

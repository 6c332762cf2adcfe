#!/bin/sh
# Docs and completions agree with the command table: every command and
# option evctl knows (as `evctl __complete` reports them) is in its man page
# and in --help, and the bash and fish completions really complete.
. "${top_srcdir:?}/tests/cli/lib.sh"
: "${EVCTL:?}"
man=$top_srcdir/man
comp=$top_srcdir/completions

# The page that documents a family: evctl-FAMILY.1, or evctl.1.
page_for() {
	if [ -f "$man/evctl-$1.1" ]; then echo "$man/evctl-$1.1"; else echo "$man/evctl.1"; fi
}

for cmd in $("$EVCTL" __complete); do
	page=$(page_for "$cmd")
	grep -q "^\.B.*$cmd" "$man/evctl.1" && ok "evctl.1 lists $cmd" || not_ok "evctl.1 lists $cmd" "missing"
	"$EVCTL" --help | grep -q "^  $cmd " && ok "--help lists $cmd" || not_ok "--help lists $cmd" "missing"
	subs=$("$EVCTL" __complete "$cmd" | grep -v '^-')
	for sub in $subs; do
		grep -q "$cmd $sub" "$page" && ok "$(basename "$page") documents $cmd $sub" ||
			not_ok "$(basename "$page") documents $cmd $sub" "missing"
		for opt in $("$EVCTL" __complete "$cmd" "$sub" | grep '^--'); do
			troff=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
			grep -q -- "$troff" "$page" && ok "$cmd $sub $opt documented" ||
				not_ok "$cmd $sub $opt documented" "not in $(basename "$page")"
			"$EVCTL" "$cmd" "$sub" --help | grep -q -- "$opt" && ok "$cmd $sub $opt in --help" ||
				not_ok "$cmd $sub $opt in --help" "missing"
		done
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

# Every exit status of the table is documented in evctl(1).
for code in 0 1 2 3 4 5; do
	grep -q "^\.B $code\$" "$man/evctl.1" && ok "exit status $code documented" ||
		not_ok "exit status $code documented" "missing from EXIT STATUS"
done

# The man pages render without warnings.
if command -v groff >/dev/null 2>&1; then
	for page in "$man"/*.[0-9]; do
		warnings=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
		[ -z "$warnings" ] && ok "$(basename "$page") renders" || not_ok "$(basename "$page") renders" "$warnings"
	done
fi

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

# fish: `complete -C` asks fish itself for the completions of a command line.
if command -v fish >/dev/null 2>&1; then
	fish_complete() {
		PATH="$bindir:$PATH" fish -c "source '$comp/fish/evctl.fish'; complete -C '$1'"
	}
	contains "fish completes subcommands" "$(fish_complete 'evctl ocpp va')" "validate"
	contains "fish completes options" "$(fish_complete 'evctl ocpp validate --js')" "--json"
else
	echo "# fish not installed: fish completion not exercised"
fi
if command -v zsh >/dev/null 2>&1; then
	zsh -n "$comp/zsh/_evctl" && ok "zsh completion parses" || not_ok "zsh completion parses" "syntax error"
else
	echo "# zsh not installed: zsh completion not checked"
fi

finish

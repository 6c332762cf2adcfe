# Helpers for the shell tests: each check prints "ok - name" or
# "not ok - name: why"; finish prints "N passed, M failed" and sets the exit
# status. Every test file gets its own scratch directory, removed on exit.
passed=0
failed=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/evctl-test.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

ok() { passed=$((passed + 1)); printf 'ok - %s\n' "$1"; }
not_ok() { failed=$((failed + 1)); printf 'not ok - %s: %s\n' "$1" "$2"; }

# run NAME WANT_STATUS CMD... : runs CMD, keeps stdout/stderr in $out/$err.
run() {
	name=$1 want=$2
	shift 2
	"$@" >"$scratch/out" 2>"$scratch/err" </dev/null
	status=$?
	out=$(cat "$scratch/out")
	err=$(cat "$scratch/err")
	if [ "$status" -eq "$want" ]; then
		return 0
	fi
	not_ok "$name" "exit status $status, wanted $want; stderr: $err"
	return 1
}

# contains NAME TEXT NEEDLE
contains() {
	case $2 in
	*"$3"*) ok "$1" ;;
	*) not_ok "$1" "'$3' not in: $(printf '%s' "$2" | head -c 400)" ;;
	esac
}

finish() {
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}

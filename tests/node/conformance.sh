#!/bin/sh
# The C validator against the official schemas (ocpp-rpc as the oracle), and
# the committed schema tables against the generator.
. "${top_srcdir:?}/tests/node/node-env.sh"
: "${EVCTL:?}"

fresh=$(mktemp -d "${TMPDIR:-/tmp}/evctl-tables.XXXXXX")
trap 'rm -rf "$fresh"' EXIT
node "$top_srcdir/tools/gen-schema-tables.js" "$modules" "$fresh" >/dev/null 2>&1 ||
	{ echo "not ok - schema table generator failed"; exit 1; }
for f in schema_16.c schema_201.c uri_regex.h; do
	if ! cmp -s "$fresh/$f" "$top_srcdir/src/ocpp/$f"; then
		echo "not ok - src/ocpp/$f is stale: run node tools/gen-schema-tables.js"
		exit 1
	fi
done
echo "ok - schema tables match the installed schemas"

exec node "$node_tests/conformance.js" --evctl "$EVCTL"

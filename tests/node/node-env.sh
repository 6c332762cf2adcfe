# Sourced by the Node test wrappers: finds node and the ocpp-rpc package.
# Without them a test is skipped (exit 77), unless EVCTL_REQUIRE_NODE=1
# (scripts/test sets it), when their absence is a failure.
: "${top_srcdir:?}"
node_tests=$top_srcdir/tests/node
modules=${EVCTL_NODE_MODULES:-$node_tests/node_modules}

missing() {
	echo "$1"
	if [ "${EVCTL_REQUIRE_NODE:-0}" = 1 ]; then exit 1; fi
	exit 77
}
command -v node >/dev/null 2>&1 || missing "node is not installed"
[ -d "$modules/ocpp-rpc" ] || missing "ocpp-rpc is not installed (cd tests/node && npm ci)"
# Scripts outside the tree that holds node_modules (make distcheck) find
# their packages through NODE_PATH.
NODE_PATH=$modules
export NODE_PATH

#!/bin/sh
# The interop harness (an ocpp-rpc peer in strict mode) tested against itself.
. "${top_srcdir:?}/tests/node/node-env.sh"
exec node "$node_tests/harness-selftest.js"

/* Fuzz target: bytes from the network into the frame parser and the whole
 * receive path of an RPC endpoint (both versions, both roles). Frames that
 * parse must survive a rebuild and re-parse unchanged. */
#include "config.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "ocpp/frame.h"
#include "ocpp/rpc.h"
#include "fuzz.h"

/* The endpoint under test, reachable from the callbacks. */
struct endpoint {
	struct ocpp_rpc *rpc;
};

static int sink(void *ctx, const char *text, size_t len)
{
	/* Everything we send must itself be a well-formed frame. */
	struct ocpp_frame f;
	struct ocpp_violation v;
	int rc = ocpp_frame_parse(text, len, &f, &v);
	assert(rc == 0 && (f.type == OCPP_CALLERROR || f.type == OCPP_CALLRESULT));
	ocpp_frame_clear(&f);
	(void)ctx;
	return 0;
}

static void on_call(void *ctx, const char *id, const struct ocpp_action *a, json_t *payload)
{
	struct endpoint *ep = ctx;
	/* An empty object is not a valid answer to most actions, which
	 * exercises outbound validation as well. */
	ocpp_rpc_reply(ep->rpc, id, json_object());
	(void)a;
	(void)payload;
}
static void roundtrip(const struct ocpp_frame *f)
{
	char *text = NULL;
	struct ocpp_frame g;
	struct ocpp_violation v;

	if (f->type == OCPP_CALL)
		text = ocpp_build_call(f->id, f->action, f->payload);
	else if (f->type == OCPP_CALLRESULT)
		text = ocpp_build_result(f->id, f->payload);
	else if (f->type == OCPP_CALLERROR)
		text = ocpp_build_error(f->id, f->error_code, f->error_description, f->error_details);
	if (!text)
		return;
	assert(ocpp_frame_parse(text, strlen(text), &g, &v) == 0);
	assert(g.type == f->type && strcmp(g.id, f->id) == 0);
	if (f->type == OCPP_CALL)
		assert(strcmp(g.action, f->action) == 0);
	ocpp_frame_clear(&g);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ocpp_rpc_ops ops = { sink, on_call, NULL };
	struct ocpp_frame f;
	struct ocpp_violation v;

	if (ocpp_frame_parse((const char *)data, size, &f, &v) == 0)
		roundtrip(&f);
	ocpp_frame_clear(&f);

	for (int version = OCPP_V16; version <= OCPP_V201; version++) {
		for (int role = OCPP_ROLE_STATION; role <= OCPP_ROLE_CSMS; role++) {
			struct endpoint ep;
			ep.rpc = ocpp_rpc_new(version, role, &ops, &ep);
			assert(ep.rpc);
			ocpp_rpc_set_validate_outbound(ep.rpc, 1);
			ocpp_rpc_connected(ep.rpc, 0);
			ocpp_rpc_receive(ep.rpc, (const char *)data, size, 0);
			ocpp_rpc_free(ep.rpc);
		}
	}
	return 0;
}

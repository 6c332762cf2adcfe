/* Fuzz target: the schema validator and the timestamp parser. The first
 * two bytes pick the version, the action and request or response; the rest
 * is the payload text. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "ocpp/frame.h"
#include "ocpp/validate.h"
#include "util/rfc3339.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ocpp_schema_set *set;
	const struct ocpp_action *a;
	struct ocpp_violation v;
	json_error_t err;
	json_t *payload;

	if (size < 2)
		return 0;
	set = ocpp_schemas(data[0] & 1 ? OCPP_V201 : OCPP_V16);
	a = &set->actions[data[1] % set->n_actions];
	payload = ocpp_json_parse((const char *)data + 2, size - 2, &err);
	if (payload) {
		ocpp_validate(data[0] & 2 ? a->response : a->request, payload, &v);
		json_decref(payload);
	}

	/* The same bytes as a timestamp and a URI. */
	{
		char *s = malloc(size - 1);
		if (s) {
			memcpy(s, data + 2, size - 2);
			s[size - 2] = '\0';
			rfc3339_parse(s, NULL);
			ocpp_is_uri(s);
			free(s);
		}
	}
	return 0;
}

#include "config.h"
#include "ocpp/frame.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

json_t *ocpp_json_parse(const char *text, size_t len, json_error_t *err)
{
	/* \u0000 is valid JSON; code that needs C strings checks for it. */
	json_t *j = json_loadb(text, len, JSON_ALLOW_NUL, err);

	if (!j && json_error_code(err) == json_error_numeric_overflow)
		j = json_loadb(text, len, JSON_ALLOW_NUL | JSON_DECODE_INT_AS_REAL, err);
	return j;
}

/* A JSON string usable as a C string: no embedded NUL. */
static int is_c_string(const json_t *j)
{
	return json_is_string(j) && strlen(json_string_value(j)) == json_string_length(j);
}

static int bad(struct ocpp_violation *v, enum ocpp_error code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int bad(struct ocpp_violation *v, enum ocpp_error code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof v->reason, fmt, ap);
	va_end(ap);
	v->code = code;
	return -1;
}

const char *ocpp_msgtype_name(int type)
{
	switch (type) {
	case OCPP_CALL: return "CALL";
	case OCPP_CALLRESULT: return "CALLRESULT";
	case OCPP_CALLERROR: return "CALLERROR";
	case OCPP_CALLRESULTERROR: return "CALLRESULTERROR";
	case OCPP_SEND: return "SEND";
	default: return "unknown";
	}
}

/* [type, id, action, payload] */
static int parse_call(struct ocpp_frame *f, size_t n, struct ocpp_violation *v)
{
	json_t *action = json_array_get(f->root, 2);

	if (n != 4)
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "%s must have 4 elements, not %zu",
			   ocpp_msgtype_name(f->type), n);
	if (!is_c_string(action) || json_string_length(action) == 0)
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "action must be a non-empty string");
	f->action = json_string_value(action);
	f->payload = json_array_get(f->root, 3);
	if (!json_is_object(f->payload))
		return bad(v, OCPP_ERR_TYPE_CONSTRAINT, "payload must be an object, not %s",
			   json_is_array(f->payload) ? "an array" :
			   json_is_null(f->payload) ? "null" : "a scalar");
	return 0;
}

/* [type, id, code, description, details] */
static int parse_error(struct ocpp_frame *f, size_t n, struct ocpp_violation *v)
{
	json_t *code = json_array_get(f->root, 2), *desc = json_array_get(f->root, 3);

	if (n != 5)
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "%s must have 5 elements, not %zu",
			   ocpp_msgtype_name(f->type), n);
	if (!is_c_string(code) || !json_is_string(desc))
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "error code and description must be strings");
	f->error_code = json_string_value(code);
	f->error_description = json_string_value(desc);
	f->error_details = json_array_get(f->root, 4);
	if (!json_is_object(f->error_details))
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "error details must be an object");
	if (utf8_codepoints(f->error_description, json_string_length(desc)) > OCPP_DESCRIPTION_MAX)
		return bad(v, OCPP_ERR_PROPERTY_CONSTRAINT,
			   "error description is longer than %d characters", OCPP_DESCRIPTION_MAX);
	return 0;
}

int ocpp_frame_parse(const char *text, size_t len, struct ocpp_frame *f,
		     struct ocpp_violation *v)
{
	json_error_t err;
	json_t *type, *id;
	double type_number;
	size_t n;

	memset(f, 0, sizeof *f);
	strcpy(f->id, "-1");
	v->code = OCPP_ERR_NONE;
	v->reason[0] = '\0';

	f->root = ocpp_json_parse(text, len, &err);
	if (!f->root)
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "not JSON: %s at character %d",
			   err.text, err.position);
	if (!json_is_array(f->root))
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "a frame must be a JSON array");
	n = json_array_size(f->root);
	type = json_array_get(f->root, 0);
	id = json_array_get(f->root, 1);
	/* A frame holding a number too large for 64 bits is read with every
	 * number as a real (see ocpp_json_parse), the type number too. */
	if (!json_is_number(type) || json_number_value(type) != floor(json_number_value(type)))
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "message type must be an integer");
	if (!is_c_string(id))
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "message id must be a string");
	if (json_string_length(id) > OCPP_ID_MAX || json_string_length(id) == 0)
		return bad(v, OCPP_ERR_RPC_FRAMEWORK, "message id must be 1 to %d characters",
			   OCPP_ID_MAX);
	memcpy(f->id, json_string_value(id), json_string_length(id) + 1);
	type_number = json_number_value(type);
	if (type_number < OCPP_CALL || type_number > OCPP_SEND) {
		return bad(v, OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, "message type %.0f is not supported",
			   type_number);
	}
	f->type = (int)type_number;

	switch (f->type) {
	case OCPP_CALL:
	case OCPP_SEND:
		return parse_call(f, n, v);
	case OCPP_CALLRESULT:
		if (n != 3)
			return bad(v, OCPP_ERR_RPC_FRAMEWORK, "CALLRESULT must have 3 elements, not %zu", n);
		f->payload = json_array_get(f->root, 2);
		return 0;
	default:
		return parse_error(f, n, v);
	}
}

void ocpp_frame_clear(struct ocpp_frame *f)
{
	json_decref(f->root);
	memset(f, 0, sizeof *f);
}

char *ocpp_json_dump(const json_t *j)
{
	return json_dumps(j, DUMP_FLAGS | JSON_ENCODE_ANY);
}

/* Builds an array around borrowed values without copying them. */
static char *dump_frame(json_t *frame)
{
	char *text = frame ? json_dumps(frame, DUMP_FLAGS) : NULL;
	json_decref(frame);
	return text;
}

char *ocpp_build_call(const char *id, const char *action, const json_t *payload)
{
	return dump_frame(json_pack("[issO]", OCPP_CALL, id, action, (json_t *)payload));
}

char *ocpp_build_result(const char *id, const json_t *payload)
{
	return dump_frame(json_pack("[isO]", OCPP_CALLRESULT, id, (json_t *)payload));
}

char *ocpp_build_error(const char *id, const char *code, const char *description,
		       const json_t *details)
{
	json_t *empty = details ? NULL : json_object();
	char desc[4 * OCPP_DESCRIPTION_MAX + 1];
	char *text;

	/* Cut at a character boundary: descriptions are string[255]. */
	snprintf(desc, sizeof desc, "%s", description ? description : "");
	for (size_t n = 0, i = 0; desc[i]; i++) {
		if (((unsigned char)desc[i] & 0xc0) != 0x80 && ++n > OCPP_DESCRIPTION_MAX) {
			desc[i] = '\0';
			break;
		}
	}
	text = dump_frame(json_pack("[isssO]", OCPP_CALLERROR, id, code, desc,
				    details ? (json_t *)details : empty));
	json_decref(empty);
	return text;
}

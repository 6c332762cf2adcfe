/* OCPP-J frames: [2, id, action, payload] CALL, [3, id, payload]
 * CALLRESULT, [4, id, code, description, details] CALLERROR, and from OCPP
 * 2.1 [5, id, code, description, details] CALLRESULTERROR and
 * [6, id, action, payload] SEND. No I/O here: text in, text out. */
#ifndef EV_OCPP_FRAME_H
#define EV_OCPP_FRAME_H

#include <stddef.h>
#include <jansson.h>

#include "ocpp/validate.h"

enum ocpp_msgtype {
	OCPP_CALL = 2,
	OCPP_CALLRESULT = 3,
	OCPP_CALLERROR = 4,
	OCPP_CALLRESULTERROR = 5,
	OCPP_SEND = 6,
};

#define OCPP_ID_MAX 36      /* message ids are string[36] */
#define OCPP_DESCRIPTION_MAX 255

struct ocpp_frame {
	int type;                 /* enum ocpp_msgtype, or another number read */
	char id[OCPP_ID_MAX + 1]; /* "-1" when it could not be read */
	const char *action;       /* CALL, SEND */
	json_t *payload;          /* CALL, CALLRESULT, SEND */
	const char *error_code;   /* CALLERROR, CALLRESULTERROR */
	const char *error_description;
	json_t *error_details;
	json_t *root;             /* owns everything above */
};

/* Parses one frame. Returns 0, or -1 with *v saying what is wrong; f->id is
 * then the id to answer with ("-1" if unreadable) and f->type the message
 * type if it was read (0 otherwise). The payload itself is not validated
 * against a schema here. Always call ocpp_frame_clear afterwards. */
int ocpp_frame_parse(const char *text, size_t len, struct ocpp_frame *f,
		     struct ocpp_violation *v);
void ocpp_frame_clear(struct ocpp_frame *f);

/* Parses JSON text the way the frame parser does (integers too large for
 * 64 bits are read as reals, like any JSON parser that uses doubles). */
json_t *ocpp_json_parse(const char *text, size_t len, json_error_t *err);

/* Build frames as compact JSON text; the caller frees the result with
 * free(). Payloads are borrowed. NULL on allocation failure. */
char *ocpp_build_call(const char *id, const char *action, const json_t *payload);
char *ocpp_build_result(const char *id, const json_t *payload);
char *ocpp_build_error(const char *id, const char *code, const char *description,
		       const json_t *details);
/* Serializes a JSON value the way frames are (compact, 15 significant
 * digits for reals). */
char *ocpp_json_dump(const json_t *j);

const char *ocpp_msgtype_name(int type);

#endif

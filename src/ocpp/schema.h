/* OCPP message definitions: the official JSON schemas as static tables.
 *
 * schema_16.c and schema_201.c are generated from the schemas by
 * tools/gen-schema-tables.js; $refs are resolved and identical nodes shared,
 * so the tables are read-only data and cost nothing at start-up. */
#ifndef EV_OCPP_SCHEMA_H
#define EV_OCPP_SCHEMA_H

#include <stddef.h>

#include "ocpp/version.h"

enum ocpp_jtype {
	OCPP_JANY, OCPP_JOBJECT, OCPP_JARRAY, OCPP_JSTRING,
	OCPP_JINTEGER, OCPP_JNUMBER, OCPP_JBOOLEAN,
};

enum ocpp_format { OCPP_FMT_NONE, OCPP_FMT_DATE_TIME, OCPP_FMT_URI };

/* Which keywords a node carries (values are meaningless without the flag). */
enum {
	OCPP_S_CLOSED = 1 << 0,      /* additionalProperties: false */
	OCPP_S_MAX_LENGTH = 1 << 1,
	OCPP_S_MINIMUM = 1 << 2,
	OCPP_S_MAXIMUM = 1 << 3,
	OCPP_S_MULTIPLE_OF = 1 << 4,
	OCPP_S_MAX_ITEMS = 1 << 5,
};

struct ocpp_prop;

struct ocpp_schema {
	unsigned char type;      /* enum ocpp_jtype */
	unsigned char format;    /* enum ocpp_format */
	unsigned short flags;
	unsigned short n_enum, n_props;
	unsigned int max_length, min_items, max_items;
	double minimum, maximum, multiple_of;
	const char *const *enums;
	const struct ocpp_prop *props;
	const struct ocpp_schema *items;
};

struct ocpp_prop {
	const char *name;
	const struct ocpp_schema *schema;
	unsigned char required;
};

/* Who may send the CALL of an action. */
enum ocpp_origin { OCPP_FROM_STATION, OCPP_FROM_CSMS, OCPP_FROM_EITHER };

struct ocpp_action {
	const char *name;
	enum ocpp_origin origin;
	const struct ocpp_schema *request, *response;
};

struct ocpp_schema_set {
	enum ocpp_version version;
	const struct ocpp_action *actions;  /* sorted by name */
	size_t n_actions;
};

extern const struct ocpp_schema_set ocpp_schemas_16, ocpp_schemas_201;

const struct ocpp_schema_set *ocpp_schemas(enum ocpp_version v);
/* NULL if the version has no such action. */
const struct ocpp_action *ocpp_action_find(const struct ocpp_schema_set *set, const char *name);

#endif

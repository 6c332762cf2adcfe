#include "config.h"
#include "ocpp/schema.h"

#include <stdlib.h>
#include <string.h>

const struct ocpp_schema_set *ocpp_schemas(enum ocpp_version v)
{
	return v == OCPP_V16 ? &ocpp_schemas_16 : &ocpp_schemas_201;
}

static int by_name(const void *key, const void *elem)
{
	return strcmp(key, ((const struct ocpp_action *)elem)->name);
}

const struct ocpp_action *ocpp_action_find(const struct ocpp_schema_set *set, const char *name)
{
	return bsearch(name, set->actions, set->n_actions, sizeof *set->actions, by_name);
}

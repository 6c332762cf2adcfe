#include "config.h"
#include "ocpp/error.h"

#include <string.h>

static const char *const names_201[] = {
	[OCPP_ERR_NONE] = "",
	[OCPP_ERR_NOT_IMPLEMENTED] = "NotImplemented",
	[OCPP_ERR_NOT_SUPPORTED] = "NotSupported",
	[OCPP_ERR_INTERNAL] = "InternalError",
	[OCPP_ERR_PROTOCOL] = "ProtocolError",
	[OCPP_ERR_SECURITY] = "SecurityError",
	[OCPP_ERR_FORMAT] = "FormatViolation",
	[OCPP_ERR_PROPERTY_CONSTRAINT] = "PropertyConstraintViolation",
	[OCPP_ERR_OCCURRENCE_CONSTRAINT] = "OccurrenceConstraintViolation",
	[OCPP_ERR_TYPE_CONSTRAINT] = "TypeConstraintViolation",
	[OCPP_ERR_GENERIC] = "GenericError",
	[OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED] = "MessageTypeNotSupported",
	[OCPP_ERR_RPC_FRAMEWORK] = "RpcFrameworkError",
};

const char *ocpp_error_name(enum ocpp_version v, enum ocpp_error e)
{
	if ((unsigned)e >= sizeof names_201 / sizeof *names_201)
		e = OCPP_ERR_GENERIC;
	if (v == OCPP_V16) {
		switch (e) {
		case OCPP_ERR_FORMAT:
		case OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED:
		case OCPP_ERR_RPC_FRAMEWORK:
			return "FormationViolation";
		case OCPP_ERR_OCCURRENCE_CONSTRAINT:
			return "OccurenceConstraintViolation";
		default:
			break;
		}
	}
	return names_201[e];
}

enum ocpp_error ocpp_error_parse(const char *name)
{
	if (strcmp(name, "FormationViolation") == 0)
		return OCPP_ERR_FORMAT;
	if (strcmp(name, "OccurenceConstraintViolation") == 0)
		return OCPP_ERR_OCCURRENCE_CONSTRAINT;
	for (size_t i = 1; i < sizeof names_201 / sizeof *names_201; i++)
		if (strcmp(name, names_201[i]) == 0)
			return (enum ocpp_error)i;
	return OCPP_ERR_NONE;
}

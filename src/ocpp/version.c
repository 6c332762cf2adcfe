#include "config.h"
#include "ocpp/version.h"

#include <string.h>

int ocpp_version_parse(const char *s, enum ocpp_version *out)
{
	if (strncmp(s, "ocpp", 4) == 0)
		s += 4;
	if (strcmp(s, "1.6") == 0 || strcmp(s, "16") == 0)
		*out = OCPP_V16;
	else if (strcmp(s, "2.0.1") == 0 || strcmp(s, "201") == 0)
		*out = OCPP_V201;
	else
		return -1;
	return 0;
}

const char *ocpp_version_name(enum ocpp_version v)
{
	return v == OCPP_V16 ? "1.6" : "2.0.1";
}

const char *ocpp_version_subprotocol(enum ocpp_version v)
{
	return v == OCPP_V16 ? "ocpp1.6" : "ocpp2.0.1";
}

/* Validation of OCPP payloads against the official schemas (schema.h).
 *
 * Verdicts agree with the schemas as ajv (in ocpp-rpc's strict mode) judges
 * them, which the conformance test checks over every action: strings are
 * measured in code points, an integral number such as 2.0 is an integer,
 * multipleOf allows a 1e-6 relative error, date-time and uri follow
 * ajv-formats. The first violation found is reported. */
#ifndef EV_OCPP_VALIDATE_H
#define EV_OCPP_VALIDATE_H

#include <jansson.h>

#include "ocpp/error.h"
#include "ocpp/schema.h"

struct ocpp_violation {
	enum ocpp_error code;
	char reason[256];   /* e.g. "chargingSchedulePeriod[0].limit: expected number, got string" */
};

/* Returns 0 if payload is valid for schema s, else -1 with *v filled. */
int ocpp_validate(const struct ocpp_schema *s, const json_t *payload, struct ocpp_violation *v);

/* Validates the request (response == 0) or response payload of an action.
 * An action the version does not define is OCPP_ERR_NOT_IMPLEMENTED. */
int ocpp_validate_message(const struct ocpp_schema_set *set, const char *action,
			  int response, const json_t *payload, struct ocpp_violation *v);

/* Format checks, exposed for tests. */
int ocpp_is_date_time(const char *s);
int ocpp_is_uri(const char *s);

#endif

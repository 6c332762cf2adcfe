/* RPC framework error codes, version-neutral inside, spelled per version on
 * the wire (OCPP-J 1.6 section 4.2.3, OCPP 2.0.1 part 4 section 4.3). */
#ifndef EV_OCPP_ERROR_H
#define EV_OCPP_ERROR_H

#include "ocpp/version.h"

enum ocpp_error {
	OCPP_ERR_NONE,
	OCPP_ERR_NOT_IMPLEMENTED,        /* action unknown to the receiver */
	OCPP_ERR_NOT_SUPPORTED,          /* known, but not supported here */
	OCPP_ERR_INTERNAL,
	OCPP_ERR_PROTOCOL,               /* payload incomplete / not the PDU */
	OCPP_ERR_SECURITY,
	OCPP_ERR_FORMAT,                 /* payload syntactically incorrect */
	OCPP_ERR_PROPERTY_CONSTRAINT,    /* a field has an invalid value */
	OCPP_ERR_OCCURRENCE_CONSTRAINT,  /* a field is missing or repeated */
	OCPP_ERR_TYPE_CONSTRAINT,        /* a field has the wrong data type */
	OCPP_ERR_GENERIC,
	OCPP_ERR_MESSAGE_TYPE_NOT_SUPPORTED, /* unknown message type number */
	OCPP_ERR_RPC_FRAMEWORK,          /* not a valid RPC frame at all */
};

/* The error code as that version spells it. 1.6 has no
 * MessageTypeNotSupported or RpcFrameworkError: those become
 * FormationViolation ("not conform the PDU structure"). 1.6 spells
 * OccurenceConstraintViolation with one 'r', as its JSON spec does. */
const char *ocpp_error_name(enum ocpp_version v, enum ocpp_error e);

/* Parses a received error code, accepting either version's spelling.
 * Returns OCPP_ERR_NONE for an unknown name. */
enum ocpp_error ocpp_error_parse(const char *name);

#endif

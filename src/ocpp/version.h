/* The OCPP-J versions we speak. */
#ifndef EV_OCPP_VERSION_H
#define EV_OCPP_VERSION_H

enum ocpp_version { OCPP_V16, OCPP_V201 };

/* Accepts "1.6", "16", "ocpp1.6", "2.0.1", "201", "ocpp2.0.1".
 * Returns 0 and sets *out, or -1. */
int ocpp_version_parse(const char *s, enum ocpp_version *out);
/* "1.6" or "2.0.1". */
const char *ocpp_version_name(enum ocpp_version v);
/* WebSocket subprotocol: "ocpp1.6" or "ocpp2.0.1". */
const char *ocpp_version_subprotocol(enum ocpp_version v);

#endif

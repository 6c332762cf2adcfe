/* Credentials of the central system: station passwords (Basic Auth,
 * security profiles 1 and 2) and API bearer tokens. Neither is stored in
 * the clear: passwords as salted PBKDF2-HMAC-SHA256, tokens (random, 256
 * bits, so a salt adds nothing) as plain SHA-256. */
#ifndef EV_CSMS_AUTH_H
#define EV_CSMS_AUTH_H

#include <stddef.h>

#define AUTH_HASH_MAX 160   /* "pbkdf2-sha256$ITER$SALT$HASH" */
#define AUTH_TOKEN_MAX 64   /* "evk_" + 43 base64url characters */
#define AUTH_SHA256_HEX 65

/* Hashes password into out ("pbkdf2-sha256$<iterations>$<salt>$<hash>",
 * hex). 0 or -EIO when no randomness is available. */
int auth_hash_password(const char *password, char out[AUTH_HASH_MAX]);
/* 1 if password matches the stored hash, 0 if not (or the hash is
 * malformed). Runs in time independent of where a mismatch is. */
int auth_check_password(const char *password, const char *stored);

/* A new random API token. */
int auth_new_token(char out[AUTH_TOKEN_MAX]);
void auth_sha256_hex(const char *text, char out[AUTH_SHA256_HEX]);
void auth_hmac_sha256_hex(const unsigned char *key, size_t keylen, const char *text,
			  char out[AUTH_SHA256_HEX]);

#endif

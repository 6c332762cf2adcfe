#include "config.h"
#include "csms/auth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

/* Some 20 ms of CPU: slow enough to make guessing a leaked hash costly,
 * fast enough that a fleet reconnecting at once does not stall the loop
 * (and the central system remembers a verified password in memory, so a
 * station pays it once per process lifetime). */
#define PBKDF2_ITERATIONS 100000
#define SALT_LEN 16
#define HASH_LEN 32

static void to_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int from_hex(const char *in, unsigned char *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		if (sscanf(in + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (unsigned char)v;
	}
	return in[2 * n] == '\0' || in[2 * n] == '$' ? 0 : -1;
}

static int derive(const char *password, const unsigned char *salt, unsigned long iterations,
		  unsigned char out[HASH_LEN])
{
	return PKCS5_PBKDF2_HMAC(password, (int)strlen(password), salt, SALT_LEN, (int)iterations,
				 EVP_sha256(), HASH_LEN, out) == 1 ? 0 : -EIO;
}

int auth_hash_password(const char *password, char out[AUTH_HASH_MAX])
{
	unsigned char salt[SALT_LEN], hash[HASH_LEN];
	char salt_hex[2 * SALT_LEN + 1], hash_hex[2 * HASH_LEN + 1];

	if (RAND_bytes(salt, sizeof salt) != 1 || derive(password, salt, PBKDF2_ITERATIONS, hash))
		return -EIO;
	to_hex(salt, sizeof salt, salt_hex);
	to_hex(hash, sizeof hash, hash_hex);
	snprintf(out, AUTH_HASH_MAX, "pbkdf2-sha256$%d$%s$%s", PBKDF2_ITERATIONS, salt_hex, hash_hex);
	OPENSSL_cleanse(hash, sizeof hash);
	return 0;
}

int auth_check_password(const char *password, const char *stored)
{
	unsigned char salt[SALT_LEN], want[HASH_LEN], got[HASH_LEN];
	unsigned long iterations;
	const char *p;
	char *end;
	int ok;

	if (strncmp(stored, "pbkdf2-sha256$", 14) != 0)
		return 0;
	iterations = strtoul(stored + 14, &end, 10);
	if (*end != '$' || iterations < 1 || iterations > 10000000)
		return 0;
	p = end + 1;
	if (from_hex(p, salt, SALT_LEN) || p[2 * SALT_LEN] != '$' ||
	    from_hex(p + 2 * SALT_LEN + 1, want, HASH_LEN))
		return 0;
	if (derive(password, salt, iterations, got))
		return 0;
	ok = CRYPTO_memcmp(want, got, HASH_LEN) == 0;
	OPENSSL_cleanse(got, sizeof got);
	return ok;
}

int auth_new_token(char out[AUTH_TOKEN_MAX])
{
	static const char b64url[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char raw[32];
	size_t n = 0;

	if (RAND_bytes(raw, sizeof raw) != 1)
		return -EIO;
	n += (size_t)snprintf(out, AUTH_TOKEN_MAX, "evk_");
	/* 6 bits a character: 43 characters carry the 256 bits. */
	for (size_t bit = 0; bit < 8 * sizeof raw; bit += 6) {
		unsigned v = 0;
		for (size_t k = 0; k < 6; k++) {
			size_t b = bit + k;
			v <<= 1;
			if (b < 8 * sizeof raw)
				v |= (raw[b / 8] >> (7 - b % 8)) & 1;
		}
		out[n++] = b64url[v];
	}
	out[n] = '\0';
	OPENSSL_cleanse(raw, sizeof raw);
	return 0;
}

void auth_hmac_sha256_hex(const unsigned char *key, size_t keylen, const char *text,
			  char out[AUTH_SHA256_HEX])
{
	unsigned char mac[SHA256_DIGEST_LENGTH];
	unsigned len = sizeof mac;

	HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)text, strlen(text), mac, &len);
	to_hex(mac, sizeof mac, out);
	OPENSSL_cleanse(mac, sizeof mac);
}

void auth_sha256_hex(const char *text, char out[AUTH_SHA256_HEX])
{
	unsigned char digest[SHA256_DIGEST_LENGTH];

	SHA256((const unsigned char *)text, strlen(text), digest);
	to_hex(digest, sizeof digest, out);
}

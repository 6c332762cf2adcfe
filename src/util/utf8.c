#include "config.h"
#include "util/utf8.h"

size_t utf8_codepoints(const char *s, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += ((unsigned char)s[i] & 0xc0) != 0x80;
	return n;
}

uint32_t utf8_next(const char **p)
{
	const unsigned char *s = (const unsigned char *)*p;
	uint32_t cp = s[0];
	int extra = cp >= 0xf0 ? 3 : cp >= 0xe0 ? 2 : cp >= 0xc0 ? 1 : 0;

	if (extra)
		cp &= 0x3f >> extra;
	for (int i = 1; i <= extra && (s[i] & 0xc0) == 0x80; i++)
		cp = (cp << 6) | (s[i] & 0x3f);
	/* Advance over continuation bytes even if the input was truncated. */
	s++;
	while ((*s & 0xc0) == 0x80)
		s++;
	*p = (const char *)s;
	return cp;
}

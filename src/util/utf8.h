/* UTF-8 helpers for text that is already known to be valid UTF-8
 * (jansson rejects anything else when it decodes). */
#ifndef EV_UTF8_H
#define EV_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Number of code points: what JSON Schema's maxLength counts. */
size_t utf8_codepoints(const char *s, size_t len);

/* Decodes the code point at *p and advances *p past it. */
uint32_t utf8_next(const char **p);

#endif

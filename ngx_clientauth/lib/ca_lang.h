/*
 * Language negotiation: which of the languages a customer area offers a
 * request gets.  nginx-free.
 *
 * Accept-Language (RFC 9110, 12.5.4): ranges with optional q-values; a
 * range matches an offered language exactly or by its primary subtag
 * ("fr-CA" picks "fr"), "*" matches what no range names, q=0 refuses.
 * Anything malformed or oversized gives no answer, never an error: the
 * caller falls back to its first language.
 */

#ifndef CA_LANG_H
#define CA_LANG_H

#include <stddef.h>

#define CA_LANG_HEADER_MAX  512   /* longer Accept-Language: ignored */
#define CA_LANG_RANGES_MAX  32
#define CA_LANG_TAG_MAX     35    /* a whole language tag, bytes */

/* Whether s is a language tag: 1*8ALPHA *("-" 1*8alphanum). */
int ca_lang_tag_valid(const char *s, size_t len);

/*
 * The index in offered (n tags, lower case) of the tag s names exactly, any
 * case; -1 when none or when s is not a tag.
 */
int ca_lang_find(const char *const *offered, size_t n, const char *s,
    size_t len);

/* The index of the best offered language for the header, or -1. */
int ca_lang_negotiate(const char *const *offered, size_t n,
    const char *header, size_t len);

#endif /* CA_LANG_H */

/*
 * The post-login redirect target ("next"): only a same-site relative path is
 * followed, anything else sends the user to "/".  nginx-free.
 *
 * Safe: starts with one '/', not "//" nor "/\"; no control characters, no
 * white space, no backslash anywhere (browsers turn '\' into '/' and drop tabs
 * and newlines, which would make "/\t/evil.example" scheme-relative); at most
 * CA_NEXT_MAX bytes.  Percent-encoded bytes are left as they are: the browser
 * does not decode them when resolving the Location.  Raw bytes above 0x7e
 * are refused: a browser would have percent-encoded them.
 */

#ifndef CA_NEXT_H
#define CA_NEXT_H

#include <stddef.h>

#define CA_NEXT_MAX  2048

int ca_next_is_safe(const char *next, size_t len);

#endif /* CA_NEXT_H */

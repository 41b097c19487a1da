/*
 * Finding one cookie in a request's Cookie header lines, strictly.
 * nginx-free.
 *
 * A Cookie header is "name=value" pairs separated by ';' (RFC 6265 5.4):
 * ',' separates nothing, and names are compared byte for byte, so neither
 * "x=a, NAME=v" nor "name=v" (another case) is NAME.  Optional white space
 * (SP, HTAB) around a pair is ignored; the name is what precedes the first
 * '=' of the pair, the value all that follows it.  HTTP/2 clients send one
 * pair per header line: callers add up the counts of every line.
 */

#ifndef CA_COOKIE_H
#define CA_COOKIE_H

#include <stddef.h>


/*
 * How many pairs of the header value (header, len) are named name.  The
 * first one's value is stored in *value and *value_len, which are left alone
 * when there is none.
 */
size_t ca_cookie_find(const char *header, size_t len, const char *name,
    size_t name_len, const char **value, size_t *value_len);

#endif /* CA_COOKIE_H */

/*
 * Customer identifiers: recognise the kind from its shape among the kinds a
 * brand accepts and write the canonical form used as the Redis index key, so
 * that every spelling of one identifier names one account (and one rate-limit
 * bucket).  One implementation for the module and clientauthctl.  nginx-free.
 *
 *   email            trimmed, lower-cased; the domain part as for domain
 *   customer_number  1-20 digits, leading zeros dropped ("09000" -> "9000")
 *   nic              NIC handle such as "dm429850-OVH": letters and digits,
 *                    a '-', a letter suffix; lower-cased ("dm429850-ovh")
 *   phone            E.164 "+<digits>", 8-15 digits; accepts spaces, '-',
 *                    '.', '(', ')'; "+" or "00" starts an international
 *                    number, a leading "0" is the national trunk prefix and
 *                    is replaced by the configured country code, which is
 *                    also prefixed to other national numbers; the "(0)" of
 *                    "+44 (0)20 ..." is dropped
 *   domain           lower-case ASCII; labels with non-ASCII UTF-8 are
 *                    Punycode-encoded ("xn--"), a trailing dot dropped;
 *                    at least two labels, each 1-63 of [a-z0-9-] not starting
 *                    or ending with '-', at most 253 characters in all,
 *                    the last label not all digits (no IPv4 addresses)
 *
 * Shape, when several kinds are accepted: '@' means email; a NIC handle
 * shape means nic; a dot means domain (unless phone is accepted and the value
 * holds only phone characters: "612.345.678"); a leading '+' or "00", or any
 * of the phone separators, means phone; bare digits mean customer_number
 * when that is accepted, else phone.
 */

#ifndef CA_IDENT_H
#define CA_IDENT_H

#include <stddef.h>
#include <stdint.h>

#define CA_IDENT_MAX  256         /* canonical form, NUL included */

typedef enum {
    CA_ID_NONE = 0,
    CA_ID_EMAIL = 0x01,
    CA_ID_CUSTOMER_NUMBER = 0x02,
    CA_ID_NIC = 0x04,
    CA_ID_PHONE = 0x08,
    CA_ID_DOMAIN = 0x10
} ca_id_kind_e;

#define CA_ID_ALL  0x1f

typedef struct {
    unsigned     accepted;        /* a mask of ca_id_kind_e */
    const char  *phone_country;   /* country calling code digits, e.g. "34" */
} ca_ident_opts_t;

/*
 * Recognises and canonicalises in (len bytes, not NUL-terminated; leading
 * and trailing white space ignored) into out (CA_IDENT_MAX bytes).  Returns
 * the kind, or CA_ID_NONE when no accepted kind fits or the value is invalid.
 */
ca_id_kind_e ca_ident_normalise(const ca_ident_opts_t *opts, const char *in,
    size_t len, char out[CA_IDENT_MAX]);

/* The same for one given kind (clientauthctl's --email, --phone, ...). */
ca_id_kind_e ca_ident_normalise_kind(ca_id_kind_e kind,
    const char *phone_country, const char *in, size_t len,
    char out[CA_IDENT_MAX]);

/* "email", "customer_number", "nic", "phone", "domain"; NULL otherwise. */
const char *ca_ident_kind_name(ca_id_kind_e kind);

/* The kind of that name (len bytes), or CA_ID_NONE. */
ca_id_kind_e ca_ident_kind_from_name(const char *name, size_t len);

/*
 * Decodes the UTF-8 sequence at p (len > 0 bytes available) into *cp.
 * Returns its length, or 0 for a stray or truncated byte, an overlong form,
 * a surrogate or a code point above U+10FFFF.  Shared with ca_form.
 */
size_t ca_utf8_decode(const unsigned char *p, size_t len, uint32_t *cp);

#endif /* CA_IDENT_H */

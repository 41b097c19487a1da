/*
 * New-password rules.  nginx-free.
 *
 * The default preset is the seeds' customer-area rules: at least 8
 * characters, an upper-case letter, a lower-case letter, a digit and a
 * special character, no white space.  The NIST SP 800-63B preset asks for
 * length (at least 15) and refuses common passwords instead of composition.
 * Both refuse the account's own identifiers and passwords over the maximum
 * length; reuse of former passwords is checked against their hashes
 * elsewhere (it needs the thread pool).  Lengths count UTF-8 characters.
 */

#ifndef CA_POLICY_H
#define CA_POLICY_H

#include <stddef.h>

typedef enum {
    CA_POLICY_DEFAULT = 0,
    CA_POLICY_NIST
} ca_policy_preset_e;

/* Broken rules, as bits; the order is the order they are listed in. */
typedef enum {
    CA_RULE_TOO_SHORT = 0x0001,
    CA_RULE_TOO_LONG = 0x0002,
    CA_RULE_NO_UPPER = 0x0004,
    CA_RULE_NO_LOWER = 0x0008,
    CA_RULE_NO_DIGIT = 0x0010,
    CA_RULE_NO_SPECIAL = 0x0020,
    CA_RULE_WHITESPACE = 0x0040,
    CA_RULE_IDENTIFIER = 0x0080,
    CA_RULE_COMMON = 0x0100,
    CA_RULE_REUSED = 0x0200,
    CA_RULE_MISMATCH = 0x0400,
    CA_RULE_INVALID = 0x0800          /* not UTF-8, or a control character */
} ca_rule_e;

#define CA_RULE_LAST  CA_RULE_INVALID

typedef struct {
    ca_policy_preset_e   preset;
    size_t               min_length;  /* characters */
    size_t               max_length;  /* bytes, as at login */
} ca_policy_t;

/*
 * The rules password (len bytes) breaks, given the account's identifiers
 * (nids NUL-terminated strings, compared without regard to case).
 */
unsigned ca_policy_check(const ca_policy_t *policy, const char *password,
    size_t len, const char *const *ids, size_t nids);

/* "too_short", ... and a sentence for people, for one rule bit. */
const char *ca_rule_code(unsigned rule);
const char *ca_rule_text(unsigned rule);

/* Whether password is on the shipped list of common passwords (any case). */
int ca_policy_is_common(const char *password, size_t len);

#endif /* CA_POLICY_H */

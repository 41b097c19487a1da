#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_blocklist.h"
#include "ca_ident.h"
#include "ca_policy.h"


typedef struct {
    unsigned     rule;
    const char  *code;
    const char  *text;
} ca_rule_t;


static const ca_rule_t  ca_rules[] = {
    { CA_RULE_TOO_SHORT, "too_short",
      "The password is too short." },
    { CA_RULE_TOO_LONG, "too_long",
      "The password is too long." },
    { CA_RULE_NO_UPPER, "no_upper",
      "The password needs an upper-case letter." },
    { CA_RULE_NO_LOWER, "no_lower",
      "The password needs a lower-case letter." },
    { CA_RULE_NO_DIGIT, "no_digit",
      "The password needs a digit." },
    { CA_RULE_NO_SPECIAL, "no_special",
      "The password needs a special character." },
    { CA_RULE_WHITESPACE, "whitespace",
      "The password must not contain spaces." },
    { CA_RULE_IDENTIFIER, "identifier",
      "The password must not be your identifier." },
    { CA_RULE_COMMON, "common",
      "This password is too common." },
    { CA_RULE_REUSED, "reused",
      "The password must differ from your recent passwords." },
    { CA_RULE_MISMATCH, "mismatch",
      "The two passwords do not match." },
    { CA_RULE_INVALID, "invalid",
      "The password contains characters that cannot be used." }
};


static const ca_rule_t *
ca_rule_find(unsigned rule)
{
    size_t  i;

    for (i = 0; i < sizeof(ca_rules) / sizeof(ca_rules[0]); i++) {
        if (ca_rules[i].rule == rule) {
            return &ca_rules[i];
        }
    }

    return NULL;
}


const char *
ca_rule_code(unsigned rule)
{
    const ca_rule_t  *r = ca_rule_find(rule);

    return r ? r->code : NULL;
}


const char *
ca_rule_text(unsigned rule)
{
    const ca_rule_t  *r = ca_rule_find(rule);

    return r ? r->text : NULL;
}


static int
ca_blocklist_cmp(const void *key, const void *entry)
{
    return strcmp(key, *(const char *const *) entry);
}


int
ca_policy_is_common(const char *password, size_t len)
{
    char    lower[64];
    size_t  i;

    if (len >= sizeof(lower)) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        char  ch = password[i];

        lower[i] = (ch >= 'A' && ch <= 'Z') ? ch + ('a' - 'A') : ch;
    }

    lower[len] = '\0';

    return bsearch(lower, ca_blocklist, ca_blocklist_size,
                   sizeof(ca_blocklist[0]), ca_blocklist_cmp) != NULL;
}


static int
ca_policy_is_identifier(const char *password, size_t len,
    const char *const *ids, size_t nids)
{
    size_t  i;

    for (i = 0; i < nids; i++) {
        if (ids[i] && ids[i][0] && strlen(ids[i]) == len
            && strncasecmp(password, ids[i], len) == 0)
        {
            return 1;
        }
    }

    return 0;
}


/* Character classes and length; 0 with CA_RULE_INVALID for bad UTF-8. */

static unsigned
ca_policy_classes(const char *password, size_t len, size_t *chars)
{
    size_t                n;
    unsigned              seen;
    uint32_t              cp;
    const unsigned char  *p, *last;

    seen = CA_RULE_NO_UPPER | CA_RULE_NO_LOWER | CA_RULE_NO_DIGIT
           | CA_RULE_NO_SPECIAL;
    p = (const unsigned char *) password;
    last = p + len;
    *chars = 0;

    while (p < last) {
        n = ca_utf8_decode(p, last - p, &cp);

        if (n == 0) {
            return CA_RULE_INVALID;
        }

        p += n;
        (*chars)++;

        if (cp == '\t' || cp == '\n' || cp == '\r') {
            seen |= CA_RULE_WHITESPACE;
            continue;
        }

        /* C0, DEL and C1: U+0085 is a line break to some software */

        if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0)) {
            return CA_RULE_INVALID;
        }

        if (cp >= 'A' && cp <= 'Z') {
            seen &= ~CA_RULE_NO_UPPER;

        } else if (cp >= 'a' && cp <= 'z') {
            seen &= ~CA_RULE_NO_LOWER;

        } else if (cp >= '0' && cp <= '9') {
            seen &= ~CA_RULE_NO_DIGIT;

        } else if (cp == ' ' || cp == 0xa0 || cp == 0x3000
                   || (cp >= 0x2000 && cp <= 0x200b))
        {
            seen |= CA_RULE_WHITESPACE;

        } else {
            seen &= ~CA_RULE_NO_SPECIAL;
        }
    }

    return seen;
}


unsigned
ca_policy_check(const ca_policy_t *policy, const char *password, size_t len,
    const char *const *ids, size_t nids)
{
    size_t    chars;
    unsigned  broken, classes;

    broken = 0;

    if (len > policy->max_length) {
        broken |= CA_RULE_TOO_LONG;
    }

    classes = ca_policy_classes(password, len, &chars);

    if (classes & CA_RULE_INVALID) {
        return broken | CA_RULE_INVALID;
    }

    if (chars < policy->min_length) {
        broken |= CA_RULE_TOO_SHORT;
    }

    if (policy->preset == CA_POLICY_DEFAULT) {
        broken |= classes;

    } else if (ca_policy_is_common(password, len)) {
        broken |= CA_RULE_COMMON;
    }

    if (ca_policy_is_identifier(password, len, ids, nids)) {
        broken |= CA_RULE_IDENTIFIER;
    }

    return broken;
}

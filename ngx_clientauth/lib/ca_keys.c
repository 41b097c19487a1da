#include <stdio.h>
#include <string.h>

#include "ca_keys.h"


static int
ca_key_format(char *buf, size_t size, int n)
{
    return (n < 0 || (size_t) n >= size) ? -1 : n;
}


int
ca_brand_is_valid(const char *brand, size_t len)
{
    size_t  i;

    if (len == 0 || len > CA_BRAND_MAX) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        char  ch = brand[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')
              || ch == '_' || ch == '-'))
        {
            return 0;
        }
    }

    return 1;
}


int
ca_id_is_valid(const char *id, size_t len)
{
    size_t  i;

    if (len == 0 || len > 20) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (id[i] < '0' || id[i] > '9') {
            return 0;
        }
    }

    return 1;
}


int
ca_key_ident(char *buf, size_t size, const char *brand, const char *kind,
    const char *identifier)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:%s:id:%s:%s",
                                             brand, kind, identifier));
}


int
ca_key_seq(char *buf, size_t size, const char *brand, const char *name)
{
    return ca_key_format(buf, size,
                         snprintf(buf, size, "ca:%s:seq:%s", brand, name));
}


/*
 * Built by hand: every protected request builds one.  In the account's
 * slot, with its users and their sessions sets, so that a revocation is
 * one slot's transaction.
 */

int
ca_key_session(char *buf, size_t size, const char *brand,
    const char *account, const char *token_hash)
{
    char    *p;
    size_t   blen, alen, hlen;

    blen = strlen(brand);
    alen = strlen(account);
    hlen = strlen(token_hash);

    if (sizeof("ca:{:}:sess:") - 1 + blen + alen + hlen >= size) {
        return -1;
    }

    p = buf;
    memcpy(p, "ca:{", 4);
    p += 4;
    memcpy(p, brand, blen);
    p += blen;
    *p++ = ':';
    memcpy(p, account, alen);
    p += alen;
    memcpy(p, "}:sess:", 7);
    p += 7;
    memcpy(p, token_hash, hlen);
    p += hlen;
    *p = '\0';

    return (int) (p - buf);
}


int
ca_key_account(char *buf, size_t size, const char *brand, const char *account)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:{%s:%s}:account",
                                             brand, account));
}


int
ca_key_account_users(char *buf, size_t size, const char *brand,
    const char *account)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:{%s:%s}:users",
                                             brand, account));
}


int
ca_key_user(char *buf, size_t size, const char *brand, const char *account,
    const char *user)
{
    char    *p;
    size_t   blen, alen, ulen;

    /* by hand, as ca_key_session(): every validated request makes one */
    blen = strlen(brand);
    alen = strlen(account);
    ulen = strlen(user);

    if (sizeof("ca:{:}:user:") - 1 + blen + alen + ulen >= size) {
        return -1;
    }

    p = buf;
    memcpy(p, "ca:{", 4);
    p += 4;
    memcpy(p, brand, blen);
    p += blen;
    *p++ = ':';
    memcpy(p, account, alen);
    p += alen;
    memcpy(p, "}:user:", 7);
    p += 7;
    memcpy(p, user, ulen);
    p += ulen;
    *p = '\0';

    return (int) (p - buf);
}


int
ca_key_user_sessions(char *buf, size_t size, const char *brand,
    const char *account, const char *user)
{
    return ca_key_format(buf, size,
                         snprintf(buf, size, "ca:{%s:%s}:user:%s:sessions",
                                  brand, account, user));
}


int
ca_key_user_history(char *buf, size_t size, const char *brand,
    const char *account, const char *user)
{
    return ca_key_format(buf, size,
                         snprintf(buf, size, "ca:{%s:%s}:user:%s:history",
                                  brand, account, user));
}


/* self-service: the user's pending e-mail change */

int
ca_key_user_email_change(char *buf, size_t size, const char *brand,
    const char *account, const char *user)
{
    return ca_key_format(buf, size,
                         snprintf(buf, size,
                                  "ca:{%s:%s}:user:%s:email-change",
                                  brand, account, user));
}


int
ca_key_user_devices(char *buf, size_t size, const char *brand,
    const char *account, const char *user)
{
    return ca_key_format(buf, size,
                         snprintf(buf, size, "ca:{%s:%s}:user:%s:devices",
                                  brand, account, user));
}


int
ca_key_limit(char *buf, size_t size, const char *brand, const char *scope,
    const char *subject, long long bucket)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:%s:rl:%s:%s:%lld",
                                             brand, scope, subject, bucket));
}


/* what: "fails", "lock" or "bans". */

int
ca_key_login(char *buf, size_t size, const char *brand, const char *what,
    const char *kind, const char *identifier)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:%s:%s:%s:%s",
                                             brand, what, kind, identifier));
}


/* what: "reset" or "reset-claim". */

int
ca_key_reset(char *buf, size_t size, const char *brand, const char *what,
    const char *token_hash)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:%s:%s:%s",
                                             brand, what, token_hash));
}


/* sub-user invitations */

int
ca_key_invite(char *buf, size_t size, const char *brand,
    const char *token_hash)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:%s:invite:%s",
                                             brand, token_hash));
}


int
ca_key_account_invites(char *buf, size_t size, const char *brand,
    const char *account)
{
    return ca_key_format(buf, size, snprintf(buf, size, "ca:{%s:%s}:invites",
                                             brand, account));
}


int
ca_id_ref_parse(const char *ref, size_t len, char account[21], char user[21])
{
    const char  *colon;
    size_t       alen, ulen;

    colon = memchr(ref, ':', len);
    if (colon == NULL) {
        return -1;
    }

    alen = colon - ref;
    ulen = len - alen - 1;

    if (!ca_id_is_valid(ref, alen) || !ca_id_is_valid(colon + 1, ulen)) {
        return -1;
    }

    memcpy(account, ref, alen);
    account[alen] = '\0';
    memcpy(user, colon + 1, ulen);
    user[ulen] = '\0';

    return 0;
}

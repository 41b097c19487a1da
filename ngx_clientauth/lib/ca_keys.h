/*
 * The Redis key layout, in one place for the module and clientauthctl.
 *
 *   ca:<brand>:id:<kind>:<identifier>     string "<account>:<user>"
 *   ca:<brand>:seq:<name>                 counters for new ids
 *   ca:{<brand>:<account>}:account        hash  the account
 *   ca:{<brand>:<account>}:users          set   user ids of the account
 *   ca:{<brand>:<account>}:user:<u>       hash  one user
 *   ca:{<brand>:<account>}:user:<u>:sessions  set of session token hashes
 *   ca:{<brand>:<account>}:user:<u>:history   list of former password hashes
 *   ca:{<brand>:<account>}:user:<u>:devices   zset (device, network) pairs
 *   ca:{<brand>:<account>}:sess:<token hash>  hash  a u x s g  (a session;
 *                                         the token names its account)
 *   ca:<brand>:rl:<scope>:<subject>:<bucket>  login attempts in a bucket
 *   ca:<brand>:fails:<kind>:<identifier>      consecutive failed logins
 *   ca:<brand>:lock:<kind>:<identifier>       present while locked out
 *   ca:<brand>:bans:<kind>:<identifier>       lockouts so far (back-off)
 *   ca:<brand>:reset:<token hash>             string "<account>:<user>"
 *   ca:<brand>:reset-claim:<token hash>       the one submission spending it
 *   ca:{<brand>:<account>}:user:<u>:email-change  hash  a pending change
 *   ca:<brand>:invite:<token hash>        hash  a pending sub-user invitation
 *   ca:{<brand>:<account>}:invites        hash  e-mail -> its invitation's
 *                                               token hash (one per address)
 *
 * Login counters are keyed by the canonical identifier, not the account, so
 * unknown identifiers are limited exactly like known ones.
 *
 * The braces are Redis Cluster hash tags: everything of one account lives in
 * one slot.  Every builder writes a NUL-terminated key into buf and returns
 * its length, or -1 when it does not fit.
 */

#ifndef CA_KEYS_H
#define CA_KEYS_H

#include <stddef.h>

#define CA_BRAND_MAX  32
#define CA_ID_REF_MAX 48          /* "<account>:<user>" */
#define CA_KEY_MAX    512

/* Brand names are 1-32 of [a-z0-9_-]: they are part of every key. */
int ca_brand_is_valid(const char *brand, size_t len);

/* Account and user ids are 1-20 decimal digits. */
int ca_id_is_valid(const char *id, size_t len);

int ca_key_ident(char *buf, size_t size, const char *brand, const char *kind,
    const char *identifier);
int ca_key_seq(char *buf, size_t size, const char *brand, const char *name);
int ca_key_session(char *buf, size_t size, const char *brand,
    const char *account, const char *token_hash);
int ca_key_account(char *buf, size_t size, const char *brand,
    const char *account);
int ca_key_account_users(char *buf, size_t size, const char *brand,
    const char *account);
int ca_key_user(char *buf, size_t size, const char *brand,
    const char *account, const char *user);
int ca_key_user_sessions(char *buf, size_t size, const char *brand,
    const char *account, const char *user);
int ca_key_user_history(char *buf, size_t size, const char *brand,
    const char *account, const char *user);

int ca_key_limit(char *buf, size_t size, const char *brand, const char *scope,
    const char *subject, long long bucket);
int ca_key_login(char *buf, size_t size, const char *brand, const char *what,
    const char *kind, const char *identifier);
int ca_key_reset(char *buf, size_t size, const char *brand, const char *what,
    const char *token_hash);

/* self-service: the user's pending e-mail change */
int ca_key_user_email_change(char *buf, size_t size, const char *brand,
    const char *account, const char *user);

/* sub-user invitations */
int ca_key_invite(char *buf, size_t size, const char *brand,
    const char *token_hash);
int ca_key_account_invites(char *buf, size_t size, const char *brand,
    const char *account);

/*
 * An identifier index value "<account>:<user>": split into two
 * NUL-terminated ids of at most 20 digits.  Returns 0 or -1.
 */
int ca_id_ref_parse(const char *ref, size_t len, char account[21],
    char user[21]);

/* self-service (issue 10): a user's (device, network) pairs, by last login */
int ca_key_user_devices(char *buf, size_t size, const char *brand,
    const char *account, const char *user);

#endif /* CA_KEYS_H */

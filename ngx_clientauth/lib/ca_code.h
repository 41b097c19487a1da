/*
 * One-time numeric codes (the e-mail change's code to the current address)
 * and the e-mail change's state.  nginx-free.
 *
 * A code is 8 decimal digits, uniformly random (libsodium).  Redis keeps
 * only its keyed BLAKE2b-256 (key: a random salt stored beside it), so a
 * copy of Redis does not show the code.  8 digits are 26.6 bits: what keeps
 * them from being guessed is the lifetime and the 5 tries, not the hash.
 */

#ifndef CA_CODE_H
#define CA_CODE_H

#include <stddef.h>
#include <stdint.h>

#define CA_CODE_DIGITS    8
#define CA_CODE_SALT_LEN  32          /* hex of 16 bytes */
#define CA_CODE_HASH_LEN  64          /* hex of 32 bytes */
#define CA_CODE_TRIES     5

/* A fresh code and a fresh salt, NUL-terminated; sodium_init() has run. */
void ca_code_generate(char code[CA_CODE_DIGITS + 1]);
void ca_code_salt(char salt[CA_CODE_SALT_LEN + 1]);

/*
 * The hex hash of a code as typed (spaces and hyphens between digits are
 * dropped: "1234 5678", "1234-5678").  -1: not 8 digits, or a salt that is
 * not CA_CODE_SALT_LEN hex digits.
 */
int ca_code_hash(const char *salt, size_t salt_len, const char *code,
    size_t len, char hash[CA_CODE_HASH_LEN + 1]);

/*
 * 1: code hashes to stored (compared in constant time); 0: it does not;
 * -1: malformed code, salt or stored hash.
 */
int ca_code_check(const char *salt, size_t salt_len, const char *stored,
    size_t stored_len, const char *code, size_t len);


/*
 * A pending e-mail change, as its record says: its deadline for the code
 * and the link, when the new address was verified, whether the code was
 * confirmed, and, with a grace time, from when it applies without the code.
 */
typedef struct {
    int64_t   expires;        /* ms: the code and the link work until then */
    int64_t   verified;       /* ms, 0: the new address is not verified */
    int64_t   due;            /* ms, 0: no grace time */
    int       confirmed;      /* the code was right */
    unsigned  tries;          /* wrong codes so far */
} ca_email_change_t;

typedef enum {
    CA_EC_WAITING = 0,        /* for the code, the link or the grace time */
    CA_EC_APPLY,              /* both done, or verified and due */
    CA_EC_DEAD                /* expired or out of tries: as if none */
} ca_ec_state_e;

ca_ec_state_e ca_email_change_state(const ca_email_change_t *ec,
    int64_t now);

#endif /* CA_CODE_H */

/*
 * What the libFuzzer targets share: a property check that stops the run
 * with a message, and reference checks written independently of the
 * library (a second opinion, not the code under test called twice).
 */

#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define FUZZ_CHECK(cond)                                                      \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "property violated: %s (%s:%d)\n", #cond,         \
                    __FILE__, __LINE__);                                      \
            abort();                                                          \
        }                                                                     \
    } while (0)


/* Whether [p, p + len) lies within [base, base + size). */

static inline int
fuzz_within(const void *p, size_t len, const void *base, size_t size)
{
    const char  *s = p, *b = base;

    return s >= b && len <= size && (size_t) (s - b) <= size - len;
}


/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
 * U+10FFFF.  Decodes into cps (room for len code points) when not NULL;
 * returns the number of code points or -1.
 */

static inline long
fuzz_utf8(const unsigned char *s, size_t len, uint32_t *cps)
{
    long      n;
    size_t    i, k, need;
    uint32_t  c;

    n = 0;

    for (i = 0; i < len; i += need) {
        c = s[i];

        if (c < 0x80) {
            need = 1;

        } else if ((c & 0xe0) == 0xc0) {
            need = 2;
            c &= 0x1f;

        } else if ((c & 0xf0) == 0xe0) {
            need = 3;
            c &= 0x0f;

        } else if ((c & 0xf8) == 0xf0) {
            need = 4;
            c &= 0x07;

        } else {
            return -1;
        }

        if (len - i < need) {
            return -1;
        }

        for (k = 1; k < need; k++) {
            if ((s[i + k] & 0xc0) != 0x80) {
                return -1;
            }

            c = (c << 6) | (s[i + k] & 0x3f);
        }

        if ((need == 2 && c < 0x80) || (need == 3 && c < 0x800)
            || (need == 4 && c < 0x10000) || c > 0x10ffff
            || (c >= 0xd800 && c <= 0xdfff))
        {
            return -1;
        }

        if (cps != NULL) {
            cps[n] = c;
        }

        n++;
    }

    return n;
}


/* 1 to max ASCII digits: the account and user ids. */

static inline int
fuzz_digits(const char *s, size_t len, size_t max)
{
    size_t  i;

    if (len < 1 || len > max) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return 0;
        }
    }

    return 1;
}


/* A copy of the input in a buffer of exactly len bytes (plus extra). */

static inline char *
fuzz_dup(const uint8_t *data, size_t len, size_t extra)
{
    char  *p;

    p = malloc(len + extra ? len + extra : 1);
    FUZZ_CHECK(p != NULL);
    memcpy(p, data, len);

    return p;
}

/*
 * hiredis 0.14 allocates an array's element table as soon as it reads its
 * length (no maxelements yet): inputs that declare huge lengths would test
 * calloc(), not the check.
 */

static inline int
fuzz_declares_huge_lengths(const uint8_t *data, size_t size)
{
    size_t    i;
    uint64_t  n;

    for (i = 0; i < size; i++) {
        if (data[i] != '*' && data[i] != '$') {
            continue;
        }

        for (n = 0; i + 1 < size && data[i + 1] >= '0' && data[i + 1] <= '9';
             i++)
        {
            n = n * 10 + (data[i + 1] - '0');

            if (n > 100000) {
                return 1;
            }
        }
    }

    return 0;
}


#endif /* FUZZ_COMMON_H */

#include <string.h>

#include "ca_perms.h"


static int ca_perm_is_valid(const char *name, size_t len);
static int ca_perm_insert(ca_perms_t *perms, const char *name, size_t len);


int
ca_perms_parse(ca_perms_t *perms, const char *list, size_t len, int sep)
{
    size_t       n;
    const char  *p, *next, *last;

    p = list;
    last = list + len;

    for ( ;; ) {
        next = memchr(p, sep, last - p);
        n = next ? (size_t) (next - p) : (size_t) (last - p);

        if (!ca_perm_is_valid(p, n)) {
            return -1;
        }

        if (ca_perm_insert(perms, p, n) != 0) {
            return -2;
        }

        if (next == NULL) {
            return 0;
        }

        p = next + 1;
    }
}


static int
ca_perm_is_valid(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len >= CA_PERM_LEN) {
        return 0;
    }

    for (i = 0; i < len; i++) {
        if (!((name[i] >= 'a' && name[i] <= 'z')
              || (name[i] >= '0' && name[i] <= '9') || name[i] == '_'))
        {
            return 0;
        }
    }

    return 1;
}


static int
ca_perm_insert(ca_perms_t *perms, const char *name, size_t len)
{
    int   i, cmp;
    char  perm[CA_PERM_LEN];

    memcpy(perm, name, len);
    perm[len] = '\0';

    for (i = 0; i < perms->n; i++) {
        cmp = strcmp(perm, perms->names[i]);

        if (cmp == 0) {
            return 0;
        }

        if (cmp < 0) {
            break;
        }
    }

    if (perms->n == CA_PERMS_N) {
        return -1;
    }

    memmove(perms->names[i + 1], perms->names[i],
            (perms->n - i) * sizeof(perms->names[0]));
    memcpy(perms->names[i], perm, sizeof(perm));
    perms->n++;

    return 0;
}


size_t
ca_perms_format(const ca_perms_t *perms, char buf[CA_PERMS_MAX])
{
    int     i;
    size_t  len, n;

    len = 0;
    buf[0] = '\0';

    for (i = 0; i < perms->n; i++) {
        if (strcmp(perms->names[i], "all") == 0) {
            strcpy(buf, "all");
            return 3;
        }
    }

    for (i = 0; i < perms->n; i++) {
        n = strlen(perms->names[i]);

        if (len) {
            buf[len++] = ',';
        }

        memcpy(buf + len, perms->names[i], n + 1);
        len += n;
    }

    return len;
}


int
ca_perms_held(const char *held, size_t len, const char *perm)
{
    size_t       plen, n;
    const char  *p, *comma, *last;

    plen = strlen(perm);
    last = held + len;

    for (p = held; p < last; p = comma + 1) {
        comma = memchr(p, ',', last - p);
        if (comma == NULL) {
            comma = last;
        }

        n = comma - p;

        if ((n == 3 && memcmp(p, "all", 3) == 0)
            || (n == plen && memcmp(p, perm, n) == 0))
        {
            return 1;
        }
    }

    return 0;
}


int
ca_perms_covers(const char *held, size_t len, const ca_perms_t *perms)
{
    int  i;

    for (i = 0; i < perms->n; i++) {
        if (!ca_perms_held(held, len, perms->names[i])) {
            return 0;
        }
    }

    return 1;
}

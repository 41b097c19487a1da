/*
 * Permissions as the module reads them: one comma-separated, sorted list of
 * unique names of [a-z0-9_]{1,32}; "all" grants everything and stands alone.
 */

#include <string.h>

#include "ctl.h"


_Static_assert(CTL_PERMS_N * CTL_PERM_LEN <= CTL_PERMS_MAX,
               "a full permission list fits in CTL_PERMS_MAX");

static int ctl_perm_is_valid(const char *name, size_t len);
static int ctl_perm_insert(ctl_perms_t *perms, const char *name, size_t len);


/* One --perm value: a name or a comma-separated list of them. */

int
ctl_perms_add(ctl_perms_t *perms, const char *usage_of, const char *list)
{
    switch (ctl_perms_parse(perms, list, ',')) {

    case CTL_OK:
        return CTL_OK;

    case CTL_USAGE:
        return ctl_usage_error(usage_of, "invalid --perm: %s (names of"
                               " 1-32 of a-z, 0-9, '_', comma-separated)",
                               list);

    default:
        return ctl_usage_error(usage_of, "more than %d permissions",
                               CTL_PERMS_N);
    }
}


/*
 * Adds the names of list, separated by sep (a CSV cell uses ';'), and
 * prints nothing: CTL_USAGE for an invalid name or an empty one, CTL_FAIL
 * for more than CTL_PERMS_N in all.
 */

int
ctl_perms_parse(ctl_perms_t *perms, const char *list, int sep)
{
    size_t       len;
    const char  *p, *next;

    p = list;

    for ( ;; ) {
        next = strchr(p, sep);
        len = next ? (size_t) (next - p) : strlen(p);

        if (!ctl_perm_is_valid(p, len)) {
            return CTL_USAGE;
        }

        if (ctl_perm_insert(perms, p, len) != CTL_OK) {
            return CTL_FAIL;
        }

        if (next == NULL) {
            return CTL_OK;
        }

        p = next + 1;
    }
}


static int
ctl_perm_is_valid(const char *name, size_t len)
{
    size_t  i;

    if (len == 0 || len >= CTL_PERM_LEN) {
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
ctl_perm_insert(ctl_perms_t *perms, const char *name, size_t len)
{
    int   i, cmp;
    char  perm[CTL_PERM_LEN];

    memcpy(perm, name, len);
    perm[len] = '\0';

    for (i = 0; i < perms->n; i++) {
        cmp = strcmp(perm, perms->names[i]);

        if (cmp == 0) {
            return CTL_OK;
        }

        if (cmp < 0) {
            break;
        }
    }

    if (perms->n == CTL_PERMS_N) {
        return CTL_FAIL;
    }

    memmove(perms->names[i + 1], perms->names[i],
            (perms->n - i) * sizeof(perms->names[0]));
    memcpy(perms->names[i], perm, sizeof(perm));
    perms->n++;

    return CTL_OK;
}


void
ctl_perms_format(const ctl_perms_t *perms, char buf[CTL_PERMS_MAX])
{
    int     i;
    size_t  len, n;

    len = 0;
    buf[0] = '\0';

    for (i = 0; i < perms->n; i++) {
        if (strcmp(perms->names[i], "all") == 0) {
            strcpy(buf, "all");
            return;
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
}

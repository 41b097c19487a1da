/*
 * Permissions as the module reads them (lib/ca_perms.c): --perm values and
 * CSV cells.
 */

#include <string.h>

#include "ctl.h"


_Static_assert(CA_PERMS_MAX <= CTL_PERMS_MAX,
               "a full permission list fits in CTL_PERMS_MAX");



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
    switch (ca_perms_parse(perms, list, strlen(list), sep)) {

    case 0:
        return CTL_OK;

    case -1:
        return CTL_USAGE;

    default:
        return CTL_FAIL;
    }
}


void
ctl_perms_format(const ctl_perms_t *perms, char buf[CTL_PERMS_MAX])
{
    (void) ca_perms_format(perms, buf);
}

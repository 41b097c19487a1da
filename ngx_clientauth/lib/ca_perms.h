/*
 * Permissions as the module and clientauthctl read them: one
 * comma-separated, sorted list of unique names of [a-z0-9_]{1,32}; "all"
 * grants everything and stands alone.  nginx-free.
 */

#ifndef CA_PERMS_H
#define CA_PERMS_H

#include <stddef.h>

#define CA_PERM_LEN   33              /* [a-z0-9_]{1,32} and the NUL */
#define CA_PERMS_N    30
#define CA_PERMS_MAX  (CA_PERMS_N * CA_PERM_LEN)    /* a formatted list */

typedef struct {
    char  names[CA_PERMS_N][CA_PERM_LEN];
    int   n;
} ca_perms_t;

/*
 * Adds the names of list (len bytes), separated by sep.  0, -1 for an
 * invalid or empty name, -2 for more than CA_PERMS_N in all.
 */
int ca_perms_parse(ca_perms_t *perms, const char *list, size_t len, int sep);

/* "all" alone if it is among them, else the sorted list; its length. */
size_t ca_perms_format(const ca_perms_t *perms, char buf[CA_PERMS_MAX]);

/* Whether the list held (len bytes, as stored) grants perm. */
int ca_perms_held(const char *held, size_t len, const char *perm);

/* Whether held grants every permission of perms. */
int ca_perms_covers(const char *held, size_t len, const ca_perms_t *perms);

#endif /* CA_PERMS_H */

/* The shipped list of common passwords (see ca_policy.h).  nginx-free. */

#ifndef CA_BLOCKLIST_H
#define CA_BLOCKLIST_H

#include <stddef.h>

extern const char *const  ca_blocklist[];
extern const size_t       ca_blocklist_size;

#endif /* CA_BLOCKLIST_H */

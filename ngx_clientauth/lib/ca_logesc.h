/*
 * Client-controlled text made safe for a log line.  nginx-free.
 *
 * Printable ASCII is kept, except '\' and '"' (so that a value between
 * quotes cannot close them, and an escape is always ours); every other
 * byte, line breaks and control characters included, becomes \xNN.  At most
 * CA_LOGESC_MAX bytes of the input are shown, followed by "..." when there
 * were more, so one request cannot flood the log.
 */

#ifndef CA_LOGESC_H
#define CA_LOGESC_H

#include <stddef.h>

#define CA_LOGESC_MAX   128
#define CA_LOGESC_SIZE  (CA_LOGESC_MAX * 4 + sizeof("..."))

/*
 * Writes the escaped form of (src, len) to dst, NUL-terminated, and returns
 * its length.  size is that of dst: CA_LOGESC_SIZE holds any input; a
 * smaller dst holds fewer input bytes (never half an escape).
 */
size_t ca_logesc(char *dst, size_t size, const char *src, size_t len);

#endif /* CA_LOGESC_H */

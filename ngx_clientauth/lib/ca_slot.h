/*
 * Redis Cluster's hash slot of a key: CRC16 (XMODEM: polynomial 0x1021,
 * initial value 0) of the key, or of its hash tag, modulo 16384.  The tag is
 * what lies between the first '{' and the first '}' after it, when that is
 * not empty.  nginx-free: for the unit tests that check that every key of an
 * account falls in one slot, and for tools that plan a cluster.
 */

#ifndef CA_SLOT_H
#define CA_SLOT_H

#include <stddef.h>

#define CA_SLOTS  16384

unsigned ca_slot(const char *key, size_t len);

#endif /* CA_SLOT_H */

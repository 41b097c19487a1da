/*
 * What the reply to a Redis command must look like, and the check that a
 * reply does.  nginx-free: the bridge checks every reply a request waits
 * for before a flow sees it, so that an error, a reply of another type, a
 * nil where Redis never sends one or an array of the wrong length fails
 * the request closed instead of being read as a count of 0 or a missing
 * key.
 *
 * A command queued inside MULTI answers +QUEUED; EXEC answers one reply per
 * queued command, each checked as that command's, or nil when a WATCH of
 * the same batch aborted it (a WATCH must go in the same call as its
 * MULTI: the connection is shared by every request of the worker).
 */

#ifndef CA_REPLY_SHAPE_H
#define CA_REPLY_SHAPE_H

#include <stddef.h>

#include <hiredis/hiredis.h>

typedef enum {
    CA_REPLY_ANY = 0,           /* anything but an error */
    CA_REPLY_INTEGER,
    CA_REPLY_STATUS,
    CA_REPLY_SET,               /* SET NX / XX: +OK or nil */
    CA_REPLY_BULK,              /* a string, or nil */
    CA_REPLY_STRINGS,           /* an array of strings */
    CA_REPLY_FIELDS,            /* n strings or nils (HMGET, MGET) */
    CA_REPLY_EXEC               /* n replies, or nil after a WATCH */
} ca_reply_kind_t;

typedef struct {
    unsigned char   kind;
    unsigned char   command;    /* MULTI, EXEC, WATCH, DISCARD or other */
    unsigned char   queued;     /* inside MULTI: +QUEUED comes first */
    unsigned char   watch;      /* EXEC: a WATCH may abort it (nil) */
    unsigned int    n;          /* FIELDS, EXEC: how many replies */
} ca_reply_expect_t;

/* One command: argc arguments, argv[0] its name. */
void ca_reply_expect(ca_reply_expect_t *e, int argc,
    const char *const *argv, const size_t *argvlen);

/*
 * A batch of n commands: marks what MULTI queues, sizes each EXEC.  watched:
 * the batch goes on a connection that may hold a WATCH from an earlier call
 * (a dedicated transaction connection), so its EXEC may answer nil too.
 */
void ca_reply_expect_batch(ca_reply_expect_t *e, size_t n, int watched);

/*
 * 1 if e is a WAIT outside MULTI: its reply is how many replicas have the
 * writes before it, which the bridge reads itself (a write on the primary
 * stands whatever the replicas say), not the flow.
 */
int ca_reply_is_wait(const ca_reply_expect_t *e);

/*
 * 0 if reply i of the batch is what its command answers, else -1.  e is
 * the whole batch's expectations (EXEC checks its elements against those
 * of the commands it ran).
 */
int ca_reply_check(const redisReply *reply, const ca_reply_expect_t *e,
    size_t i);

#endif /* CA_REPLY_SHAPE_H */

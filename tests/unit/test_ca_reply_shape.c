/*
 * ca_reply: the shapes the bridge accepts from Redis, per command, and
 * MULTI / EXEC batches.  Replies are parsed from RESP by hiredis's reader.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_reply_shape.h"


#define MAXCMDS  8


typedef struct {
    ca_reply_expect_t  e[MAXCMDS];
    size_t             n;
    int                watched;    /* a WATCH of an earlier call */
} batch_t;


/* A batch from space-separated commands, "|" between commands. */
static void
batch(batch_t *b, const char *text)
{
    char         buf[512], *cmd, *save, *word, *save2;
    const char  *argv[16];
    size_t       argvlen[16];
    int          argc;

    strncpy(buf, text, sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    b->n = 0;

    for (cmd = strtok_r(buf, "|", &save); cmd;
         cmd = strtok_r(NULL, "|", &save))
    {
        argc = 0;

        for (word = strtok_r(cmd, " ", &save2); word;
             word = strtok_r(NULL, " ", &save2))
        {
            argv[argc] = word;
            argvlen[argc++] = strlen(word);
        }

        ca_reply_expect(&b->e[b->n++], argc, argv, argvlen);
    }

    ca_reply_expect_batch(b->e, b->n, b->watched);
}


/* 0 or -1: reply i of the batch, given in RESP. */
static int
check(batch_t *b, size_t i, const char *resp)
{
    int           rc;
    void         *reply;
    redisReader  *reader;

    reader = redisReaderCreate();
    assert_non_null(reader);
    assert_int_equal(redisReaderFeed(reader, resp, strlen(resp)), REDIS_OK);
    assert_int_equal(redisReaderGetReply(reader, &reply), REDIS_OK);
    assert_non_null(reply);

    rc = ca_reply_check(reply, b->e, i);

    freeReplyObject(reply);
    redisReaderFree(reader);

    return rc;
}


static void
test_errors_always_fail(void **state)
{
    batch_t  b = { .watched = 0 };

    batch(&b, "GET k|INCR k|HMGET k a b|SET k v NX PX 10|PING|FOO bar");

    for (size_t i = 0; i < b.n; i++) {
        assert_int_equal(check(&b, i, "-ERR no\r\n"), -1);
        assert_int_equal(check(&b, i, "-LOADING wait\r\n"), -1);
    }

    assert_int_equal(check(&b, 5, "+OK\r\n"), 0);      /* unknown: any */
    assert_int_equal(ca_reply_check(NULL, b.e, 0), -1);
}


static void
test_integers_strings_and_nils(void **state)
{
    batch_t  b = { .watched = 0 };

    batch(&b, "INCR k|GET k|PTTL k|HGET k f");

    assert_int_equal(check(&b, 0, ":3\r\n"), 0);
    assert_int_equal(check(&b, 0, "$1\r\n3\r\n"), -1);
    assert_int_equal(check(&b, 0, "$-1\r\n"), -1);
    assert_int_equal(check(&b, 0, "*-1\r\n"), -1);
    assert_int_equal(check(&b, 1, "$2\r\n42\r\n"), 0);
    assert_int_equal(check(&b, 1, "$-1\r\n"), 0);
    assert_int_equal(check(&b, 1, ":42\r\n"), -1);
    assert_int_equal(check(&b, 1, "*1\r\n:1\r\n"), -1);
    assert_int_equal(check(&b, 2, ":-2\r\n"), 0);
    assert_int_equal(check(&b, 3, "+OK\r\n"), -1);

    batch(&b, "incr k|hmget k a");                      /* any case */
    assert_int_equal(check(&b, 0, "$1\r\n3\r\n"), -1);
    assert_int_equal(check(&b, 1, "*1\r\n$-1\r\n"), 0);
    assert_int_equal(check(&b, 1, "*2\r\n$-1\r\n$-1\r\n"), -1);
}


static void
test_hmget_has_one_reply_per_field(void **state)
{
    batch_t  b = { .watched = 0 };

    batch(&b, "HMGET k a b c|SMEMBERS s");

    assert_int_equal(check(&b, 0, "*3\r\n$1\r\nx\r\n$-1\r\n$1\r\nz\r\n"), 0);
    assert_int_equal(check(&b, 0, "*2\r\n$1\r\nx\r\n$-1\r\n"), -1);
    assert_int_equal(check(&b, 0, "*4\r\n$-1\r\n$-1\r\n$-1\r\n$-1\r\n"), -1);
    assert_int_equal(check(&b, 0, "*3\r\n:1\r\n$-1\r\n$-1\r\n"), -1);
    assert_int_equal(check(&b, 0, "*-1\r\n"), -1);
    assert_int_equal(check(&b, 0, ":1\r\n"), -1);
    assert_int_equal(check(&b, 1, "*0\r\n"), 0);
    assert_int_equal(check(&b, 1, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"), 0);
    assert_int_equal(check(&b, 1, "*1\r\n$-1\r\n"), -1);
}


static void
test_set_nx_may_answer_nil(void **state)
{
    batch_t  b = { .watched = 0 };

    batch(&b, "SET k v NX PX 100|SET k v PX 100");

    assert_int_equal(check(&b, 0, "+OK\r\n"), 0);
    assert_int_equal(check(&b, 0, "$-1\r\n"), 0);
    assert_int_equal(check(&b, 0, ":1\r\n"), -1);
    assert_int_equal(check(&b, 0, "+QUEUED\r\n"), -1);
    assert_int_equal(check(&b, 1, "+OK\r\n"), 0);
    assert_int_equal(check(&b, 1, "$-1\r\n"), -1);
}


static void
test_exec_answers_each_queued_command(void **state)
{
    batch_t  b = { .watched = 0 };

    batch(&b, "MULTI|HMGET u a b|HSET s a 1|SET c 1 NX|EXEC");

    assert_int_equal(check(&b, 0, "+OK\r\n"), 0);
    assert_int_equal(check(&b, 1, "+QUEUED\r\n"), 0);
    assert_int_equal(check(&b, 1, "*2\r\n$-1\r\n$-1\r\n"), -1);
    assert_int_equal(check(&b, 2, "+QUEUED\r\n"), 0);
    assert_int_equal(check(&b, 2, ":1\r\n"), -1);
    assert_int_equal(check(&b, 3, "-OOM full\r\n"), -1);

    assert_int_equal(check(&b, 4, "*3\r\n*2\r\n$1\r\nh\r\n$-1\r\n"
                                  ":1\r\n+OK\r\n"), 0);
    assert_int_equal(check(&b, 4, "*3\r\n*2\r\n$1\r\nh\r\n$-1\r\n"
                                  ":1\r\n$-1\r\n"), 0);
    /* short, long, wrong elements, a runtime error, nil, another type */
    assert_int_equal(check(&b, 4, "*2\r\n*2\r\n$1\r\nh\r\n$-1\r\n:1\r\n"), -1);
    assert_int_equal(check(&b, 4, "*4\r\n*2\r\n$1\r\nh\r\n$-1\r\n:1\r\n+OK\r\n"
                                  ":1\r\n"), -1);
    assert_int_equal(check(&b, 4, "*3\r\n+OK\r\n+OK\r\n+OK\r\n"), -1);
    assert_int_equal(check(&b, 4, "*3\r\n*2\r\n$1\r\nh\r\n$-1\r\n"
                                  "-WRONGTYPE x\r\n+OK\r\n"), -1);
    assert_int_equal(check(&b, 4, "*-1\r\n"), -1);
    assert_int_equal(check(&b, 4, ":3\r\n"), -1);
    assert_int_equal(check(&b, 4, "-EXECABORT discarded\r\n"), -1);
}


static void
test_exec_may_be_nil_after_a_watch(void **state)
{
    batch_t  b = { .watched = 0 };

    batch(&b, "WATCH k|MULTI|DEL k|EXEC|GET k");

    assert_int_equal(check(&b, 0, "+OK\r\n"), 0);
    assert_int_equal(check(&b, 3, "*-1\r\n"), 0);
    assert_int_equal(check(&b, 3, "*1\r\n:1\r\n"), 0);
    assert_int_equal(check(&b, 4, "$-1\r\n"), 0);       /* not queued */
}


/* A dedicated connection: WATCH went in the call before this MULTI. */
static void
test_exec_may_be_nil_on_a_watched_connection(void **state)
{
    batch_t  b = { .watched = 0 };

    b.watched = 0;
    batch(&b, "MULTI|HSET u hash h|EXEC");
    assert_int_equal(check(&b, 2, "*-1\r\n"), -1);

    b.watched = 1;
    batch(&b, "MULTI|HSET u hash h|EXEC");
    assert_int_equal(check(&b, 1, "+QUEUED\r\n"), 0);
    assert_int_equal(check(&b, 2, "*-1\r\n"), 0);
    assert_int_equal(check(&b, 2, "*1\r\n:0\r\n"), 0);
    assert_int_equal(check(&b, 2, "*1\r\n$1\r\nx\r\n"), -1);
}


/* durable writes: the bridge reads a WAIT's reply, a queued one is EXEC's */
static void
test_wait_after_exec_is_the_bridges(void **state)
{
    batch_t  b = { .watched = 1 };

    batch(&b, "MULTI|DEL s|EXEC|WAIT 1 250");

    assert_false(ca_reply_is_wait(&b.e[0]));
    assert_false(ca_reply_is_wait(&b.e[2]));
    assert_true(ca_reply_is_wait(&b.e[3]));
    assert_int_equal(check(&b, 3, ":1\r\n"), 0);
    assert_int_equal(check(&b, 3, ":0\r\n"), 0);
    assert_int_equal(check(&b, 3, "$1\r\n1\r\n"), -1);

    batch(&b, "MULTI|WAIT 1 250|EXEC");
    assert_false(ca_reply_is_wait(&b.e[1]));

    batch(&b, "HMGET s a|HMGET u sgen");
    assert_false(ca_reply_is_wait(&b.e[0]));
    assert_false(ca_reply_is_wait(&b.e[1]));
}


int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors_always_fail),
        cmocka_unit_test(test_integers_strings_and_nils),
        cmocka_unit_test(test_hmget_has_one_reply_per_field),
        cmocka_unit_test(test_set_nx_may_answer_nil),
        cmocka_unit_test(test_exec_answers_each_queued_command),
        cmocka_unit_test(test_exec_may_be_nil_after_a_watch),
        cmocka_unit_test(test_exec_may_be_nil_on_a_watched_connection),
        cmocka_unit_test(test_wait_after_exec_is_the_bridges),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}

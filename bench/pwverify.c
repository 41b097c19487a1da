/*
 * pwverify: the ceiling of login throughput, the raw argon2id verify rate.
 *
 * Makes one argon2id hash of PASSWORD with libsodium (the cost the gateway
 * uses), then runs THREADS threads that call crypto_pwhash_str_verify() on it
 * in a loop for SECONDS, as the gateway's thread pool does at each login.
 * Every verify must succeed.  Prints one JSON line:
 *
 *   {"threads":2,"verifies":N,"seconds":S,"per_sec":R,"t":2,"m_mib":19}
 *
 * per_sec is the sum over threads of verifies / the thread's own elapsed
 * time (a thread finishes the verify it started when the time is up).
 *
 *   pwverify THREADS SECONDS [T M_MIB [PASSWORD]]
 */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>


typedef struct {
    pthread_t      tid;
    unsigned long  verifies;
    double         elapsed;
    int            failed;
} pv_thread_t;


static char         pv_hash[crypto_pwhash_STRBYTES];
static const char  *pv_password = "Pass-word1";
static double       pv_seconds;


static double
pv_now(void)
{
    struct timespec  ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);

    return ts.tv_sec + ts.tv_nsec / 1e9;
}


static void *
pv_run(void *arg)
{
    double        start, now;
    pv_thread_t  *t = arg;

    start = pv_now();

    do {
        if (crypto_pwhash_str_verify(pv_hash, pv_password,
                                     strlen(pv_password))
            != 0)
        {
            t->failed = 1;
            break;
        }

        t->verifies++;
        now = pv_now();

    } while (now - start < pv_seconds);

    t->elapsed = pv_now() - start;

    return NULL;
}


int
main(int argc, char **argv)
{
    int                  i, nthreads, failed = 0;
    unsigned long        total = 0;
    unsigned long long   t = 2;
    size_t               m_mib = 19;
    double               rate = 0, elapsed = 0;
    pv_thread_t         *threads;

    if (argc < 3 || argc > 6) {
        fprintf(stderr,
                "usage: pwverify THREADS SECONDS [T M_MIB [PASSWORD]]\n");
        return 2;
    }

    nthreads = atoi(argv[1]);
    pv_seconds = atof(argv[2]);

    if (argc >= 5) {
        t = strtoull(argv[3], NULL, 10);
        m_mib = strtoul(argv[4], NULL, 10);
    }

    if (argc == 6) {
        pv_password = argv[5];
    }

    if (nthreads < 1 || nthreads > 256 || pv_seconds <= 0 || t < 1
        || m_mib < 1)
    {
        fprintf(stderr, "pwverify: bad arguments\n");
        return 2;
    }

    if (sodium_init() < 0
        || crypto_pwhash_str(pv_hash, pv_password, strlen(pv_password), t,
                             m_mib * 1024 * 1024)
           != 0)
    {
        fprintf(stderr, "pwverify: cannot make the argon2id hash\n");
        return 1;
    }

    threads = calloc(nthreads, sizeof(pv_thread_t));
    if (threads == NULL) {
        return 1;
    }

    for (i = 0; i < nthreads; i++) {
        if (pthread_create(&threads[i].tid, NULL, pv_run, &threads[i]) != 0) {
            fprintf(stderr, "pwverify: pthread_create failed\n");
            return 1;
        }
    }

    for (i = 0; i < nthreads; i++) {
        pthread_join(threads[i].tid, NULL);
        total += threads[i].verifies;
        failed |= threads[i].failed;

        if (threads[i].elapsed > 0) {
            rate += threads[i].verifies / threads[i].elapsed;
        }

        if (threads[i].elapsed > elapsed) {
            elapsed = threads[i].elapsed;
        }
    }

    if (failed) {
        fprintf(stderr, "pwverify: a verify failed\n");
        return 1;
    }

    printf("{\"threads\":%d,\"verifies\":%lu,\"seconds\":%.3f,"
           "\"per_sec\":%.2f,\"t\":%llu,\"m_mib\":%zu}\n",
           nthreads, total, elapsed, rate, t, m_mib);

    return 0;
}

/*
 * Passwords: read as one line of standard input (never argv, which any
 * local user can see in ps), hashed with argon2id at the configured cost,
 * wiped from memory right after.
 */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>
#include <sodium.h>

#include "ctl.h"


#define CTL_T_MAX      100
#define CTL_M_MIB_MAX  4096           /* catches a cost given in bytes */


static int ctl_password_read(char *buf, size_t size, size_t *len);
static int ctl_password_read_line(char *buf, size_t size, size_t *len);


/* "T:MIB", as "2:19" for t=2 and m=19 MiB. */

int
ctl_parse_hash_cost(const char *text, ca_pwhash_cost_t *cost)
{
    char           *end;
    unsigned long   t, m;

    if (text[0] < '0' || text[0] > '9') {
        return -1;
    }

    t = strtoul(text, &end, 10);
    if (*end != ':' || end[1] < '0' || end[1] > '9') {
        return -1;
    }

    m = strtoul(end + 1, &end, 10);
    if (*end != '\0') {
        return -1;
    }

    if (t < 1 || t > CTL_T_MAX || m < 1 || m > CTL_M_MIB_MAX) {
        return -1;
    }

    cost->opslimit = t;
    cost->memlimit = (size_t) m * 1024 * 1024;

    return 0;
}


int
ctl_password_read_hash(ctl_t *ctl, char hash[CA_PWHASH_MAX])
{
    int     rc;
    char    password[CTL_PASSWORD_MAX + 1];
    size_t  len;

    len = 0;
    rc = ctl_password_read(password, sizeof(password), &len);

    if (rc == CTL_OK && ca_pwhash_hash(password, len, &ctl->cost, hash) != 0)
    {
        rc = ctl_error("cannot hash the password (not enough memory for"
                       " m=%zu MiB?)", ctl->cost.memlimit / (1024 * 1024));
    }

    sodium_memzero(password, sizeof(password));

    return rc;
}


/* On a terminal, asks for it without echo. */

static int
ctl_password_read(char *buf, size_t size, size_t *len)
{
    int             rc, tty;
    struct termios  saved, quiet;

    tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;

    if (tty) {
        quiet = saved;
        quiet.c_lflag &= ~(ECHO | ECHONL);
        fputs("password: ", stderr);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }

    rc = ctl_password_read_line(buf, size, len);

    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
        fputc('\n', stderr);
    }

    return rc;
}


/*
 * One line, byte by byte with read(2): stdio would keep a copy of the
 * password in its buffer, and would read past the line.  The trailing "\n"
 * and any "\r" before it are dropped.
 */

static int
ctl_password_read_line(char *buf, size_t size, size_t *len)
{
    char     ch;
    size_t   n;
    ssize_t  got;

    n = 0;

    for ( ;; ) {
        got = read(STDIN_FILENO, &ch, 1);

        if (got < 0 && errno == EINTR) {
            continue;
        }

        if (got < 0) {
            return ctl_error("cannot read the password from standard input:"
                             " %s", strerror(errno));
        }

        if (got == 0 || ch == '\n') {
            break;
        }

        if (ch == '\0') {
            return ctl_error("the password contains a NUL byte");
        }

        if (n == size - 1) {
            return ctl_error("the password is longer than %d bytes",
                             CTL_PASSWORD_MAX);
        }

        buf[n++] = ch;
    }

    while (n > 0 && buf[n - 1] == '\r') {
        n--;
    }

    if (n == 0) {
        return ctl_error("empty password on standard input");
    }

    buf[n] = '\0';
    *len = n;

    return CTL_OK;
}

/*
 * user import: a portal's export, one user a CSV line, added in file order
 * through the add of "user add" (ctl_add_check, ctl_add_commit): each line
 * is one transaction, all of it or nothing.  A bad line is reported with
 * its line number and the import goes on; only a broken Redis connection
 * stops it.  The format is in ctl_import_usage.
 */

#define _GNU_SOURCE                   /* tdestroy() */

#include <errno.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ctl.h"
#include "ca_csv.h"


#define CTL_IMPORT_MAX   (256 * 1024 * 1024)      /* bytes of CSV */
#define CTL_IMPORT_READ  (64 * 1024)
#define CTL_COL_HASH     CTL_ADD_NFIELDS          /* password_hash */
#define CTL_COL_N        (CTL_ADD_NFIELDS + 1)


enum {
    CTL_OPT_DRY_RUN = CTL_OPT_VERB
};

typedef struct {
    const char              *brand;
    const char              *file;
    const char              *phone_country;
    const ca_pwhash_cost_t  *cost;    /* --hash-cost: argon2id's bounds */
    unsigned                 dry_run:1;
    char                    *buf;
    size_t                   len;
    int                      cols[CA_CSV_MAX_FIELDS];  /* of each column */
    size_t                   ncols;
    void                    *claimed; /* dry run: keys of the lines passed */
    unsigned long            ok;
    unsigned long            failed;
} ctl_import_t;


static int ctl_import_option(ctl_args_t *args, ctl_target_t *target,
    int id, const char *value, void *data);
static int ctl_import_run(ctl_t *ctl, ctl_import_t *imp);
static int ctl_import_read(ctl_import_t *imp);
static int ctl_import_read_file(ctl_import_t *imp, FILE *f);
static int ctl_import_header(ctl_import_t *imp, ca_csv_t *csv);
static int ctl_import_column(ctl_import_t *imp, size_t i, const char *name);
static const char *ctl_import_column_name(int col);
static void ctl_import_lines(ctl_t *ctl, ctl_import_t *imp, ca_csv_t *csv);
static int ctl_import_line(ctl_t *ctl, ctl_import_t *imp,
    const ca_csv_record_t *rec, const char *label);
static int ctl_import_fields(ctl_import_t *imp, const ca_csv_record_t *rec,
    ctl_add_t *add);
static int ctl_import_perms(ctl_add_t *add, const char *value);
static int ctl_import_hash(ctl_import_t *imp, ctl_add_t *add,
    const char *value, size_t len);
static int ctl_import_commit(ctl_t *ctl, ctl_add_t *add, const char *label);
static int ctl_import_verify(ctl_t *ctl, ctl_import_t *imp, ctl_add_t *add,
    const char *label);
static int ctl_import_claim(ctl_import_t *imp, const ctl_add_t *add);
static int ctl_import_cmp(const void *a, const void *b);


static const ctl_opt_t  ctl_import_opts[] = {
    { "dry-run",        CTL_ARG_NONE,  CTL_OPT_DRY_RUN },
    { "phone-country",  CTL_ARG_VALUE, CTL_OPT_PHONE_COUNTRY },
    { NULL, CTL_ARG_NONE, 0 }
};

static const char  ctl_import_usage[] =
    "usage:\n"
    CTL_SYNOPSIS_USER_IMPORT
    "\n"
    "Adds the users of a portal's export, a CSV file (RFC 4180; \"-\" reads\n"
    "standard input), line by line in file order, and prints what it did\n"
    "with each (\"line 3: created account 12 user 40 (ana@example.com)\").\n"
    "A bad line is reported with its number and changes nothing; the good\n"
    "ones are applied, each at once or not at all.\n"
    "\n"
    "The first line names the columns, in any order (case ignored):\n"
    "  email            the user's e-mail address (required)\n"
    "  customer_number  account identifiers of an owner line (optional)\n"
    "  nic\n"
    "  phone\n"
    "  domain\n"
    "  password_hash    bcrypt ($2y$, $2b$), sha512-crypt ($6$) or argon2id\n"
    "                   (quoted: it holds commas); empty: no password\n"
    "                   until a reset\n"
    "  perms            \"all\", or names separated by ';' as in\n"
    "                   \"billing;orders\"; empty: all for an owner, a\n"
    "                   sub-user needs some\n"
    "  parent           empty for an account's owner; for a sub-user, any\n"
    "                   identifier of its account, e.g. the owner's e-mail\n"
    "                   (an owner must come before its sub-users)\n"
    "  locale           language of the user's mail (empty: en)\n"
    "Other columns are refused.  Empty lines are skipped.\n"
    "\n"
    "  --dry-run              check every line, against Redis too, and\n"
    "                         write nothing\n"
    "  --phone-country CC     country calling code for national phone\n"
    "                         numbers in the file\n"
    "\n"
    "Exit status: 0 every line was imported, 1 some line failed (the others\n"
    "were imported) or the file could not be read, 2 bad command line.\n"
    "The global options (--redis, ...) are described by '" CTL_NAME
    " --help'.\n";


/* user import BRAND FILE.csv [--dry-run] */

int
ctl_user_import(ctl_t *ctl, int argc, char **argv)
{
    int           rc;
    ctl_args_t    args;
    ctl_target_t  target;
    ctl_import_t  imp;

    memset(&imp, 0, sizeof(imp));
    ctl_args_init(&args, argc, argv, "user import");
    args.operand = "FILE";

    rc = ctl_args_verb(ctl, &args, ctl_import_usage, ctl_import_opts,
                       ctl_import_option, &imp, &target);
    if (rc != CTL_OK || target.brand == NULL) {
        return rc;
    }

    imp.brand = target.brand;
    imp.file = target.identifier;
    imp.phone_country = target.phone_country;
    imp.cost = &ctl->cost;

    rc = ctl_import_run(ctl, &imp);

    free(imp.buf);
    tdestroy(imp.claimed, free);

    return rc;
}


static int
ctl_import_option(ctl_args_t *args, ctl_target_t *target, int id,
    const char *value, void *data)
{
    ctl_import_t  *imp = data;

    if (id != CTL_OPT_DRY_RUN) {
        return ctl_error("internal error: unhandled option %d", id);
    }

    imp->dry_run = 1;

    return CTL_OK;
}


static int
ctl_import_run(ctl_t *ctl, ctl_import_t *imp)
{
    int       rc;
    ca_csv_t  csv;

    rc = ctl_import_read(imp);
    if (rc != CTL_OK) {
        return rc;
    }

    ca_csv_init(&csv, imp->buf, imp->len);

    rc = ctl_import_header(imp, &csv);
    if (rc != CTL_OK) {
        return rc;
    }

    rc = ctl_redis_connect(ctl);
    if (rc != CTL_OK) {
        return rc;
    }

    ctl_import_lines(ctl, imp, &csv);

    if (!ctl_redis_usable(ctl)) {
        return ctl_error("import stopped: the redis connection failed, the"
                         " lines after the last one reported were not"
                         " processed");
    }

    if (imp->dry_run) {
        printf("dry run: %lu line(s) valid, %lu failed, nothing written\n",
               imp->ok, imp->failed);

    } else {
        printf("imported %lu line(s), %lu failed\n", imp->ok, imp->failed);
    }

    return imp->failed ? CTL_FAIL : CTL_OK;
}


/* The whole file, with the extra byte ca_csv wants. */

static int
ctl_import_read(ctl_import_t *imp)
{
    int    rc;
    FILE  *f;

    if (strcmp(imp->file, "-") == 0) {
        return ctl_import_read_file(imp, stdin);
    }

    f = fopen(imp->file, "rb");
    if (f == NULL) {
        return ctl_error("cannot open %s: %s", imp->file, strerror(errno));
    }

    rc = ctl_import_read_file(imp, f);
    fclose(f);

    return rc;
}


static int
ctl_import_read_file(ctl_import_t *imp, FILE *f)
{
    char    *buf;
    size_t   size, n;

    size = 0;

    for ( ;; ) {
        if (imp->len + 1 >= size) {
            if (size >= CTL_IMPORT_MAX) {
                return ctl_error("%s is larger than %d MiB: split it",
                                 imp->file, CTL_IMPORT_MAX / (1024 * 1024));
            }

            size = size ? size * 2 : CTL_IMPORT_READ;

            buf = realloc(imp->buf, size);
            if (buf == NULL) {
                return ctl_error("out of memory reading %s", imp->file);
            }

            imp->buf = buf;
        }

        n = fread(imp->buf + imp->len, 1, size - imp->len - 1, f);
        imp->len += n;

        if (n == 0) {
            break;
        }
    }

    if (ferror(f)) {
        return ctl_error("cannot read %s: %s", imp->file, strerror(errno));
    }

    return CTL_OK;
}


/* The first record names the columns: each known, once; email needed. */

static int
ctl_import_header(ctl_import_t *imp, ca_csv_t *csv)
{
    int              rc;
    size_t           i;
    ca_csv_record_t  rec;

    rc = ca_csv_next(csv, &rec);

    if (rc == CA_CSV_END) {
        return ctl_error("%s: no header line (email,...)", imp->file);
    }

    if (rc == CA_CSV_MALFORMED) {
        return ctl_error("%s: line %lu: malformed CSV header: %s", imp->file,
                         rec.first_line, rec.error);
    }

    for (i = 0; i < rec.nfields; i++) {
        rc = ctl_import_column(imp, i, rec.fields[i]);
        if (rc != CTL_OK) {
            return ctl_error("%s: line %lu: %s column \"%s\" (the columns"
                             " are email, customer_number, nic, phone,"
                             " domain, password_hash, perms, parent,"
                             " locale)", imp->file, rec.first_line,
                             rc == CTL_USAGE ? "repeated" : "unknown",
                             rec.fields[i]);
        }
    }

    imp->ncols = rec.nfields;

    for (i = 0; i < imp->ncols; i++) {
        if (imp->cols[i] == CTL_ADD_EMAIL) {
            return CTL_OK;
        }
    }

    return ctl_error("%s: line %lu: no email column", imp->file,
                     rec.first_line);
}


/* CTL_OK, CTL_FAIL for an unknown name, CTL_USAGE for a repeated one. */

static int
ctl_import_column(ctl_import_t *imp, size_t i, const char *name)
{
    int     col;
    size_t  j, len;

    while (*name == ' ') {
        name++;
    }

    for (len = strlen(name); len > 0 && name[len - 1] == ' '; len--) {
        /* void */
    }

    for (col = 0; col < CTL_COL_N; col++) {
        if (strlen(ctl_import_column_name(col)) == len
            && strncasecmp(name, ctl_import_column_name(col), len) == 0)
        {
            break;
        }
    }

    if (col == CTL_COL_N) {
        return CTL_FAIL;
    }

    for (j = 0; j < i; j++) {
        if (imp->cols[j] == col) {
            return CTL_USAGE;
        }
    }

    imp->cols[i] = col;

    return CTL_OK;
}


/* The columns are the CSV names of user add's fields, and one more. */

static const char *
ctl_import_column_name(int col)
{
    return col == CTL_COL_HASH ? "password_hash" : ctl_add_column(col);
}


/* Each record, in file order, until the end or a broken connection. */

static void
ctl_import_lines(ctl_t *ctl, ctl_import_t *imp, ca_csv_t *csv)
{
    int              rc;
    char             label[64];
    ca_csv_record_t  rec;

    while ((rc = ca_csv_next(csv, &rec)) != CA_CSV_END) {
        if (rec.first_line == rec.last_line) {
            snprintf(label, sizeof(label), "line %lu", rec.first_line);

        } else {
            snprintf(label, sizeof(label), "lines %lu-%lu", rec.first_line,
                     rec.last_line);
        }

        ctl_error_context("%s", label);

        if (rc == CA_CSV_MALFORMED) {
            rc = ctl_error("malformed CSV: %s", rec.error);

        } else {
            rc = ctl_import_line(ctl, imp, &rec, label);
        }

        ctl_error_context(NULL);

        if (rc == CTL_OK) {
            imp->ok++;

        } else {
            imp->failed++;
        }

        if (!ctl_redis_usable(ctl)) {
            return;
        }
    }
}


static int
ctl_import_line(ctl_t *ctl, ctl_import_t *imp, const ca_csv_record_t *rec,
    const char *label)
{
    int        rc;
    ctl_add_t  add;

    if (rec->nfields != imp->ncols) {
        return ctl_error("%zu field(s) where the header has %zu",
                         rec->nfields, imp->ncols);
    }

    ctl_add_init(&add, NULL);
    add.brand = imp->brand;
    add.phone_country = imp->phone_country;

    rc = ctl_import_fields(imp, rec, &add);

    if (rc == CTL_OK) {
        rc = ctl_add_check(&add);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    if (imp->dry_run) {
        return ctl_import_verify(ctl, imp, &add, label);
    }

    return ctl_import_commit(ctl, &add, label);
}


/* An empty cell is a field not given. */

static int
ctl_import_fields(ctl_import_t *imp, const ca_csv_record_t *rec,
    ctl_add_t *add)
{
    int          rc, col;
    size_t       i;
    const char  *value;

    for (i = 0; i < imp->ncols; i++) {
        col = imp->cols[i];
        value = rec->fields[i];

        if (rec->lens[i] == 0) {
            continue;
        }

        switch (col) {

        case CTL_ADD_PERMS:
            rc = ctl_import_perms(add, value);
            break;

        case CTL_ADD_LOCALE:
            add->locale = value;
            rc = CTL_OK;
            break;

        case CTL_ADD_PARENT:
            add->parent = value;
            rc = CTL_OK;
            break;

        case CTL_COL_HASH:
            rc = ctl_import_hash(imp, add, value, rec->lens[i]);
            break;

        default:
            add->ids[col].given = value;
            rc = CTL_OK;
        }

        if (rc != CTL_OK) {
            return rc;
        }
    }

    return CTL_OK;
}


/* "all" or "billing;orders": a ';' list, as ',' separates CSV fields. */

static int
ctl_import_perms(ctl_add_t *add, const char *value)
{
    switch (ctl_perms_parse(&add->perms, value, ';')) {

    case CTL_OK:
        return CTL_OK;

    case CTL_USAGE:
        return ctl_error("invalid perms: %s (\"all\" or names of 1-32 of"
                         " a-z, 0-9, '_', separated by ';')", value);

    default:
        return ctl_error("more than %d permissions", CTL_PERMS_N);
    }
}


/*
 * A legacy hash is stored as it is, to be verified and upgraded to
 * argon2id at the first login.  Its scheme, characters and cost are
 * checked here, against the bounds the gateway applies at login (a costlier
 * hash would be refused there as corrupt): never printed, a hash can be
 * cracked offline.
 */

static int
ctl_import_hash(ctl_import_t *imp, ctl_add_t *add, const char *value,
    size_t len)
{
    size_t               i;
    const char          *scheme;
    ca_pwhash_params_t   params;
    char                 why[160];

    if (len >= CA_PWHASH_MAX) {
        return ctl_error("password_hash longer than %d characters",
                         CA_PWHASH_MAX - 1);
    }

    for (i = 0; i < len; i++) {
        if (value[i] <= ' ' || value[i] >= 0x7f) {
            return ctl_error("password_hash holds a space or a character"
                             " that is not printable ASCII");
        }
    }

    scheme = ca_pwhash_scheme(value);

    if (scheme == NULL) {
        return ctl_error("unknown password hash scheme (bcrypt $2y$ or $2b$,"
                         " sha512-crypt $6$, argon2id $argon2id$)");
    }

    if (ca_pwhash_check(value, imp->cost, why, sizeof(why)) != 0) {
        if (ca_pwhash_params(value, &params) != 0) {
            return ctl_error("password_hash: malformed %s hash", scheme);
        }

        return ctl_error("password_hash: %s", why);
    }

    memcpy(add->hash, value, len + 1);

    return CTL_OK;
}


static int
ctl_import_commit(ctl_t *ctl, ctl_add_t *add, const char *label)
{
    int  rc;

    rc = ctl_add_commit(ctl, add);
    if (rc != CTL_OK) {
        return rc;
    }

    if (add->parent) {
        printf("%s: created user %s in account %s (%s)\n", label, add->user,
               add->account, add->ids[CTL_ADD_EMAIL].canonical);

    } else {
        printf("%s: created account %s user %s (%s)\n", label, add->account,
               add->user, add->ids[CTL_ADD_EMAIL].canonical);
    }

    return CTL_OK;
}


/*
 * The checks of a commit, against Redis and against the lines that passed
 * before in this dry run, which wrote nothing: their identifiers are taken,
 * and a sub-user may name one of them as its parent.
 */

static int
ctl_import_verify(ctl_t *ctl, ctl_import_t *imp, ctl_add_t *add,
    const char *label)
{
    int                     rc, i;
    char                    key[CA_KEY_MAX];
    const ctl_add_ident_t  *id;

    if (add->parent) {
        rc = ctl_ident_key(add->brand, add->parent, add->phone_country, key);
        if (rc != CTL_OK) {
            return rc;
        }

        add->parent_pending = (tfind(key, &imp->claimed, ctl_import_cmp)
                               != NULL);
    }

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        id = &add->ids[i];

        if (id->given && tfind(id->key, &imp->claimed, ctl_import_cmp)) {
            return ctl_error("identifier already in use: %s %s (by an"
                             " earlier line)", ca_ident_kind_name(id->kind),
                             id->canonical);
        }
    }

    rc = ctl_add_verify(ctl, add);

    if (rc == CTL_OK) {
        rc = ctl_import_claim(imp, add);
    }

    if (rc != CTL_OK) {
        return rc;
    }

    printf("%s: would create %s (%s)\n", label,
           add->parent ? "a sub-user" : "an account",
           add->ids[CTL_ADD_EMAIL].canonical);

    return CTL_OK;
}


static int
ctl_import_claim(ctl_import_t *imp, const ctl_add_t *add)
{
    int     i;
    char   *key;
    void   *node;

    for (i = 0; i < CTL_ADD_NIDS; i++) {
        if (add->ids[i].given == NULL) {
            continue;
        }

        key = strdup(add->ids[i].key);
        if (key == NULL) {
            return ctl_error("out of memory");
        }

        node = tsearch(key, &imp->claimed, ctl_import_cmp);

        if (node == NULL) {
            free(key);
            return ctl_error("out of memory");
        }

        if (*(char **) node != key) {
            free(key);            /* already there: cannot be, but safe */
        }
    }

    return CTL_OK;
}


/* The tree holds the keys: both arguments are such a char *. */

static int
ctl_import_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

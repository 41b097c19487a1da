/*
 * Template compilation on any bytes: a template that compiles never emits
 * a value unescaped (the markers "<" and "\"" of the values never reach the
 * output as such), and counting and writing agree.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_text.h"
#include "ca_tpl.h"


static const ca_tpl_var_t  vars[] = {
    { "name", CA_TPL_TEXT },
    { "url", CA_TPL_TEXT },
    { "block", CA_TPL_HTML },
    { "empty", CA_TPL_TEXT },
    { "self", CA_TPL_URL },
};

/* \x01 marks the values: an unescaped one shows as "\x01<" or "\x01\"" */
static const char  *values[] = {
    "\x01<\x01\"\x01'\x01&", "\x01<a href=\x01\"x\x01\">", "<i>ok</i>", "",
    "/auth/login?a=1&b=2"
};


static const char *
value(void *data, int is_text, int id, size_t *len)
{
    const char  *v;

    v = is_text ? "\x01<text\x01\"" : values[id];
    *len = strlen(v);

    return v;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char      err[256], *out;
    size_t    n, i;
    ca_tpl_t *tpl;

    if (memchr(data, '\x01', size) != NULL) {
        return 0;
    }

    tpl = ca_tpl_compile((const char *) data, size, "fuzz.html", vars, 5,
                         err, sizeof(err));
    if (tpl == NULL) {
        if (strncmp(err, "fuzz.html:", 10) != 0) {
            abort();
        }

        return 0;
    }

    n = ca_tpl_render(tpl, value, NULL, NULL);

    out = malloc(n + 1);
    if (out == NULL) {
        abort();
    }

    if (ca_tpl_render(tpl, value, NULL, out) != n) {
        abort();
    }

    for (i = 0; i + 1 < n; i++) {
        if (out[i] == '\x01' && (out[i + 1] == '<' || out[i + 1] == '"'
                                 || out[i + 1] == '\''))
        {
            abort();
        }
    }

    free(out);
    ca_tpl_free(tpl);

    return 0;
}

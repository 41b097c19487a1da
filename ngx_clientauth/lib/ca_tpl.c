#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ca_text.h"
#include "ca_tpl.h"


typedef enum {
    CA_OP_LIT = 0,
    CA_OP_VAR,
    CA_OP_TEXT,
    CA_OP_IF,
    CA_OP_UNLESS,
    CA_OP_END
} ca_op_e;

typedef struct {
    unsigned char   op;
    unsigned char   esc;           /* ca_esc_e, or 255: markup as is */
    int             id;
    const char     *p;             /* CA_OP_LIT */
    size_t          len;
    size_t          jump;          /* CA_OP_IF, _UNLESS: its CA_OP_END */
} ca_tpl_op_t;

struct ca_tpl_s {
    size_t          n;
    ca_tpl_op_t     op[1];
};

#define CA_ESC_NONE  255


/* Where the literal HTML so far leaves a placeholder. */
typedef enum {
    CA_S_DATA = 0,
    CA_S_TAG_OPEN,
    CA_S_TAG_NAME,
    CA_S_IN_TAG,
    CA_S_ATTR_NAME,
    CA_S_AFTER_ATTR,
    CA_S_BEFORE_VALUE,
    CA_S_VALUE_DQ,
    CA_S_VALUE_SQ,
    CA_S_VALUE_UQ,
    CA_S_RAW,                      /* inside script or style */
    CA_S_DECL,                     /* after "<!" */
    CA_S_COMMENT,
    CA_S_BOGUS
} ca_state_e;

typedef struct {
    ca_state_e      state;
    unsigned        end_tag;
    unsigned        dashes;
    size_t          raw;           /* RAW: bytes of "</tag" matched */
    size_t          taglen;
    size_t          attrlen;
    char            tag[16];
    char            attr[16];
} ca_html_t;


typedef struct {
    const char     *file;
    size_t          line;
    char           *err;
    size_t          errlen;
} ca_where_t;


static const char  ca_hex[] = "0123456789ABCDEF";


size_t
ca_escape(ca_esc_e esc, const char *src, size_t len, char *dst)
{
    size_t          i, n;
    unsigned char   c;
    const char     *rep;

    n = 0;

    for (i = 0; i < len; i++) {
        c = (unsigned char) src[i];

        if (esc == CA_ESC_URL) {
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                || (c >= '0' && c <= '9') || c == '-' || c == '.'
                || c == '_' || c == '~')
            {
                if (dst) {
                    dst[n] = (char) c;
                }

                n++;
                continue;
            }

            if (dst) {
                dst[n] = '%';
                dst[n + 1] = ca_hex[c >> 4];
                dst[n + 2] = ca_hex[c & 0xf];
            }

            n += 3;
            continue;
        }

        switch (c) {
        case '&':  rep = "&amp;"; break;
        case '<':  rep = "&lt;"; break;
        case '>':  rep = "&gt;"; break;
        case '"':  rep = "&quot;"; break;
        case '\'': rep = "&#39;"; break;
        default:   rep = NULL; break;
        }

        if (rep == NULL) {
            if (dst) {
                dst[n] = (char) c;
            }

            n++;
            continue;
        }

        if (dst) {
            memcpy(dst + n, rep, strlen(rep));
        }

        n += strlen(rep);
    }

    return n;
}


static int
ca_html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}


static int
ca_html_alpha(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}


static void
ca_html_append(char *buf, size_t *len, size_t size, char c)
{
    if (*len + 1 < size) {
        buf[(*len)++] = (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
        buf[*len] = '\0';

    } else {
        /* too long to be a name we know: never equal to one */
        buf[0] = '?';
    }
}


static void
ca_html_close_tag(ca_html_t *h)
{
    h->state = CA_S_DATA;

    if (!h->end_tag
        && (strcmp(h->tag, "script") == 0 || strcmp(h->tag, "style") == 0))
    {
        h->state = CA_S_RAW;
        h->raw = 0;
    }
}


static void
ca_html_new_attr(ca_html_t *h, char c)
{
    h->state = CA_S_ATTR_NAME;
    h->attrlen = 0;
    h->attr[0] = '\0';
    ca_html_append(h->attr, &h->attrlen, sizeof(h->attr), c);
}


static void
ca_html_scan_raw(ca_html_t *h, char c)
{
    /* looks for "</" + the tag's name, any case */
    char  want;

    if (h->raw < 2) {
        want = "</"[h->raw];

    } else {
        want = h->tag[h->raw - 2];
    }

    if ((c | 0x20) == (want | 0x20)) {
        h->raw++;

        if (h->raw == 2 + h->taglen) {
            h->state = CA_S_TAG_NAME;
            h->end_tag = 1;
        }

        return;
    }

    h->raw = (c == '<') ? 1 : 0;
}


static void
ca_html_scan(ca_html_t *h, char c)
{
    switch (h->state) {

    case CA_S_DATA:
        if (c == '<') {
            h->state = CA_S_TAG_OPEN;
        }

        break;

    case CA_S_TAG_OPEN:
        if (c == '!') {
            h->state = CA_S_DECL;
            h->dashes = 0;

        } else if (c == '?') {
            h->state = CA_S_BOGUS;

        } else if (c == '/' || ca_html_alpha(c)) {
            h->state = CA_S_TAG_NAME;
            h->end_tag = (c == '/');
            h->raw = 0;
            h->taglen = 0;
            h->tag[0] = '\0';

            if (c != '/') {
                ca_html_append(h->tag, &h->taglen, sizeof(h->tag), c);
            }

        } else {
            h->state = CA_S_DATA;
        }

        break;

    case CA_S_TAG_NAME:
        if (ca_html_space(c) || c == '/') {
            h->state = CA_S_IN_TAG;

        } else if (c == '>') {
            ca_html_close_tag(h);

        } else if (h->end_tag && h->raw) {
            /* the name was matched already, from the raw text */

        } else {
            ca_html_append(h->tag, &h->taglen, sizeof(h->tag), c);
        }

        break;

    case CA_S_IN_TAG:
        if (c == '>') {
            ca_html_close_tag(h);

        } else if (!ca_html_space(c) && c != '/') {
            ca_html_new_attr(h, c);
        }

        break;

    case CA_S_ATTR_NAME:
        if (ca_html_space(c)) {
            h->state = CA_S_AFTER_ATTR;

        } else if (c == '=') {
            h->state = CA_S_BEFORE_VALUE;

        } else if (c == '>') {
            ca_html_close_tag(h);

        } else if (c == '/') {
            h->state = CA_S_IN_TAG;

        } else {
            ca_html_append(h->attr, &h->attrlen, sizeof(h->attr), c);
        }

        break;

    case CA_S_AFTER_ATTR:
        if (c == '=') {
            h->state = CA_S_BEFORE_VALUE;

        } else if (c == '>') {
            ca_html_close_tag(h);

        } else if (!ca_html_space(c) && c != '/') {
            ca_html_new_attr(h, c);
        }

        break;

    case CA_S_BEFORE_VALUE:
        if (c == '"') {
            h->state = CA_S_VALUE_DQ;

        } else if (c == '\'') {
            h->state = CA_S_VALUE_SQ;

        } else if (c == '>') {
            ca_html_close_tag(h);

        } else if (!ca_html_space(c)) {
            h->state = CA_S_VALUE_UQ;
        }

        break;

    case CA_S_VALUE_DQ:
        if (c == '"') {
            h->state = CA_S_IN_TAG;
        }

        break;

    case CA_S_VALUE_SQ:
        if (c == '\'') {
            h->state = CA_S_IN_TAG;
        }

        break;

    case CA_S_VALUE_UQ:
        if (ca_html_space(c)) {
            h->state = CA_S_IN_TAG;

        } else if (c == '>') {
            ca_html_close_tag(h);
        }

        break;

    case CA_S_RAW:
        ca_html_scan_raw(h, c);
        break;

    case CA_S_DECL:
        if (c == '-' && ++h->dashes == 2) {
            h->state = CA_S_COMMENT;
            h->dashes = 0;

        } else if (c != '-') {
            h->state = (c == '>') ? CA_S_DATA : CA_S_BOGUS;
        }

        break;

    case CA_S_COMMENT:
        if (c == '>' && h->dashes >= 2) {
            h->state = CA_S_DATA;

        } else {
            h->dashes = (c == '-') ? h->dashes + 1 : 0;
        }

        break;

    case CA_S_BOGUS:
        if (c == '>') {
            h->state = CA_S_DATA;
        }

        break;
    }
}


static int
ca_tpl_error(ca_where_t *w, const char *fmt, const char *arg)
{
    char  msg[160];

    snprintf(msg, sizeof(msg), fmt, arg);
    snprintf(w->err, w->errlen, "%s:%zu: %s", w->file, w->line, msg);

    return -1;
}


static int
ca_tpl_url_attr(const char *attr)
{
    static const char  *urls[] = {
        "href", "src", "action", "formaction", "poster", "cite", "data",
        "background", "xlink:href", NULL
    };
    size_t  i;

    for (i = 0; urls[i]; i++) {
        if (strcmp(attr, urls[i]) == 0) {
            return 1;
        }
    }

    return 0;
}


/* How a value is escaped where the HTML so far leaves it, or -1. */

static int
ca_tpl_context(ca_html_t *h, ca_tpl_kind_e kind, const char *name,
    ca_where_t *w)
{
    if (h->state == CA_S_DATA) {
        if (kind == CA_TPL_URL) {
            return ca_tpl_error(w, "{{%s}} is a URL: it stands only in "
                                "href, src or action", name);
        }

        return kind == CA_TPL_HTML ? CA_ESC_NONE : CA_ESC_HTML;
    }

    if (h->state != CA_S_VALUE_DQ && h->state != CA_S_VALUE_SQ) {
        return ca_tpl_error(w, "{{%s}} would not be escaped here (a tag, an "
                            "unquoted attribute, a script, a style or a "
                            "comment)", name);
    }

    if (kind == CA_TPL_HTML) {
        return ca_tpl_error(w, "{{%s}} is markup: it cannot stand in an "
                            "attribute", name);
    }

    if (kind == CA_TPL_URL && !ca_tpl_url_attr(h->attr)) {
        return ca_tpl_error(w, "{{%s}} is a URL: it stands only in href, "
                            "src or action", name);
    }

    if (strncmp(h->attr, "on", 2) == 0 || strcmp(h->attr, "style") == 0
        || strcmp(h->attr, "srcdoc") == 0 || h->attr[0] == '?'
        || strcmp(h->tag, "meta") == 0)
    {
        return ca_tpl_error(w, "{{%s}} would not be escaped here (a script, "
                            "style or meta attribute)", name);
    }

    if (kind == CA_TPL_URL) {
        /* a same-site URL the module vouches for, kept whole */
        return CA_ESC_ATTR;
    }

    return ca_tpl_url_attr(h->attr) ? CA_ESC_URL : CA_ESC_ATTR;
}


/* The name between "{{" and "}}", with its sigil; the bytes read, or -1. */

static int
ca_tpl_tag(const char *p, const char *end, char *sigil, char *name,
    ca_where_t *w)
{
    size_t       n;
    const char  *q;

    q = p + 2;
    *sigil = 0;

    if (q < end && (*q == '#' || *q == '^' || *q == '/')) {
        *sigil = *q++;
    }

    for (n = 0; q < end && n < CA_TPL_NAME_MAX; q++, n++) {
        if (!((*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')
              || *q == '_' || *q == '.'))
        {
            break;
        }

        name[n] = *q;
    }

    name[n] = '\0';

    if (n == 0 || n == CA_TPL_NAME_MAX || end - q < 2 || q[0] != '}'
        || q[1] != '}')
    {
        return ca_tpl_error(w, "malformed placeholder%s: write {{name}}, "
                            "{{t.text}}, {{#name}}, {{^name}} or {{/name}}",
                            "");
    }

    return (int) (q + 2 - p);
}


static int
ca_tpl_lookup(const char *name, const ca_tpl_var_t *vars, size_t nvars,
    int *is_text, ca_tpl_kind_e *kind)
{
    size_t  i;

    *kind = CA_TPL_TEXT;

    if (strncmp(name, "t.", 2) == 0) {
        *is_text = 1;
        return ca_text_find(name + 2, strlen(name + 2));
    }

    *is_text = 0;

    for (i = 0; i < nvars; i++) {
        if (strcmp(vars[i].name, name) == 0) {
            *kind = vars[i].kind;
            return (int) i;
        }
    }

    return -1;
}


typedef struct {
    ca_tpl_t       *tpl;
    ca_html_t       html;
    size_t          depth;
    size_t          open[CA_TPL_DEPTH_MAX];
    ca_html_t       at[CA_TPL_DEPTH_MAX];
} ca_compile_t;


static int
ca_tpl_same_context(const ca_html_t *a, const ca_html_t *b)
{
    if (a->state != b->state) {
        return 0;
    }

    if (a->state == CA_S_DATA || a->state >= CA_S_DECL) {
        return 1;
    }

    /* between attributes any attribute may follow; in one, the same */
    return strcmp(a->tag, b->tag) == 0
           && (a->state < CA_S_ATTR_NAME || strcmp(a->attr, b->attr) == 0);
}


static int
ca_tpl_placeholder(ca_compile_t *c, char sigil, const char *name,
    const ca_tpl_var_t *vars, size_t nvars, ca_where_t *w)
{
    int             id, is_text, esc;
    ca_tpl_op_t    *op, *begin;
    ca_tpl_kind_e   kind;

    id = ca_tpl_lookup(name, vars, nvars, &is_text, &kind);
    if (id < 0) {
        return ca_tpl_error(w, "unknown placeholder {{%s}}", name);
    }

    op = &c->tpl->op[c->tpl->n];
    memset(op, 0, sizeof(ca_tpl_op_t));
    op->id = id;

    if (sigil == 0) {
        esc = ca_tpl_context(&c->html, kind, name, w);
        if (esc < 0) {
            return -1;
        }

        op->op = is_text ? CA_OP_TEXT : CA_OP_VAR;
        op->esc = (unsigned char) esc;
        c->tpl->n++;
        return 0;
    }

    if (is_text) {
        return ca_tpl_error(w, "{{%s}} is a text, not a section", name);
    }

    if (sigil == '/') {
        if (c->depth == 0) {
            return ca_tpl_error(w, "{{/%s}} closes no section", name);
        }

        begin = &c->tpl->op[c->open[c->depth - 1]];

        if (begin->id != id) {
            return ca_tpl_error(w, "{{/%s}} closes another section", name);
        }

        if (!ca_tpl_same_context(&c->at[c->depth - 1], &c->html)) {
            return ca_tpl_error(w, "section {{%s}} ends somewhere else in the "
                                "HTML than it starts", name);
        }

        begin->jump = c->tpl->n;
        op->op = CA_OP_END;
        c->depth--;
        c->tpl->n++;
        return 0;
    }

    if (c->depth == CA_TPL_DEPTH_MAX) {
        return ca_tpl_error(w, "sections nested too deep at {{%s}}", name);
    }

    op->op = (sigil == '#') ? CA_OP_IF : CA_OP_UNLESS;
    c->open[c->depth] = c->tpl->n;
    c->at[c->depth] = c->html;
    c->depth++;
    c->tpl->n++;

    return 0;
}


ca_tpl_t *
ca_tpl_compile(const char *src, size_t len, const char *file,
    const ca_tpl_var_t *vars, size_t nvars, char *err, size_t errlen)
{
    int            n;
    char           sigil, name[CA_TPL_NAME_MAX + 1];
    size_t         i, max, lit;
    ca_where_t     w;
    ca_tpl_op_t   *op;
    ca_compile_t   c;
    const char    *end;

    w.file = file;
    w.line = 1;
    w.err = err;
    w.errlen = errlen;

    /* each "{{" makes at most one op and ends one literal */
    max = 2;

    for (i = 0; i + 1 < len; i++) {
        if (src[i] == '{' && src[i + 1] == '{') {
            max += 2;
        }
    }

    memset(&c, 0, sizeof(ca_compile_t));

    c.tpl = malloc(sizeof(ca_tpl_t) + max * sizeof(ca_tpl_op_t));
    if (c.tpl == NULL) {
        ca_tpl_error(&w, "%scannot allocate the template", "");
        return NULL;
    }

    c.tpl->n = 0;
    end = src + len;
    lit = 0;

    for (i = 0; i <= len; i++) {
        if (i < len && !(src[i] == '{' && i + 1 < len && src[i + 1] == '{')) {
            if (src[i] == '\0') {
                ca_tpl_error(&w, "%sNUL byte", "");
                goto failed;
            }

            ca_html_scan(&c.html, src[i]);

            if (src[i] == '\n') {
                w.line++;
            }

            continue;
        }

        if (i > lit) {
            op = &c.tpl->op[c.tpl->n++];
            memset(op, 0, sizeof(ca_tpl_op_t));
            op->op = CA_OP_LIT;
            op->p = src + lit;
            op->len = i - lit;
        }

        if (i == len) {
            break;
        }

        n = ca_tpl_tag(src + i, end, &sigil, name, &w);

        if (n < 0 || ca_tpl_placeholder(&c, sigil, name, vars, nvars, &w) < 0)
        {
            goto failed;
        }

        i += n - 1;
        lit = i + 1;
    }

    if (c.depth) {
        ca_tpl_error(&w, "section {{%s}} is never closed",
                     vars[c.tpl->op[c.open[c.depth - 1]].id].name);
        goto failed;
    }

    if (c.html.state != CA_S_DATA) {
        ca_tpl_error(&w, "%sthe template ends inside a tag, a script, a "
                     "style or a comment", "");
        goto failed;
    }

    return c.tpl;

failed:

    free(c.tpl);
    return NULL;
}


void
ca_tpl_free(ca_tpl_t *tpl)
{
    free(tpl);
}


size_t
ca_tpl_render(const ca_tpl_t *tpl, ca_tpl_value_pt value, void *data,
    char *out)
{
    size_t              i, n, len;
    const char         *v;
    const ca_tpl_op_t  *op;

    n = 0;

    for (i = 0; i < tpl->n; i++) {
        op = &tpl->op[i];

        switch (op->op) {

        case CA_OP_LIT:
            if (out) {
                memcpy(out + n, op->p, op->len);
            }

            n += op->len;
            break;

        case CA_OP_VAR:
        case CA_OP_TEXT:
            len = 0;
            v = value(data, op->op == CA_OP_TEXT, op->id, &len);

            if (v == NULL || len == 0) {
                break;
            }

            if (op->esc == CA_ESC_NONE) {
                if (out) {
                    memcpy(out + n, v, len);
                }

                n += len;
                break;
            }

            n += ca_escape((ca_esc_e) op->esc, v, len, out ? out + n : NULL);
            break;

        case CA_OP_IF:
        case CA_OP_UNLESS:
            len = 0;
            v = value(data, 0, op->id, &len);

            if ((v != NULL && len != 0) != (op->op == CA_OP_IF)) {
                i = op->jump;
            }

            break;

        default: /* CA_OP_END */
            break;
        }
    }

    return n;
}


int
ca_tpl_uses(const ca_tpl_t *tpl, int is_text, int id)
{
    size_t  i;

    for (i = 0; i < tpl->n; i++) {
        if (tpl->op[i].id == id
            && (tpl->op[i].op == CA_OP_TEXT) == (is_text != 0)
            && tpl->op[i].op != CA_OP_LIT)
        {
            return 1;
        }
    }

    return 0;
}

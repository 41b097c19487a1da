/*
 * Page templates, compiled once when the configuration is read and
 * rendered from memory.  nginx-free.
 *
 *   {{name}}          a variable, escaped for where it stands: HTML text,
 *                     a quoted attribute, or a URL attribute (href, src,
 *                     action: percent-encoded, so never a scheme)
 *   {{t.key}}         a text of the page's language (ca_text.h), escaped
 *   {{#name}}...{{/name}}   kept when the variable is not empty
 *   {{^name}}...{{/name}}   kept when it is empty
 *
 * A variable of kind CA_TPL_HTML is markup the module built itself; it may
 * stand only in HTML text; one of kind CA_TPL_URL is a same-site URL the
 * module made, kept whole, and stands only in a URL attribute.  Anything
 * that would put input where escaping cannot make it safe (a tag or
 * attribute name, an unquoted value, an event handler or style attribute,
 * a script, a style, a comment), an unknown name or an unbalanced section
 * is an error with the file and line.
 */

#ifndef CA_TPL_H
#define CA_TPL_H

#include <stddef.h>

#define CA_TPL_DEPTH_MAX  8
#define CA_TPL_NAME_MAX   32

typedef enum {
    CA_TPL_TEXT = 0,
    CA_TPL_HTML,
    CA_TPL_URL
} ca_tpl_kind_e;

typedef enum {
    CA_ESC_HTML = 0,
    CA_ESC_ATTR,
    CA_ESC_URL
} ca_esc_e;

typedef struct {
    const char     *name;
    ca_tpl_kind_e   kind;
} ca_tpl_var_t;

typedef struct ca_tpl_s  ca_tpl_t;

/*
 * The value of variable id (is_text 0) or of text id (is_text 1), or NULL
 * for nothing.
 */
typedef const char *(*ca_tpl_value_pt)(void *data, int is_text, int id,
    size_t *len);

/* escaped src into dst (NULL: only count); the length written */
size_t ca_escape(ca_esc_e esc, const char *src, size_t len, char *dst);

/*
 * src must outlive the template.  NULL on error, with "file:line: why" in
 * err (and on failure to allocate).
 */
ca_tpl_t *ca_tpl_compile(const char *src, size_t len, const char *file,
    const ca_tpl_var_t *vars, size_t nvars, char *err, size_t errlen);

void ca_tpl_free(ca_tpl_t *tpl);

/* Renders into out (NULL: only count); the length. */
size_t ca_tpl_render(const ca_tpl_t *tpl, ca_tpl_value_pt value, void *data,
    char *out);

/* Whether the template uses variable id (texts: is_text). */
int ca_tpl_uses(const ca_tpl_t *tpl, int is_text, int id);

#endif /* CA_TPL_H */

/*
 * ca_tpl: templates compiled once, escaped for where each value stands,
 * and refused with file and line when they could emit unescaped input.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ca_text.h"
#include "ca_tpl.h"


static const ca_tpl_var_t  vars[] = {
    { "name", CA_TPL_TEXT },
    { "url", CA_TPL_TEXT },
    { "block", CA_TPL_HTML },
    { "empty", CA_TPL_TEXT },
    { "self", CA_TPL_URL },
};

static const char  *values[] = {
    "<b>\"Tom\" & 'Jerry'</b>", "/a b?x=1&y=<2>", "<em>ok</em>", "",
    "/auth/login?a=1&b=2"
};


static const char *
value(void *data, int is_text, int id, size_t *len)
{
    const char  *v;

    v = is_text ? ((ca_texts_t *) data)->t[id] : values[id];
    *len = strlen(v);

    return v;
}


static char  err[256];


static char *
render(const char *src)
{
    char        *out;
    size_t       n;
    ca_tpl_t    *tpl;
    ca_texts_t   texts;

    ca_texts_init(&texts, ca_text_builtin("fr", 2));

    tpl = ca_tpl_compile(src, strlen(src), "t.html", vars, 5, err,
                         sizeof(err));
    if (tpl == NULL) {
        print_error("%s\n", err);
    }

    assert_non_null(tpl);

    n = ca_tpl_render(tpl, value, &texts, NULL);
    out = calloc(1, n + 1);
    assert_non_null(out);
    assert_int_equal(ca_tpl_render(tpl, value, &texts, out), n);
    ca_tpl_free(tpl);

    return out;
}


static void
refused(const char *src, const char *why)
{
    ca_tpl_t  *tpl;

    err[0] = '\0';
    tpl = ca_tpl_compile(src, strlen(src), "theme/login.html", vars, 5, err,
                         sizeof(err));
    assert_null(tpl);
    assert_non_null(strstr(err, why));
    assert_non_null(strstr(err, "theme/login.html:"));
}


static void
check(const char *src, const char *want)
{
    char  *out = render(src);

    assert_string_equal(out, want);
    free(out);
}


static void
test_text_is_escaped_for_html(void **state)
{
    check("<p>{{name}}</p>",
          "<p>&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;</p>");
    check("<title>{{t.login_button}}</title>", "<title>Connexion</title>");
}


static void
test_attributes_and_urls(void **state)
{
    check("<input value=\"{{name}}\">",
          "<input value=\"&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;"
          "&lt;/b&gt;\">");
    check("<a title='{{t.forgot}}'>",
          "<a title='Mot de passe oubli\xc3\xa9 ?'>");
    check("<a href=\"/x?next={{url}}\">",
          "<a href=\"/x?next=%2Fa%20b%3Fx%3D1%26y%3D%3C2%3E\">");
    check("<form action=\"{{url}}\">",
          "<form action=\"%2Fa%20b%3Fx%3D1%26y%3D%3C2%3E\">");
}


static void
test_module_urls_stay_whole(void **state)
{
    check("<a href=\"{{self}}\">", "<a href=\"/auth/login?a=1&amp;b=2\">");
    refused("<p>{{self}}</p>", "is a URL");
    refused("<p title=\"{{self}}\">", "is a URL");
}


static void
test_between_attributes_sections(void **state)
{
    check("<input {{^empty}}autofocus=\"\" {{/empty}}required>",
          "<input autofocus=\"\" required>");
    refused("<a onclick {{#empty}}title {{/empty}}=\"{{name}}\">",
            "ends somewhere else");
}


static void
test_markup_only_in_text(void **state)
{
    check("<div>{{block}}</div>", "<div><em>ok</em></div>");
    refused("<div title=\"{{block}}\">", "markup");
}


static void
test_sections(void **state)
{
    check("{{#name}}yes{{/name}}{{#empty}}no{{/empty}}", "yes");
    check("{{^empty}}<p>none</p>{{/empty}}{{^name}}x{{/name}}",
          "<p>none</p>");
    check("{{#name}}{{#url}}<i>{{url}}</i>{{/url}}{{/name}}",
          "<i>/a b?x=1&amp;y=&lt;2&gt;</i>");
    refused("{{#name}}<a href=\"{{/name}}\">", "ends somewhere else");
    refused("{{#name}}x", "never closed");
    refused("x{{/name}}", "closes no section");
    refused("{{#name}}{{/url}}", "closes another section");
    refused("{{#t.area}}{{/t.area}}", "not a section");
}


static void
test_unsafe_places_are_refused(void **state)
{
    refused("<{{name}}>", "would not be escaped");
    refused("<a {{name}}>", "would not be escaped");
    refused("<a href={{url}}>", "would not be escaped");
    refused("<a onclick=\"{{name}}\">", "script, style");
    refused("<p style=\"color:{{name}}\">", "script, style");
    refused("<script>var a = \"{{name}}\";</script>", "would not be escaped");
    refused("<style>p{}</style><STYLE>{{name}}</STYLE>",
            "would not be escaped");
    refused("<!-- {{name}} -->", "would not be escaped");
    refused("<meta content=\"{{name}}\">", "meta");
    refused("<p title=\"x", "ends inside a tag");
}


static void
test_after_raw_text_is_text_again(void **state)
{
    check("<script>if (a < b) {}</script><p>{{empty}}</p>", "<script>if "
          "(a < b) {}</script><p></p>");
    check("<!-- c --><b>{{t.language}}</b>", "<!-- c --><b>Langue</b>");
}


static void
test_unknown_and_malformed_with_line(void **state)
{
    refused("<p>\n\n{{nope}}</p>", "theme/login.html:3: unknown placeholder "
            "{{nope}}");
    refused("{{t.nope}}", "unknown placeholder");
    refused("{{ name }}", "malformed");
    refused("{{name", "malformed");
    refused("a\n{{}}", ":2: malformed");
}


static void
test_escape_counts(void **state)
{
    assert_int_equal(ca_escape(CA_ESC_HTML, "a&b", 3, NULL), 7);
    assert_int_equal(ca_escape(CA_ESC_URL, "\xff ", 2, NULL), 6);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_text_is_escaped_for_html),
        cmocka_unit_test(test_attributes_and_urls),
        cmocka_unit_test(test_markup_only_in_text),
        cmocka_unit_test(test_module_urls_stay_whole),
        cmocka_unit_test(test_between_attributes_sections),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_unsafe_places_are_refused),
        cmocka_unit_test(test_after_raw_text_is_text_again),
        cmocka_unit_test(test_unknown_and_malformed_with_line),
        cmocka_unit_test(test_escape_counts),
    };

    return cmocka_run_group_tests_name("ca_tpl", tests, NULL, NULL);
}

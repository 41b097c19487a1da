/*
 * ca_lang: which offered language a request gets from Accept-Language,
 * ?lang= and the language cookie; anything malformed gives no answer.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_lang.h"


#define S(s)  s, sizeof(s) - 1

static const char  *offered[] = { "es", "fr", "en" };

#define NEG(h)  ca_lang_negotiate(offered, 3, S(h))


static void
test_exact_and_primary_subtag(void **state)
{
    assert_int_equal(NEG("fr"), 1);
    assert_int_equal(NEG("EN"), 2);
    assert_int_equal(NEG("fr-CA"), 1);
    assert_int_equal(NEG("en-GB,en;q=0.9"), 2);
    assert_int_equal(NEG("de"), -1);
}


static void
test_q_values_order(void **state)
{
    assert_int_equal(NEG("de, en;q=0.5, fr;q=0.8"), 1);
    assert_int_equal(NEG("en;q=0.1, es;q=0.9"), 0);
    assert_int_equal(NEG("en;q=1.0, fr;q=1"), 2);       /* tie: first */
    assert_int_equal(NEG("fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7"), 1);
    assert_int_equal(NEG("en ; q=0.3 , es;Q=0.301"), 0);
}


static void
test_zero_refuses_and_wildcard(void **state)
{
    assert_int_equal(NEG("fr;q=0"), -1);
    assert_int_equal(NEG("*"), 0);
    assert_int_equal(NEG("es;q=0, *;q=0.5"), 1);
    assert_int_equal(NEG("*;q=0.1, en"), 2);
    assert_int_equal(NEG("*;q=0"), -1);
}


static void
test_more_specific_range_decides(void **state)
{
    /* "fr-CA;q=0" does not refuse "fr", named exactly */
    assert_int_equal(NEG("fr;q=0.9, fr-CA;q=0, en;q=0.5"), 1);
    assert_int_equal(NEG("fr-CA;q=0.9, fr;q=0.1, en;q=0.5"), 2);
}


static void
test_malformed_gives_no_answer(void **state)
{
    assert_int_equal(NEG(""), -1);
    assert_int_equal(NEG("fr;q=abc"), -1);
    assert_int_equal(NEG("fr;q=1.5"), -1);
    assert_int_equal(NEG("fr;q=0.1234"), -1);
    assert_int_equal(NEG("fr;level=1"), -1);
    assert_int_equal(NEG("f r"), -1);
    assert_int_equal(NEG("<script>"), -1);
    assert_int_equal(NEG("fr-"), -1);
    assert_int_equal(NEG("verylongtag"), -1);
    assert_int_equal(ca_lang_negotiate(offered, 3, "fr\0en", 5), -1);
    assert_int_equal(ca_lang_negotiate(offered, 3, NULL, 0), -1);
    /* empty list elements are allowed */
    assert_int_equal(NEG(",, fr ,"), 1);
}


static void
test_oversized_gives_no_answer(void **state)
{
    char    buf[CA_LANG_HEADER_MAX + 8];
    size_t  i;

    for (i = 0; i + 3 <= CA_LANG_HEADER_MAX; i += 3) {
        memcpy(buf + i, "fr,", 3);
    }

    /* too many ranges */
    assert_int_equal(ca_lang_negotiate(offered, 3, buf, i), -1);
    assert_int_equal(ca_lang_negotiate(offered, 3, buf, 3 * 32), 1);

    memset(buf, ' ', sizeof(buf));
    memcpy(buf, "en", 2);
    assert_int_equal(ca_lang_negotiate(offered, 3, buf, CA_LANG_HEADER_MAX),
                     2);
    assert_int_equal(ca_lang_negotiate(offered, 3, buf,
                                       CA_LANG_HEADER_MAX + 1), -1);
}


static void
test_find_names_one_exactly(void **state)
{
    assert_int_equal(ca_lang_find(offered, 3, S("fr")), 1);
    assert_int_equal(ca_lang_find(offered, 3, S("ES")), 0);
    assert_int_equal(ca_lang_find(offered, 3, S("fr-CA")), -1);
    assert_int_equal(ca_lang_find(offered, 3, S("de")), -1);
    assert_int_equal(ca_lang_find(offered, 3, S("")), -1);
    assert_int_equal(ca_lang_find(offered, 3, S("f\"r")), -1);
    assert_int_equal(ca_lang_find(offered, 3, "fr\0", 3), -1);
}


static void
test_tag_syntax(void **state)
{
    assert_true(ca_lang_tag_valid(S("en")));
    assert_true(ca_lang_tag_valid(S("zh-Hant-TW")));
    assert_true(ca_lang_tag_valid(S("es-419")));
    assert_false(ca_lang_tag_valid(S("419")));
    assert_false(ca_lang_tag_valid(S("-en")));
    assert_false(ca_lang_tag_valid(S("en--gb")));
    assert_false(ca_lang_tag_valid(S("abcdefghi")));
    assert_false(ca_lang_tag_valid(S("en_GB")));
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_exact_and_primary_subtag),
        cmocka_unit_test(test_q_values_order),
        cmocka_unit_test(test_zero_refuses_and_wildcard),
        cmocka_unit_test(test_more_specific_range_decides),
        cmocka_unit_test(test_malformed_gives_no_answer),
        cmocka_unit_test(test_oversized_gives_no_answer),
        cmocka_unit_test(test_find_names_one_exactly),
        cmocka_unit_test(test_tag_syntax),
    };

    return cmocka_run_group_tests_name("ca_lang", tests, NULL, NULL);
}

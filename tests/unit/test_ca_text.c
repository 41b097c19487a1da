/*
 * ca_text: the built-in texts are complete in es, fr and en, a theme's
 * texts file overrides them and is refused with file and line.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "ca_policy.h"
#include "ca_text.h"


static void
test_builtins_are_complete(void **state)
{
    int          lang;
    ca_texts_t   texts;

    for (lang = 0; lang < 3; lang++) {
        ca_texts_init(&texts, lang);
        assert_int_equal(ca_texts_missing(&texts), -1);
    }

    assert_int_equal(ca_text_builtin("fr", 2), 1);
    assert_int_equal(ca_text_builtin("de", 2), -1);
    ca_texts_init(&texts, -1);
    assert_int_equal(ca_texts_missing(&texts), 0);
}


static void
test_rules_say_their_numbers(void **state)
{
    char         buf[128];
    ca_texts_t   texts;

    ca_texts_init(&texts, ca_text_builtin("en", 2));
    ca_text_format(buf, sizeof(buf),
                   texts.t[ca_text_rule(CA_RULE_TOO_SHORT)], "8");
    assert_string_equal(buf, "At least 8 characters");

    ca_texts_init(&texts, ca_text_builtin("es", 2));
    ca_text_format(buf, sizeof(buf),
                   texts.t[ca_text_rule(CA_RULE_TOO_SHORT)], "8");
    assert_string_equal(buf, "Al menos 8 caracteres");

    assert_int_equal(ca_text_rule(0x8000), -1);
}


static void
test_durations_in_words(void **state)
{
    char         buf[64];
    ca_texts_t   texts;

    ca_texts_init(&texts, ca_text_builtin("en", 2));
    ca_text_duration(&texts, 1, buf, sizeof(buf));
    assert_string_equal(buf, "1 second");
    ca_text_duration(&texts, 59, buf, sizeof(buf));
    assert_string_equal(buf, "59 seconds");
    ca_text_duration(&texts, 61, buf, sizeof(buf));
    assert_string_equal(buf, "2 minutes");
    ca_text_duration(&texts, 3600, buf, sizeof(buf));
    assert_string_equal(buf, "1 hour");

    ca_texts_init(&texts, ca_text_builtin("fr", 2));
    ca_text_duration(&texts, 900, buf, sizeof(buf));
    assert_string_equal(buf, "15 minutes");
    ca_text_duration(&texts, 2 * 86400, buf, sizeof(buf));
    assert_string_equal(buf, "2 jours");
}


static void
test_format_truncates_safely(void **state)
{
    char  buf[8];

    assert_int_equal(ca_text_format(buf, sizeof(buf), "ab {n} cd", "12345"),
                     11);
    assert_string_equal(buf, "ab 1234");
    assert_int_equal(ca_text_format(buf, sizeof(buf), "plain", "x"), 5);
    assert_string_equal(buf, "plain");
}


static void
test_theme_texts_override(void **state)
{
    char         err[256];
    char         file[] = "# Magic\n  area = Espace client Magic  \n\n"
                          "support=support@magic.example\n";
    ca_texts_t   texts;

    ca_texts_init(&texts, ca_text_builtin("fr", 2));
    assert_int_equal(ca_texts_parse(&texts, file, sizeof(file) - 1, "fr.txt",
                                    err, sizeof(err)), 0);
    assert_string_equal(texts.t[CA_T_AREA], "Espace client Magic");
    assert_string_equal(texts.t[CA_T_SUPPORT], "support@magic.example");
    assert_string_equal(texts.t[CA_T_LANGUAGE], "Langue");
}


static void
test_theme_texts_errors(void **state)
{
    char         err[256];
    char         bad_key[] = "area = x\nnope = y\n";
    char         no_eq[] = "area x\n";
    char         empty[] = "\n\narea =   \n";
    ca_texts_t   texts;

    ca_texts_init(&texts, 2);

    assert_int_equal(ca_texts_parse(&texts, bad_key, sizeof(bad_key) - 1,
                                    "en.txt", err, sizeof(err)), -1);
    assert_string_equal(err, "en.txt:2: unknown text \"nope\"");

    assert_int_equal(ca_texts_parse(&texts, no_eq, sizeof(no_eq) - 1,
                                    "en.txt", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "en.txt:1: expected"));

    assert_int_equal(ca_texts_parse(&texts, empty, sizeof(empty) - 1,
                                    "en.txt", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "en.txt:3: text \"area\" is empty"));
}


static void
test_names_round_trip(void **state)
{
    int  i;

    for (i = 0; i < CA_T_COUNT; i++) {
        assert_int_equal(ca_text_find(ca_text_name(i),
                                      strlen(ca_text_name(i))), i);
    }

    assert_int_equal(ca_text_find("are", 3), -1);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_builtins_are_complete),
        cmocka_unit_test(test_rules_say_their_numbers),
        cmocka_unit_test(test_durations_in_words),
        cmocka_unit_test(test_format_truncates_safely),
        cmocka_unit_test(test_theme_texts_override),
        cmocka_unit_test(test_theme_texts_errors),
        cmocka_unit_test(test_names_round_trip),
    };

    return cmocka_run_group_tests_name("ca_text", tests, NULL, NULL);
}

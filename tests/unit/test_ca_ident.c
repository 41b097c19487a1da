/*
 * ca_ident: identifier kinds and their canonical forms.  Inputs are passed
 * from heap copies of their exact length (they are not NUL-terminated), so
 * that AddressSanitizer catches any read past the end.
 */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "ca_ident.h"


#define ALL  CA_ID_ALL


static int
group_setup(void **state)
{
    return sodium_init() < 0 ? -1 : 0;
}


static ca_id_kind_e
normalise(unsigned accepted, const char *country, const char *in,
    size_t len, char *out)
{
    char             *copy;
    ca_id_kind_e      kind;
    ca_ident_opts_t   opts;

    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, in, len);

    opts.accepted = accepted;
    opts.phone_country = country;

    memset(out, 'X', CA_IDENT_MAX);
    kind = ca_ident_normalise(&opts, copy, len, out);

    free(copy);

    return kind;
}


static ca_id_kind_e
normalise_kind(ca_id_kind_e kind, const char *country, const char *in,
    char *out)
{
    char          *copy;
    size_t         len;
    ca_id_kind_e   rc;

    len = strlen(in);
    copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, in, len);

    memset(out, 'X', CA_IDENT_MAX);
    rc = ca_ident_normalise_kind(kind, country, copy, len, out);

    free(copy);

    return rc;
}


static void
expect_id(unsigned accepted, const char *country, const char *in,
    ca_id_kind_e kind, const char *canon)
{
    char  out[CA_IDENT_MAX];

    assert_int_equal(normalise(accepted, country, in, strlen(in), out), kind);

    if (kind == CA_ID_NONE) {
        assert_string_equal(out, "");

    } else {
        assert_string_equal(out, canon);
    }
}


#define ID_OK(acc, cc, in, kind, canon)  expect_id(acc, cc, in, kind, canon)
#define ID_NONE(acc, cc, in)             expect_id(acc, cc, in, CA_ID_NONE, "")

#define EMAIL_OK(in, canon)   ID_OK(CA_ID_EMAIL, NULL, in, CA_ID_EMAIL, canon)
#define EMAIL_BAD(in)         ID_NONE(CA_ID_EMAIL, NULL, in)
#define CUSTNO_OK(in, canon)                                                  \
    ID_OK(CA_ID_CUSTOMER_NUMBER, NULL, in, CA_ID_CUSTOMER_NUMBER, canon)
#define CUSTNO_BAD(in)        ID_NONE(CA_ID_CUSTOMER_NUMBER, NULL, in)
#define NIC_OK(in, canon)     ID_OK(CA_ID_NIC, NULL, in, CA_ID_NIC, canon)
#define NIC_BAD(in)           ID_NONE(CA_ID_NIC, NULL, in)
#define PHONE_OK(cc, in, canon)                                               \
    ID_OK(CA_ID_PHONE, cc, in, CA_ID_PHONE, canon)
#define PHONE_BAD(cc, in)     ID_NONE(CA_ID_PHONE, cc, in)
#define DOMAIN_OK(in, canon)  ID_OK(CA_ID_DOMAIN, NULL, in, CA_ID_DOMAIN, canon)
#define DOMAIN_BAD(in)        ID_NONE(CA_ID_DOMAIN, NULL, in)


/* n copies of s written at p and a NUL; returns the NUL's position */

static char *
repeat(char *p, const char *s, size_t n)
{
    size_t  len;

    len = strlen(s);

    while (n--) {
        memcpy(p, s, len);
        p += len;
    }

    *p = '\0';

    return p;
}


static void
test_kind_names(void **state)
{
    const char    *names[] = { "email", "customer_number", "nic", "phone",
                               "domain" };
    ca_id_kind_e   kinds[] = { CA_ID_EMAIL, CA_ID_CUSTOMER_NUMBER, CA_ID_NIC,
                               CA_ID_PHONE, CA_ID_DOMAIN };
    size_t         i;

    for (i = 0; i < 5; i++) {
        assert_string_equal(ca_ident_kind_name(kinds[i]), names[i]);
        assert_int_equal(ca_ident_kind_from_name(names[i], strlen(names[i])),
                         kinds[i]);
    }

    assert_null(ca_ident_kind_name(CA_ID_NONE));
    assert_null(ca_ident_kind_name(CA_ID_EMAIL | CA_ID_PHONE));
    assert_null(ca_ident_kind_name(CA_ID_ALL));

    assert_int_equal(ca_ident_kind_from_name("email", 4), CA_ID_NONE);
    assert_int_equal(ca_ident_kind_from_name("emails", 6), CA_ID_NONE);
    assert_int_equal(ca_ident_kind_from_name("Email", 5), CA_ID_NONE);
    assert_int_equal(ca_ident_kind_from_name("", 0), CA_ID_NONE);
    assert_int_equal(ca_ident_kind_from_name("customer-number", 15),
                     CA_ID_NONE);
}


static void
test_white_space_is_trimmed(void **state)
{
    EMAIL_OK("  ana@example.com\t\r\n", "ana@example.com");
    CUSTNO_OK("\v 9000 \f", "9000");

    EMAIL_BAD("ana @example.com");
    EMAIL_BAD("");
    EMAIL_BAD(" \t\r\n ");
    ID_NONE(ALL, "34", "   ");
}


static void
test_email(void **state)
{
    EMAIL_OK("ana@example.com", "ana@example.com");
    EMAIL_OK("Ana.Lopez+Billing@Example.COM", "ana.lopez+billing@example.com");
    EMAIL_OK("ana@example.com.", "ana@example.com");
    EMAIL_OK("a!#$%&'*/=?^_`{|}~-@example.com",
             "a!#$%&'*/=?^_`{|}~-@example.com");

    EMAIL_BAD("ana");
    EMAIL_BAD("@example.com");
    EMAIL_BAD("ana@");
    EMAIL_BAD("ana@@example.com");
    EMAIL_BAD("ana@b@example.com");
    EMAIL_BAD("ana@localhost");
    EMAIL_BAD("ana@exa mple.com");
    EMAIL_BAD("a na@example.com");
    EMAIL_BAD("ana\t@example.com");
    EMAIL_BAD("ana\x01@example.com");
    EMAIL_BAD("ana\x7f@example.com");
    EMAIL_BAD("ana@-example.com");
    EMAIL_BAD("ana@example..com");
}


static void
test_email_domain_is_canonical(void **state)
{
    EMAIL_OK("ana@M\xc3\xbcnchen.DE", "ana@xn--mnchen-3ya.de");
    EMAIL_OK("ana@xn--mnchen-3ya.de", "ana@xn--mnchen-3ya.de");
    EMAIL_BAD("ana@m\xc3nchen.de");
}


static void
test_email_utf8_local_part(void **state)
{
    /* only ASCII letters change case */
    EMAIL_OK("Jos\xc3\xa9@example.es", "jos\xc3\xa9@example.es");
    EMAIL_OK("JOS\xc3\x89@example.es", "jos\xc3\x89@example.es");

    EMAIL_BAD("jos\xc3@example.es");            /* truncated */
    EMAIL_BAD("jos\xc0\xa9@example.es");        /* overlong */
    EMAIL_BAD("jos\xed\xa0\x80@example.es");    /* surrogate */
    EMAIL_BAD("jos\xc2\x85@example.es");        /* C1 control NEL */
}


static void
test_email_lengths(void **state)
{
    char  in[512], *p;

    /* local part: 64 bytes at most */

    p = repeat(in, "a", 64);
    strcpy(p, "@example.com");
    EMAIL_OK(in, in);

    p = repeat(in, "a", 65);
    strcpy(p, "@example.com");
    EMAIL_BAD(in);

    /* 254 bytes in all: 64 + '@' + 189 */

    p = repeat(in, "a", 64);
    p = repeat(p, "@", 1);
    p = repeat(p, "b", 63);
    p = repeat(p, ".", 1);
    p = repeat(p, "c", 63);
    p = repeat(p, ".", 1);
    p = repeat(p, "d", 61);
    assert_int_equal(strlen(in), 254);
    EMAIL_OK(in, in);

    repeat(p, "d", 1);
    EMAIL_BAD(in);
}


static void
test_customer_number(void **state)
{
    CUSTNO_OK("9000", "9000");
    CUSTNO_OK("09000", "9000");
    CUSTNO_OK("0", "0");
    CUSTNO_OK("000", "0");
    CUSTNO_OK("12345678901234567890", "12345678901234567890");
    CUSTNO_OK("0000012345678901234567890", "12345678901234567890");

    CUSTNO_BAD("123456789012345678901");
    CUSTNO_BAD("90a0");
    CUSTNO_BAD("-9000");
    CUSTNO_BAD("9000.");
    CUSTNO_BAD("9 000");
    CUSTNO_BAD("\xd9\xa9");                     /* ARABIC-INDIC NINE */
}


static void
test_nic(void **state)
{
    NIC_OK("dm429850-OVH", "dm429850-ovh");
    NIC_OK("AB1234-FRNIC", "ab1234-frnic");
    NIC_OK("a1-bc", "a1-bc");
    NIC_OK("abcdefghijkl1234567890-abcdefghij",
           "abcdefghijkl1234567890-abcdefghij");

    NIC_BAD("abcdefghijklm1-ovh");              /* 13 letters */
    NIC_BAD("ab12345678901-ovh");               /* 11 digits */
    NIC_BAD("ab1-o");                           /* 1-letter suffix */
    NIC_BAD("ab1-abcdefghijk");                 /* 11-letter suffix */
    NIC_BAD("ab-ovh");
    NIC_BAD("1234-ovh");
    NIC_BAD("ab1234ovh");
    NIC_BAD("ab1234-");
    NIC_BAD("ab12-34-ovh");
    NIC_BAD("ab12-ov1");
    NIC_BAD("ab12_ovh");
    NIC_BAD("ab12-\xc3\x93vh");
    NIC_BAD("ab12-ovh.");
}


static void
test_phone_international(void **state)
{
    PHONE_OK(NULL, "+34 612 345 678", "+34612345678");
    PHONE_OK(NULL, "+34-612-345-678", "+34612345678");
    PHONE_OK(NULL, "+34.612.345.678", "+34612345678");
    PHONE_OK(NULL, "+1 (212) 555-0100", "+12125550100");
    PHONE_OK(NULL, "0034 612 345 678", "+34612345678");
    PHONE_OK(NULL, "0034612345678", "+34612345678");

    /* no country code starts with 0 */
    PHONE_BAD(NULL, "+034 612 345 678");
    PHONE_BAD(NULL, "000 34 612 345 678");
}


static void
test_phone_trunk_in_parentheses(void **state)
{
    PHONE_OK(NULL, "+44 (0)20 7946 0958", "+442079460958");
    PHONE_OK(NULL, "0044 (0)20 7946 0958", "+442079460958");
    PHONE_OK(NULL, "+44 20 7946 0958", "+442079460958");

    PHONE_BAD(NULL, "+(0)44 20 7946 0958");
}


static void
test_phone_national(void **state)
{
    PHONE_OK("34", "612 345 678", "+34612345678");
    PHONE_OK("34", "612345678", "+34612345678");
    PHONE_OK("44", "020 7946 0958", "+442079460958");
    PHONE_OK("44", "(020) 7946-0958", "+442079460958");
    PHONE_OK("33", "01.23.45.67.89", "+33123456789");
    PHONE_OK("1", "(212) 555-0100", "+12125550100");

    /* without a usable country, only international numbers */
    PHONE_BAD(NULL, "612 345 678");
    PHONE_BAD("", "612 345 678");
    PHONE_BAD("034", "612 345 678");
    PHONE_BAD("1234", "612 345 678");
    PHONE_BAD("3a", "612 345 678");
    PHONE_OK("", "+34 612 345 678", "+34612345678");
}


static void
test_phone_lengths(void **state)
{
    PHONE_OK(NULL, "+1234 5678", "+12345678");
    PHONE_OK(NULL, "+123 456 789 012 345", "+123456789012345");
    PHONE_OK("34", "0 612 345", "+34612345");

    PHONE_BAD(NULL, "+123 4567");
    PHONE_BAD(NULL, "+123 456 789 012 3456");
    PHONE_BAD(NULL, "00 123 456 789 012 3456");
    PHONE_BAD("34", "0 612 3");
    PHONE_BAD("34", "6 123 456 789 0123");
    PHONE_BAD("34", "+");
    PHONE_BAD("34", "00");
    PHONE_BAD("34", "0");
}


static void
test_phone_characters(void **state)
{
    PHONE_BAD("34", "+34 612 345 678 ext 9");
    PHONE_BAD("34", "+34/612/345/678");
    PHONE_BAD("34", "++34 612 345 678");
    PHONE_BAD("34", "34+612345678");
    PHONE_BAD("34", "(+34) 612 345 678");
    PHONE_BAD("34", "+34 612 345 67O");
    PHONE_BAD("34", " - . ( ) ");
}


static void
test_domain(void **state)
{
    DOMAIN_OK("example.com", "example.com");
    DOMAIN_OK("Example.COM", "example.com");
    DOMAIN_OK("www.example.com.", "www.example.com");
    DOMAIN_OK("a-1.b2.example", "a-1.b2.example");
    DOMAIN_OK("123.example.com", "123.example.com");

    DOMAIN_BAD("localhost");
    DOMAIN_BAD("localhost.");
    DOMAIN_BAD(".example.com");
    DOMAIN_BAD("example..com");
    DOMAIN_BAD("example.com..");
    DOMAIN_BAD("-example.com");
    DOMAIN_BAD("example-.com");
    DOMAIN_BAD("example.-com");
    DOMAIN_BAD("exa_mple.com");
    DOMAIN_BAD("exa mple.com");
    DOMAIN_BAD("exa*mple.com");
    DOMAIN_BAD("example.com/");
    DOMAIN_BAD(".");
}


static void
test_domain_numeric_top_label(void **state)
{
    /* RFC 3696: a numeric top label would make an IPv4 address a domain */
    DOMAIN_BAD("192.168.1.1");
    DOMAIN_BAD("example.123");
    DOMAIN_OK("example.x1", "example.x1");
}


static void
test_domain_lengths(void **state)
{
    char  in[512], canon[512], *p;

    p = repeat(in, "a", 63);
    strcpy(p, ".com");
    DOMAIN_OK(in, in);

    p = repeat(in, "a", 64);
    strcpy(p, ".com");
    DOMAIN_BAD(in);

    /* 253 characters in all, a trailing dot not counted */

    p = repeat(in, "a", 63);
    p = repeat(p, ".", 1);
    p = repeat(p, "b", 63);
    p = repeat(p, ".", 1);
    p = repeat(p, "c", 63);
    p = repeat(p, ".", 1);
    p = repeat(p, "d", 61);
    assert_int_equal(strlen(in), 253);
    DOMAIN_OK(in, in);

    strcpy(canon, in);
    repeat(p, ".", 1);
    DOMAIN_OK(in, canon);

    repeat(p, "d", 1);
    DOMAIN_BAD(in);
}


static void
test_idn(void **state)
{
    DOMAIN_OK("m\xc3\xbcnchen.de", "xn--mnchen-3ya.de");
    DOMAIN_OK("espa\xc3\xb1" "a.com", "xn--espaa-rta.com");
    DOMAIN_OK("b\xc3\xbc" "cher.example.", "xn--bcher-kva.example");
    DOMAIN_OK("\xc3\xb1.es", "xn--ida.es");
    DOMAIN_OK("fa\xc3\x9f.de", "xn--fa-hia.de");
    DOMAIN_OK("\xf0\x9f\x94\x91.example", "xn--kv8h.example");
    DOMAIN_OK("\xe4\xbe\x8b\xe3\x81\x88.\xe3\x83\x86\xe3\x82\xb9\xe3\x83\x88",
              "xn--r8jz45g.xn--zckzah");

    /* the ASCII letters of a label are lower-cased before encoding */
    DOMAIN_OK("M\xc3\xbcNCHEN.DE", "xn--mnchen-3ya.de");

    /* the encoded spelling names the same domain */
    DOMAIN_OK("XN--MNCHEN-3YA.de", "xn--mnchen-3ya.de");
}


static void
test_idn_rfc3492_vectors(void **state)
{
    /* RFC 3492, section 7.1, (A) Arabic (Egyptian) */
    DOMAIN_OK("\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xa8\xd8\xaa\xd9\x83"
              "\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a"
              "\xd8\x9f.eg",
              "xn--egbpdaj6bu4bxfgehfvwxn.eg");

    /* (B) Chinese (simplified) */
    DOMAIN_OK("\xe4\xbb\x96\xe4\xbb\xac\xe4\xb8\xba\xe4\xbb\x80\xe4\xb9\x88"
              "\xe4\xb8\x8d\xe8\xaf\xb4\xe4\xb8\xad\xe6\x96\x87.cn",
              "xn--ihqwcrb4cv8a8dqg056pqjye.cn");

    /* (C) Chinese (traditional) */
    DOMAIN_OK("\xe4\xbb\x96\xe5\x80\x91\xe7\x88\xb2\xe4\xbb\x80\xe9\xba\xbd"
              "\xe4\xb8\x8d\xe8\xaa\xaa\xe4\xb8\xad\xe6\x96\x87.tw",
              "xn--ihqwctvzc91f659drss3x8bo0yb.tw");

    /* (I) Russian (Cyrillic), lower-case */
    DOMAIN_OK("\xd0\xbf\xd0\xbe\xd1\x87\xd0\xb5\xd0\xbc\xd1\x83\xd0\xb6\xd0\xb5"
              "\xd0\xbe\xd0\xbd\xd0\xb8\xd0\xbd\xd0\xb5\xd0\xb3\xd0\xbe\xd0\xb2"
              "\xd0\xbe\xd1\x80\xd1\x8f\xd1\x82\xd0\xbf\xd0\xbe\xd1\x80\xd1\x83"
              "\xd1\x81\xd1\x81\xd0\xba\xd0\xb8.ru",
              "xn--b1abfaaepdrnnbgefbadotcwatmq2g4l.ru");

    /* (J) Spanish, lower-case */
    DOMAIN_OK("porqu\xc3\xa9nopuedensimplementehablarenespa\xc3\xb1ol.es",
              "xn--porqunopuedensimplementehablarenespaol-fmd56a.es");
}


static void
test_idn_label_length_after_encoding(void **state)
{
    char  in[512], canon[512], *p;

    /* 57 bytes of UTF-8 that encode to exactly 63 */

    p = repeat(in, "a", 55);
    p = repeat(p, "\xc3\xbc", 1);
    strcpy(p, ".de");

    p = repeat(canon, "xn--", 1);
    p = repeat(p, "a", 55);
    strcpy(p, "-8yf.de");

    DOMAIN_OK(in, canon);

    /* 58 bytes that encode to 64 */

    p = repeat(in, "a", 56);
    p = repeat(p, "\xc3\xbc", 1);
    strcpy(p, ".de");
    DOMAIN_BAD(in);

    p = repeat(in, "\xc3\xbc", 64);
    strcpy(p, ".de");
    DOMAIN_BAD(in);
}


static void
test_idn_bad_labels(void **state)
{
    DOMAIN_BAD("m\xc3nchen.de");                 /* truncated */
    DOMAIN_BAD("m\xbcnchen.de");                 /* stray continuation */
    DOMAIN_BAD("m\xc1\xbcnchen.de");             /* overlong */
    DOMAIN_BAD("m\xed\xa0\x80nchen.de");         /* surrogate */
    DOMAIN_BAD("m\xf4\x90\x80\x80nchen.de");     /* above U+10FFFF */
    DOMAIN_BAD("m\xc2\x85nchen.de");             /* C1 control NEL */
    DOMAIN_BAD("m\xc3\xbc_nchen.de");
    DOMAIN_BAD("m\xc3\xbc nchen.de");
    DOMAIN_BAD("-m\xc3\xbcnchen.de");
    DOMAIN_BAD("m\xc3\xbcnchen-.de");
    DOMAIN_BAD("m\xc3\xbcnchen");
}


static void
test_shape_picks_the_kind(void **state)
{
    ID_OK(ALL, "34", "ana@example.com", CA_ID_EMAIL, "ana@example.com");
    ID_OK(ALL, "34", "dm429850-OVH", CA_ID_NIC, "dm429850-ovh");
    ID_OK(ALL, "34", "Example.com", CA_ID_DOMAIN, "example.com");
    ID_OK(ALL, "34", "+34 612 345 678", CA_ID_PHONE, "+34612345678");
    ID_OK(ALL, "34", "0034612345678", CA_ID_PHONE, "+34612345678");
    ID_OK(ALL, "34", "612 345 678", CA_ID_PHONE, "+34612345678");
    ID_OK(ALL, "34", "612-345-678", CA_ID_PHONE, "+34612345678");
    ID_OK(ALL, "34", "(612)345678", CA_ID_PHONE, "+34612345678");
    ID_OK(ALL, "34", "09000", CA_ID_CUSTOMER_NUMBER, "9000");
    ID_OK(ALL, "34", "612345678", CA_ID_CUSTOMER_NUMBER, "612345678");

    /* '@' wins over everything else */
    ID_OK(ALL, "34", "dm429850-ovh@example.com", CA_ID_EMAIL,
          "dm429850-ovh@example.com");
    ID_OK(ALL, "34", "612345678@example.com", CA_ID_EMAIL,
          "612345678@example.com");

    /* the shape decides, even when the value is then invalid */
    ID_NONE(ALL, "34", "ana@localhost");
    ID_NONE(ALL, "34", "exa_mple.com");
    ID_NONE(ALL, "34", "+34 612");
    ID_NONE(ALL, "34", "ana");
}


static void
test_shape_dotted_phone_numbers(void **state)
{
    /* only phone characters: not a domain when phones are accepted */
    ID_OK(CA_ID_DOMAIN | CA_ID_PHONE, "34", "612.345.678", CA_ID_PHONE,
          "+34612345678");
    ID_OK(CA_ID_DOMAIN | CA_ID_PHONE, "34", "+34.612.345.678", CA_ID_PHONE,
          "+34612345678");

    ID_NONE(CA_ID_DOMAIN, "34", "612.345.678");

    ID_OK(CA_ID_DOMAIN | CA_ID_PHONE, "34", "612.example", CA_ID_DOMAIN,
          "612.example");
}


static void
test_shape_only_accepted_kinds(void **state)
{
    ID_OK(CA_ID_PHONE, "34", "612345678", CA_ID_PHONE, "+34612345678");
    ID_OK(CA_ID_PHONE | CA_ID_CUSTOMER_NUMBER, "34", "612345678",
          CA_ID_CUSTOMER_NUMBER, "612345678");

    ID_NONE(CA_ID_EMAIL, "34", "9000");
    ID_NONE(CA_ID_EMAIL, "34", "example.com");
    ID_NONE(CA_ID_EMAIL, "34", "dm429850-OVH");
    ID_NONE(CA_ID_EMAIL, "34", "+34 612 345 678");
    ID_NONE(CA_ID_DOMAIN, "34", "ana@example.com");
    ID_NONE(CA_ID_DOMAIN, "34", "dm429850-OVH");
    ID_NONE(CA_ID_CUSTOMER_NUMBER, "34", "612 345 678");
    ID_NONE(CA_ID_NIC | CA_ID_EMAIL, "34", "9000");
    ID_NONE(CA_ID_NONE, "34", "ana@example.com");

    /* a NIC handle is no domain: it has no dot */
    ID_NONE(CA_ID_DOMAIN | CA_ID_EMAIL, "34", "dm429850-OVH");
}


static void
test_normalise_kind(void **state)
{
    char  out[CA_IDENT_MAX];

    assert_int_equal(normalise_kind(CA_ID_EMAIL, NULL, " Ana@Example.com ",
                                    out),
                     CA_ID_EMAIL);
    assert_string_equal(out, "ana@example.com");

    assert_int_equal(normalise_kind(CA_ID_PHONE, "34", "612345678", out),
                     CA_ID_PHONE);
    assert_string_equal(out, "+34612345678");

    assert_int_equal(normalise_kind(CA_ID_CUSTOMER_NUMBER, "34", "612345678",
                                    out),
                     CA_ID_CUSTOMER_NUMBER);
    assert_string_equal(out, "612345678");

    assert_int_equal(normalise_kind(CA_ID_NIC, NULL, "AB1234-FRNIC", out),
                     CA_ID_NIC);
    assert_string_equal(out, "ab1234-frnic");

    assert_int_equal(normalise_kind(CA_ID_DOMAIN, NULL, "M\xc3\xbcnchen.de",
                                    out),
                     CA_ID_DOMAIN);
    assert_string_equal(out, "xn--mnchen-3ya.de");

    assert_int_equal(normalise_kind(CA_ID_EMAIL, NULL, "example.com", out),
                     CA_ID_NONE);
    assert_string_equal(out, "");

    assert_int_equal(normalise_kind(CA_ID_PHONE, "34", "9000", out),
                     CA_ID_NONE);
    assert_int_equal(normalise_kind(CA_ID_NONE, "34", "9000", out),
                     CA_ID_NONE);
    assert_int_equal(normalise_kind(CA_ID_ALL, "34", "9000", out),
                     CA_ID_NONE);
    assert_int_equal(normalise_kind(CA_ID_EMAIL | CA_ID_DOMAIN, NULL,
                                    "example.com", out),
                     CA_ID_NONE);
}


static void
test_utf8_decode(void **state)
{
    uint32_t  cp;

    assert_int_equal(ca_utf8_decode((const unsigned char *) "A", 1, &cp), 1);
    assert_int_equal(cp, 0x41);
    assert_int_equal(ca_utf8_decode((const unsigned char *) "\xc3\xa9", 2,
                                    &cp), 2);
    assert_int_equal(cp, 0xe9);
    assert_int_equal(ca_utf8_decode((const unsigned char *) "\xe2\x82\xac",
                                    3, &cp), 3);
    assert_int_equal(cp, 0x20ac);
    assert_int_equal(ca_utf8_decode((const unsigned char *)
                                    "\xf4\x8f\xbf\xbf", 4, &cp), 4);
    assert_int_equal(cp, 0x10ffff);

    /* a sequence must fit in the bytes given */
    assert_int_equal(ca_utf8_decode((const unsigned char *) "\xc3\xa9", 1,
                                    &cp), 0);
    assert_int_equal(ca_utf8_decode((const unsigned char *) "\xe0\xa0\x80",
                                    2, &cp), 0);
    assert_int_equal(ca_utf8_decode((const unsigned char *) "\xe0\x9f\xbf",
                                    3, &cp), 0);
    assert_int_equal(ca_utf8_decode((const unsigned char *) "\xf8\x88\x80"
                                    "\x80\x80", 5, &cp), 0);
}


int
main(void)
{
    const struct CMUnitTest  tests[] = {
        cmocka_unit_test(test_kind_names),
        cmocka_unit_test(test_white_space_is_trimmed),
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_email_domain_is_canonical),
        cmocka_unit_test(test_email_utf8_local_part),
        cmocka_unit_test(test_email_lengths),
        cmocka_unit_test(test_customer_number),
        cmocka_unit_test(test_nic),
        cmocka_unit_test(test_phone_international),
        cmocka_unit_test(test_phone_trunk_in_parentheses),
        cmocka_unit_test(test_phone_national),
        cmocka_unit_test(test_phone_lengths),
        cmocka_unit_test(test_phone_characters),
        cmocka_unit_test(test_domain),
        cmocka_unit_test(test_domain_numeric_top_label),
        cmocka_unit_test(test_domain_lengths),
        cmocka_unit_test(test_idn),
        cmocka_unit_test(test_idn_rfc3492_vectors),
        cmocka_unit_test(test_idn_label_length_after_encoding),
        cmocka_unit_test(test_idn_bad_labels),
        cmocka_unit_test(test_shape_picks_the_kind),
        cmocka_unit_test(test_shape_dotted_phone_numbers),
        cmocka_unit_test(test_shape_only_accepted_kinds),
        cmocka_unit_test(test_normalise_kind),
        cmocka_unit_test(test_utf8_decode),
    };

    return cmocka_run_group_tests_name("ca_ident", tests, group_setup, NULL);
}

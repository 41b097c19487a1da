/*
 * Device names and networks for the lists of sessions and the login
 * notices (ca_device.h).
 */

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "ca_device.h"


typedef struct {
    const char  *token;             /* found anywhere in the User-Agent */
    const char  *name;
} ca_device_match_t;


/* Order matters: Edge and Opera say Chrome, Chrome says Safari. */
static const ca_device_match_t  ca_device_browsers[] = {
    { "Edg/", "Edge" },
    { "EdgA/", "Edge" },
    { "EdgiOS/", "Edge" },
    { "OPR/", "Opera" },
    { "Opera", "Opera" },
    { "SamsungBrowser/", "Samsung Internet" },
    { "YaBrowser/", "Yandex" },
    { "Vivaldi/", "Vivaldi" },
    { "FxiOS/", "Firefox" },
    { "Firefox/", "Firefox" },
    { "CriOS/", "Chrome" },
    { "Chromium/", "Chromium" },
    { "Chrome/", "Chrome" },
    { "Safari/", "Safari" },
    { "Trident/", "Internet Explorer" },
    { "MSIE ", "Internet Explorer" },
    { NULL, NULL }
};

/* iOS says "like Mac OS X", Android says Linux. */
static const ca_device_match_t  ca_device_systems[] = {
    { "iPhone", "iOS" },
    { "iPad", "iPadOS" },
    { "iPod", "iOS" },
    { "Android", "Android" },
    { "CrOS", "ChromeOS" },
    { "Windows", "Windows" },
    { "Macintosh", "macOS" },
    { "Mac OS X", "macOS" },
    { "Linux", "Linux" },
    { "FreeBSD", "FreeBSD" },
    { NULL, NULL }
};


static const char *
ca_device_find(const ca_device_match_t *table, const char *ua, size_t len)
{
    size_t  i, n;

    for (; table->token; table++) {
        n = strlen(table->token);

        for (i = 0; i + n <= len; i++) {
            if (memcmp(ua + i, table->token, n) == 0) {
                return table->name;
            }
        }
    }

    return NULL;
}


/* "curl/8.0" -> "curl": the first product token, printable, bounded. */

static size_t
ca_device_product(char *buf, const char *ua, size_t len)
{
    size_t  i, n;

    n = 0;

    for (i = 0; i < len && n < 24; i++) {
        if (ua[i] == '/' || ua[i] == ' ' || ua[i] == '(' || ua[i] == ';') {
            break;
        }

        if (ua[i] < 0x21 || ua[i] > 0x7e || ua[i] == '"' || ua[i] == '\\'
            || ua[i] == '<' || ua[i] == '>' || ua[i] == '&')
        {
            continue;
        }

        buf[n++] = ua[i];
    }

    if (n == 0) {
        memcpy(buf, "unknown", sizeof("unknown"));
        return sizeof("unknown") - 1;
    }

    buf[n] = '\0';

    return n;
}


size_t
ca_device_name(char *buf, const char *ua, size_t len)
{
    int          n;
    const char  *browser, *system;

    browser = ca_device_find(ca_device_browsers, ua, len);
    system = ca_device_find(ca_device_systems, ua, len);

    if (browser == NULL) {
        n = (int) ca_device_product(buf, ua, len);

        if (system == NULL || strcmp(buf, "unknown") == 0 || strlen(buf)
            + strlen(system) + 3 >= CA_DEVICE_NAME_MAX)
        {
            return (size_t) n;
        }

        return (size_t) snprintf(buf + n, CA_DEVICE_NAME_MAX - n, " (%s)",
                                 system) + n;
    }

    if (system == NULL) {
        n = snprintf(buf, CA_DEVICE_NAME_MAX, "%s", browser);

    } else {
        n = snprintf(buf, CA_DEVICE_NAME_MAX, "%s (%s)", browser, system);
    }

    return (size_t) n;
}


size_t
ca_device_network(char *buf, const unsigned char *addr, size_t len)
{
    static const unsigned char  mapped[12] = {
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
    };

    if (len == 16 && memcmp(addr, mapped, sizeof(mapped)) == 0) {
        addr += 12;
        len = 4;
    }

    if (len == 4) {
        return (size_t) snprintf(buf, CA_DEVICE_NETWORK_MAX, "%u.%u.%u.0/24",
                                 addr[0], addr[1], addr[2]);
    }

    if (len == 16) {
        return (size_t) snprintf(buf, CA_DEVICE_NETWORK_MAX,
                                 "%x:%x:%x::/48",
                                 (addr[0] << 8) | addr[1],
                                 (addr[2] << 8) | addr[3],
                                 (addr[4] << 8) | addr[5]);
    }

    return 0;
}


void
ca_device_print(char out[CA_DEVICE_PRINT_LEN + 1], const char *account,
    const char *user, const char *name, const char *network)
{
    unsigned char             digest[CA_DEVICE_PRINT_LEN / 2];
    crypto_generichash_state  st;

    /* NUL-separated: no two different pairs make the same input */
    crypto_generichash_init(&st, NULL, 0, sizeof(digest));
    crypto_generichash_update(&st, (const unsigned char *) account,
                              strlen(account) + 1);
    crypto_generichash_update(&st, (const unsigned char *) user,
                              strlen(user) + 1);
    crypto_generichash_update(&st, (const unsigned char *) name,
                              strlen(name) + 1);
    crypto_generichash_update(&st, (const unsigned char *) network,
                              strlen(network) + 1);
    crypto_generichash_final(&st, digest, sizeof(digest));

    sodium_bin2hex(out, CA_DEVICE_PRINT_LEN + 1, digest, sizeof(digest));
}

/*
 * libFuzzer target for ca_device: any User-Agent bytes, any address.
 *
 * Properties checked, besides memory safety: the device name is printable
 * ASCII without '"', '\', '<', '>' or '&' (it is shown in pages, JSON and
 * clientauthctl's output), NUL-terminated within CA_DEVICE_NAME_MAX, its
 * returned length is its length, and the same input names the same device;
 * a network is "a.b.c.0/24" or "x:y:z::/48" within CA_DEVICE_NETWORK_MAX,
 * the same for every address of that network.
 */

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ca_device.h"


static void
check_name(const uint8_t *data, size_t size)
{
    char    a[CA_DEVICE_NAME_MAX], b[CA_DEVICE_NAME_MAX];
    size_t  n, i;

    memset(a, 0x7f, sizeof(a));
    n = ca_device_name(a, (const char *) data, size);

    if (n == 0 || n >= CA_DEVICE_NAME_MAX || strlen(a) != n) {
        abort();
    }

    for (i = 0; i < n; i++) {
        if (a[i] < 0x20 || a[i] > 0x7e || a[i] == '"' || a[i] == '\\'
            || a[i] == '<' || a[i] == '>' || a[i] == '&')
        {
            abort();
        }
    }

    (void) ca_device_name(b, (const char *) data, size);

    if (strcmp(a, b) != 0) {
        abort();
    }
}


static void
check_network(const uint8_t *data, size_t size)
{
    char           a[CA_DEVICE_NETWORK_MAX], b[CA_DEVICE_NETWORK_MAX];
    size_t         n, len;
    unsigned char  addr[16];

    len = size >= 16 ? 16 : (size >= 4 ? 4 : 0);
    if (len == 0) {
        return;
    }

    memcpy(addr, data, len);
    n = ca_device_network(a, addr, len);

    if (n == 0 || n >= CA_DEVICE_NETWORK_MAX || strlen(a) != n
        || (strstr(a, "/24") == NULL && strstr(a, "::/48") == NULL))
    {
        abort();
    }

    /* the host part does not matter (of an IPv6 or an IPv4-mapped one) */
    addr[len - 1] ^= 0xff;

    (void) ca_device_network(b, addr, len);

    if (strcmp(a, b) != 0) {
        abort();
    }
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_name(data, size);
    check_network(data, size);

    return 0;
}

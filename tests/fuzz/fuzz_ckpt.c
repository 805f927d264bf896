/* libFuzzer target: the resume checkpoint's reader (sim/driver/ckpt.c) on arbitrary bytes, as
 * `flywheel run --resume` reads NAME.h5.ckpt. Every input is decoded twice: as it is (the
 * checksums' refusals), and resealed -- the header's and every section's FNV-1a recomputed
 * where the layout (sim/driver/ckpt.h) finds them -- so that a mutation reaches the sections'
 * decoding instead of stopping at a checksum, which random bytes almost never match. A
 * checkpoint that decodes is encoded again and must give back exactly the bytes it came from
 * (the format has one encoding), and decode again. Nothing here may exit(): a crash, a
 * sanitizer report, a leak or a mismatch is a finding. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "driver/ckpt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { HEADER = 64, SECTION_HEAD = 24 };   /* ckpt.h's layout */

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* The checksums of p[0..n) recomputed where the layout puts them: the header's over its 40
 * bytes, then each section's over its payload, as far as the lengths stay inside. */
static void reseal(unsigned char *p, size_t n)
{
    if (n < HEADER)
        return;
    put64(p + 48, fw_fnv64(FW_FNV64_INIT, p + 8, 40));
    for (size_t at = HEADER; n - at >= SECTION_HEAD;) {
        uint64_t len = get64(p + at + 8);
        if (len > n - at - SECTION_HEAD)
            break;
        put64(p + at + 16, fw_fnv64(FW_FNV64_INIT, p + at + SECTION_HEAD, (size_t)len));
        at += SECTION_HEAD + (size_t)len;
    }
}

/* Decodes p[0..n); one that decodes must encode back to p and decode again. */
static void one(const uint8_t *p, size_t n)
{
    fw_ckpt c;
    char why[256];
    fw_err rc = fw_ckpt_decode(p, n, &c, why, sizeof why);
    if (rc == FW_OK) {
        unsigned char *buf = NULL;
        size_t len = 0;
        if (fw_ckpt_encode(&c, &buf, &len) == FW_OK) {
            if (len != n || memcmp(buf, p, n) != 0)
                abort();
            fw_ckpt d;
            if (fw_ckpt_decode(buf, len, &d, why, sizeof why) != FW_OK)
                abort();
            fw_ckpt_fini(&d);
        }
        free(buf);
    } else if (rc == FW_ERR_PARSE && !why[0]) {
        abort();   /* every refusal says why */
    }
    fw_ckpt_fini(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    reseal(copy, size);
    if (memcmp(copy, data, size) != 0)
        one(copy, size);
    free(copy);
    return 0;
}

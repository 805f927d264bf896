/* Unit tests for the resume checkpoint (sim/driver/ckpt): a round trip keeps every field,
 * and the reader -- the file is untrusted input -- refuses every truncation, every flipped
 * bit, trailing bytes, a wrong magic or format, and hand-made lengths that point past the
 * end, without reading outside its buffer (run under ASan in CI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "driver/ckpt.h"

static char *ov[] = {"world.n_users=500", "days=3"};
static uint64_t dig[] = {0x1111, 0x2222222222222222ull, 0xdeadbeefcafef00dull};

static fw_ckpt sample(void)
{
    fw_ckpt c = {.seed = 42, .scenario_hash = 0x0123456789abcdefull, .days_done = 3, .days_planned = 5,
                 .replicates = 2, .version = "9.9.9", .git_revision = "abc123", .scenario_path = "x/tiny.yaml",
                 .scenario_text = "name: tiny\nseed: 42\n", .overrides = ov, .n_overrides = 2, .day_digest = dig};
    return c;
}

static void encode(unsigned char **buf, size_t *len)
{
    fw_ckpt c = sample();
    assert_int_equal(fw_ckpt_encode(&c, buf, len), FW_OK);
}

static void test_round_trip(void **state)
{
    (void)state;
    unsigned char *buf;
    size_t len;
    encode(&buf, &len);
    fw_ckpt d;
    char why[256];
    assert_int_equal(fw_ckpt_decode(buf, len, &d, why, sizeof why), FW_OK);
    assert_int_equal(d.seed, 42);
    assert_int_equal(d.scenario_hash, 0x0123456789abcdefull);
    assert_int_equal(d.days_done, 3);
    assert_int_equal(d.days_planned, 5);
    assert_int_equal(d.replicates, 2);
    assert_string_equal(d.version, "9.9.9");
    assert_string_equal(d.git_revision, "abc123");
    assert_string_equal(d.scenario_path, "x/tiny.yaml");
    assert_string_equal(d.scenario_text, "name: tiny\nseed: 42\n");
    assert_int_equal(d.n_overrides, 2);
    assert_string_equal(d.overrides[0], "world.n_users=500");
    assert_string_equal(d.overrides[1], "days=3");
    for (int i = 0; i < 3; i++)
        assert_true(d.day_digest[i] == dig[i]);
    fw_ckpt_fini(&d);
    free(buf);
}

/* No overrides and no day (a checkpoint with empty sections) also round-trips. */
static void test_empty_sections(void **state)
{
    (void)state;
    fw_ckpt c = sample();
    c.n_overrides = 0;
    c.days_done = 0;
    c.scenario_text = "";
    unsigned char *buf;
    size_t len;
    assert_int_equal(fw_ckpt_encode(&c, &buf, &len), FW_OK);
    fw_ckpt d;
    char why[256];
    assert_int_equal(fw_ckpt_decode(buf, len, &d, why, sizeof why), FW_OK);
    assert_int_equal(d.n_overrides, 0);
    assert_int_equal(d.days_done, 0);
    assert_string_equal(d.scenario_text, "");
    fw_ckpt_fini(&d);
    free(buf);
}

/* Every prefix is refused (a copy of exactly that many bytes, so ASan sees any over-read). */
static void test_truncated(void **state)
{
    (void)state;
    unsigned char *buf;
    size_t len;
    encode(&buf, &len);
    for (size_t n = 0; n < len; n++) {
        unsigned char *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        fw_ckpt d;
        char why[256] = "";
        assert_int_equal(fw_ckpt_decode(cut, n, &d, why, sizeof why), FW_ERR_PARSE);
        assert_true(why[0] != '\0');
        fw_ckpt_fini(&d);
        free(cut);
    }
    free(buf);
}

/* Every single flipped bit is caught (magic, header checksum, a section's checksum or head). */
static void test_bit_flips(void **state)
{
    (void)state;
    unsigned char *buf;
    size_t len;
    encode(&buf, &len);
    for (size_t i = 0; i < len; i++)
        for (int b = 0; b < 8; b++) {
            buf[i] ^= (unsigned char)(1u << b);
            fw_ckpt d;
            char why[256];
            assert_int_equal(fw_ckpt_decode(buf, len, &d, why, sizeof why), FW_ERR_PARSE);
            fw_ckpt_fini(&d);
            buf[i] ^= (unsigned char)(1u << b);
        }
    free(buf);
}

static void test_trailing_and_magic(void **state)
{
    (void)state;
    unsigned char *buf;
    size_t len;
    encode(&buf, &len);
    unsigned char *more = malloc(len + 1);
    memcpy(more, buf, len);
    more[len] = 0;
    fw_ckpt d;
    char why[256];
    assert_int_equal(fw_ckpt_decode(more, len + 1, &d, why, sizeof why), FW_ERR_PARSE);
    assert_non_null(strstr(why, "after the last section"));
    fw_ckpt_fini(&d);
    memcpy(more, "\x89HDF\r\n\x1a\n", 8);   /* an HDF5 file handed in its place */
    assert_int_equal(fw_ckpt_decode(more, len, &d, why, sizeof why), FW_ERR_PARSE);
    assert_non_null(strstr(why, "magic"));
    fw_ckpt_fini(&d);
    free(more);
    free(buf);
}

/* A section length that points past the end, with its checksum made to match: refused by
 * the length check, not by reading past the buffer. */
static void test_huge_length(void **state)
{
    (void)state;
    unsigned char *buf;
    size_t len;
    encode(&buf, &len);
    size_t at = 64;   /* the first section's head */
    for (int i = 0; i < 8; i++)
        buf[at + 8 + i] = 0xff;
    fw_ckpt d;
    char why[256];
    assert_int_equal(fw_ckpt_decode(buf, len, &d, why, sizeof why), FW_ERR_PARSE);
    assert_non_null(strstr(why, "truncated"));
    fw_ckpt_fini(&d);
    free(buf);
}

/* The file functions: an atomic write reads back equal; a missing file is FW_ERR_IO. */
static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/fw-ckpt-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256], tmp[300];
    snprintf(path, sizeof path, "%s/r.h5.ckpt", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    fw_ckpt c = sample(), d;
    char why[256];
    size_t bytes = 0;
    assert_int_equal(fw_ckpt_read(path, &d, why, sizeof why), FW_ERR_IO);
    fw_ckpt_fini(&d);
    assert_int_equal(fw_ckpt_write(path, &c, &bytes, why, sizeof why), FW_OK);
    assert_true(bytes > 64);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_int_equal(fw_ckpt_read(path, &d, why, sizeof why), FW_OK);
    assert_int_equal(d.days_done, 3);
    fw_ckpt_fini(&d);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    fseek(f, (long)bytes - 1, SEEK_SET);
    fputc('X', f);
    fclose(f);
    assert_int_equal(fw_ckpt_read(path, &d, why, sizeof why), FW_ERR_PARSE);
    assert_non_null(strstr(why, "checksum"));
    fw_ckpt_fini(&d);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),        cmocka_unit_test(test_empty_sections),
        cmocka_unit_test(test_truncated),         cmocka_unit_test(test_bit_flips),
        cmocka_unit_test(test_trailing_and_magic), cmocka_unit_test(test_huge_length),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for state snapshots' format (engine/src/snap.c): one hook both saves and loads,
 * and a round trip keeps every value; the reader -- the file is untrusted input -- refuses
 * every truncation and every flipped bit, a section of another name, a section read short or
 * past its end, a count other than the loading state's, an index out of range and a vector
 * over its bound, without reading outside the file (run under ASan in CI) and leaving every
 * value it did not read zeroed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "flywheel/snap.h"

/* A state of every kind a hook transfers. */
typedef struct sample {
    uint8_t u8;
    uint32_t u32;
    int32_t i32;
    uint64_t u64;
    int64_t i64;
    float f32;
    double f64;
    size_t sz;
    uint32_t idx, ids[5];
    double arr[3];
    uint32_t *vec;
    size_t n_vec, cap_vec;
    uint32_t *v32;
    uint32_t n_v32, cap_v32;
} sample;

static void hook(fw_snap *s, sample *x)
{
    fw_snap_section(s, "scalars");
    fw_snap_u8(s, &x->u8);
    fw_snap_u32(s, &x->u32);
    fw_snap_i32(s, &x->i32);
    fw_snap_u64(s, &x->u64);
    fw_snap_i64(s, &x->i64);
    fw_snap_f32(s, &x->f32);
    fw_snap_f64(s, &x->f64);
    fw_snap_size(s, &x->sz);
    fw_snap_same_u32(s, 7, "the users");
    fw_snap_section(s, "arrays");
    fw_snap_index(s, &x->idx, 10, UINT32_MAX);
    fw_snap_indexes(s, x->ids, 5, 100, UINT32_MAX);
    fw_snap_array(s, x->arr, 3, sizeof *x->arr);
    fw_snap_vec(s, (void **)&x->vec, &x->n_vec, &x->cap_vec, sizeof *x->vec, 1000);
    fw_snap_vec32(s, (void **)&x->v32, &x->n_v32, &x->cap_v32, sizeof *x->v32, 1000);
}

static char path[256];

static void fill(sample *x)
{
    memset(x, 0, sizeof *x);
    *x = (sample){.u8 = 200, .u32 = 4000000000u, .i32 = -5, .u64 = 0x0123456789abcdefull, .i64 = -1234567890123ll,
                  .f32 = 1.5f, .f64 = -0.1, .sz = 99, .idx = 9, .ids = {0, 99, UINT32_MAX, 3, 4},
                  .arr = {1.0, 2.0, 3.0}};
    x->n_vec = x->cap_vec = 30;
    x->vec = malloc(30 * sizeof *x->vec);
    for (uint32_t i = 0; i < 30; i++)
        x->vec[i] = i * 7;
    x->n_v32 = x->cap_v32 = 2;
    x->v32 = malloc(2 * sizeof *x->v32);
    x->v32[0] = 11;
    x->v32[1] = 12;
}

static void drop(sample *x)
{
    free(x->vec);
    free(x->v32);
}

/* Writes the sample, returns the file's bytes (*len). */
static unsigned char *write_sample(size_t *len)
{
    sample x;
    fill(&x);
    fw_snap *s = fw_snap_create(path);
    assert_non_null(s);
    hook(s, &x);
    uint64_t bytes = 0;
    char why[256];
    assert_int_equal(fw_snap_finish(s, &bytes, why, sizeof why), FW_OK);
    drop(&x);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char *buf = malloc(bytes);
    assert_int_equal(fread(buf, 1, bytes, f), bytes);
    fclose(f);
    *len = bytes;
    return buf;
}

static void put_file(const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* Loads path into a zeroed sample: the close's code, why into why. */
static fw_err load(sample *x, char *why, size_t len)
{
    memset(x, 0, sizeof *x);
    fw_snap *s = fw_snap_open(path);
    assert_non_null(s);
    hook(s, x);
    return fw_snap_close(s, why, len);
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t n;
    free(write_sample(&n));
    sample x;
    char why[256];
    assert_int_equal(load(&x, why, sizeof why), FW_OK);
    sample want;
    fill(&want);
    assert_int_equal(x.u8, want.u8);
    assert_int_equal(x.u32, want.u32);
    assert_int_equal(x.i32, want.i32);
    assert_true(x.u64 == want.u64);
    assert_true(x.i64 == want.i64);
    assert_true(x.f32 == want.f32 && x.f64 == want.f64);
    assert_int_equal(x.sz, 99);
    assert_int_equal(x.idx, 9);
    assert_memory_equal(x.ids, want.ids, sizeof x.ids);
    assert_memory_equal(x.arr, want.arr, sizeof x.arr);
    assert_int_equal(x.n_vec, 30);
    assert_true(x.cap_vec >= 30);
    assert_memory_equal(x.vec, want.vec, 30 * sizeof *x.vec);
    assert_int_equal(x.n_v32, 2);
    assert_int_equal(x.v32[1], 12);
    drop(&x);
    drop(&want);
}

/* Every truncation and every flipped bit is refused, and nothing outside the file is read. */
static void test_damage(void **state)
{
    (void)state;
    size_t n;
    unsigned char *b = write_sample(&n);
    char why[256];
    sample x;
    for (size_t k = 0; k < n; k++) {
        put_file(b, k);
        assert_int_not_equal(load(&x, why, sizeof why), FW_OK);
        assert_true(why[0] != '\0');
        drop(&x);
    }
    for (size_t k = 0; k < n; k++)
        for (int bit = 0; bit < 8; bit++) {
            b[k] ^= (unsigned char)(1u << bit);
            put_file(b, n);
            fw_err rc = load(&x, why, sizeof why);
            b[k] ^= (unsigned char)(1u << bit);
            /* A flipped bit in the header's spare word or a tag's padding is still refused. */
            if (rc == FW_OK)
                fail_msg("flipping bit %d of byte %zu was not noticed", bit, k);
            drop(&x);
        }
    unsigned char *more = malloc(n + 1);
    memcpy(more, b, n);
    more[n] = 0;
    put_file(more, n + 1);
    assert_int_not_equal(load(&x, why, sizeof why), FW_OK);
    assert_non_null(strstr(why, "after the end mark"));
    drop(&x);
    free(more);
    free(b);
}

/* What a loading hook expects and the file does not hold: each names what was wrong. */
static void write_with(void (*w)(fw_snap *s))
{
    fw_snap *s = fw_snap_create(path);
    w(s);
    assert_int_equal(fw_snap_finish(s, NULL, NULL, 0), FW_OK);
}

static void w_other_count(fw_snap *s)
{
    double a[4] = {0};
    fw_snap_section(s, "a");
    fw_snap_array(s, a, 4, sizeof *a);
}

static void w_big_index(fw_snap *s)
{
    uint32_t v = 10;
    fw_snap_section(s, "a");
    fw_snap_index(s, &v, 11, UINT32_MAX);
}

static void w_big_vec(fw_snap *s)
{
    uint32_t v[3] = {1, 2, 3}, *p = v;
    size_t k = 3;
    fw_snap_section(s, "a");
    fw_snap_vec(s, (void **)&p, &k, NULL, sizeof *v, 3);
}

static void w_two_values(fw_snap *s)
{
    uint32_t a = 1, b = 2;
    fw_snap_section(s, "a");
    fw_snap_u32(s, &a);
    fw_snap_u32(s, &b);
}

/* Ticks: the bound itself, one past it each way, and INT32_MIN (a "never"). */
static void w_ticks(fw_snap *s)
{
    int32_t t[5] = {FW_SNAP_TICK_BOUND, -FW_SNAP_TICK_BOUND, FW_SNAP_TICK_BOUND + 1, -FW_SNAP_TICK_BOUND - 1,
                    INT32_MIN};
    fw_snap_section(s, "a");
    for (int i = 0; i < 5; i++)
        fw_snap_i32(s, &t[i]);
}

/* The tick at slot k of w_ticks's file, read with never into *v; whether the reader failed
 * (then the message names the tick). */
static int read_tick(int k, int never, int32_t *v)
{
    char why[256];
    int32_t skip;
    fw_snap *s = fw_snap_open(path);
    fw_snap_section(s, "a");
    for (int i = 0; i < k; i++)
        fw_snap_i32(s, &skip);
    fw_snap_tick(s, v, never, "the test's tick");
    int failed = fw_snap_failed(s);
    fw_snap_close(s, why, sizeof why);   /* the slots after k are left unread: not asked */
    if (failed)
        assert_non_null(strstr(why, "the test's tick is tick"));
    return failed;
}

static void test_tick_bound(void **state)
{
    (void)state;
    int32_t v = 0;
    write_with(w_ticks);
    assert_false(read_tick(0, 0, &v));
    assert_int_equal(v, FW_SNAP_TICK_BOUND);
    assert_false(read_tick(1, 0, &v));
    assert_int_equal(v, -FW_SNAP_TICK_BOUND);
    assert_true(read_tick(2, 0, &v));
    assert_true(read_tick(3, 0, &v));
    assert_true(read_tick(3, 1, &v));      /* never admits INT32_MIN only */
    assert_true(read_tick(4, 0, &v));
    assert_false(read_tick(4, 1, &v));
    assert_int_equal(v, INT32_MIN);
    /* An array of them: the first out of bound is named by its index. */
    char why[256];
    fw_snap *s = fw_snap_create(path);
    int32_t t[3] = {5, -FW_SNAP_TICK_BOUND - 1, 7}, r[3];
    fw_snap_section(s, "a");
    fw_snap_array(s, t, 3, sizeof *t);
    assert_int_equal(fw_snap_finish(s, NULL, NULL, 0), FW_OK);
    s = fw_snap_open(path);
    fw_snap_section(s, "a");
    fw_snap_ticks(s, r, 3, 1, "join");
    assert_true(fw_snap_failed(s));
    fw_snap_close(s, why, sizeof why);
    assert_non_null(strstr(why, "join 1 is tick"));
}

static void test_mismatch(void **state)
{
    (void)state;
    char why[256];
    double a[3];
    uint32_t v, *p = NULL;
    size_t k = 0;

    write_with(w_other_count);   /* an array of 4 where the state holds 3 */
    fw_snap *s = fw_snap_open(path);
    fw_snap_section(s, "a");
    a[0] = 5.0;
    fw_snap_array(s, a, 3, sizeof *a);
    assert_true(fw_snap_failed(s) && a[0] == 5.0);   /* a failed count reads nothing */
    assert_int_equal(fw_snap_close(s, why, sizeof why), FW_ERR_PARSE);
    assert_non_null(strstr(why, "section \"a\""));

    write_with(w_big_index);     /* 10 against a bound of 10 */
    s = fw_snap_open(path);
    fw_snap_section(s, "a");
    fw_snap_index(s, &v, 10, UINT32_MAX);
    assert_true(fw_snap_failed(s));
    assert_int_equal(v, UINT32_MAX);
    fw_snap_close(s, why, sizeof why);
    assert_non_null(strstr(why, "out of range"));

    write_with(w_big_vec);       /* 3 elements against a bound of 2 */
    s = fw_snap_open(path);
    fw_snap_section(s, "a");
    fw_snap_vec(s, (void **)&p, &k, NULL, sizeof *p, 2);
    assert_true(fw_snap_failed(s) && p == NULL && k == 0);
    fw_snap_close(s, why, sizeof why);

    write_with(w_two_values);    /* a section read short, then one that is not there */
    s = fw_snap_open(path);
    fw_snap_section(s, "a");
    fw_snap_u32(s, &v);
    fw_snap_section(s, "b");
    assert_true(fw_snap_failed(s));
    fw_snap_close(s, why, sizeof why);
    assert_non_null(strstr(why, "left unread"));

    s = fw_snap_open(path);      /* a section of another name */
    fw_snap_section(s, "z");
    assert_true(fw_snap_failed(s));
    fw_snap_close(s, why, sizeof why);
    assert_non_null(strstr(why, "\"z\" expected, found \"a\""));

    s = fw_snap_open(path);      /* read past the section's end: zeroes, not the next bytes */
    fw_snap_section(s, "a");
    uint64_t big = 7;
    fw_snap_u32(s, &v);
    fw_snap_u64(s, &big);
    assert_true(fw_snap_failed(s) && big == 0);
    fw_snap_close(s, why, sizeof why);

    s = fw_snap_open("/nonexistent/x.snap");   /* no file: a failed reader, not a crash */
    assert_true(fw_snap_failed(s));
    assert_int_not_equal(fw_snap_close(s, why, sizeof why), FW_OK);
}

static void test_write_failure(void **state)
{
    (void)state;
    fw_snap *s = fw_snap_create("/nonexistent/dir/x.snap");
    uint32_t v = 1;
    fw_snap_section(s, "a");
    fw_snap_u32(s, &v);
    char why[256];
    assert_int_equal(fw_snap_finish(s, NULL, why, sizeof why), FW_ERR_IO);
    assert_non_null(strstr(why, "cannot create"));
    if (access("/dev/full", W_OK) == 0) {   /* a full disk: the flush fails */
        s = fw_snap_create("/dev/full");
        uint32_t big[4096] = {0};
        fw_snap_section(s, "a");
        for (int i = 0; i < 2048; i++)
            fw_snap_array(s, big, 4096, sizeof *big);
        assert_int_equal(fw_snap_finish(s, NULL, why, sizeof why), FW_ERR_IO);
    }
}

int main(void)
{
    snprintf(path, sizeof path, "%s/fw_test_snap_%d.snap", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_damage),
        cmocka_unit_test(test_mismatch),
        cmocka_unit_test(test_tick_bound),
        cmocka_unit_test(test_write_failure),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    unlink(path);
    return rc;
}

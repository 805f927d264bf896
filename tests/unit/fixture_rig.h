/* Test fixture: the engine under test and its context, held by a cmocka setup/teardown pair so
 * that every test frees them however it ends (an assertion failing half way included), and the
 * small request, logging and checking helpers the engine's test binaries share. Header-only;
 * include it after <cmocka.h> (bench/feed_bench.c, which has no cmocka, includes only
 * fixture_engine.h). */
#ifndef FLYWHEEL_TEST_FIXTURE_RIG_H
#define FLYWHEEL_TEST_FIXTURE_RIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "flywheel/engine.h"

/* ---- the rig ------------------------------------------------------------------------- */

/* A zeroed block the rig frees at teardown; data is aligned for any type. */
typedef struct fixture_block {
    struct fixture_block *next;
    max_align_t data[];
} fixture_block;

typedef struct fixture_rig {
    fw_engine *e;
    fw_engine_ctx *c;
    fixture_block *blocks;
} fixture_rig;

static inline int fixture_rig_setup(void **state)
{
    *state = calloc(1, sizeof(fixture_rig));
    return *state ? 0 : -1;
}

/* Destroys the rig's context and engine, if it holds them. */
static inline void fixture_rig_close(fixture_rig *r)
{
    fw_engine_ctx_destroy(r->c);
    fw_engine_destroy(r->e);
    r->c = NULL;
    r->e = NULL;
}

static inline int fixture_rig_teardown(void **state)
{
    fixture_rig *r = *state;
    fixture_rig_close(r);
    while (r->blocks) {
        fixture_block *b = r->blocks;
        r->blocks = b->next;
        free(b);
    }
    free(r);
    return 0;
}

/* A test that gets a rig in *state. */
#define fixture_rig_test(f) cmocka_unit_test_setup_teardown(f, fixture_rig_setup, fixture_rig_teardown)

/* A new context on e; fails the test when there is none. */
static inline fw_engine_ctx *fixture_ctx(const fw_engine *e)
{
    fw_engine_ctx *c = fw_engine_ctx_create(e);
    assert_non_null(c);
    return c;
}

/* Hands e to the rig in *state, which destroys the engine it held before, and unless c is NULL
 * opens a context on it into *c; returns e. Both live until the next open or the end of the
 * test. */
static inline fw_engine *fixture_rig_open(void **state, fw_engine *e, fw_engine_ctx **c)
{
    fixture_rig *r = *state;
    fixture_rig_close(r);
    r->e = e;
    if (c)
        *c = r->c = fixture_ctx(e);
    return e;
}

/* A zeroed block of size bytes that lives until the end of the test. */
static inline void *fixture_rig_alloc(void **state, size_t size)
{
    fixture_rig *r = *state;
    fixture_block *b = calloc(1, sizeof *b + size);
    assert_non_null(b);
    b->next = r->blocks;
    r->blocks = b;
    return b->data;
}

/* ---- catalogs, requests and events ----------------------------------------------------- */

/* The follow lists of a catalog from n_edges edges (src[k] follows dst[k]) in CSR form:
 * off[0..n_users] and fol[0..n_edges), each user's list in edge order. */
static inline void fixture_follow_csr(uint32_t n_users, uint32_t n_edges, const uint32_t *src,
                                      const uint32_t *dst, uint64_t *off, uint32_t *fol)
{
    for (uint32_t u = 0; u <= n_users; u++)
        off[u] = 0;
    for (uint32_t k = 0; k < n_edges; k++)
        off[src[k] + 1]++;
    for (uint32_t u = 0; u < n_users; u++)
        off[u + 1] += off[u];
    /* Filling each list from its start moves off[u] to the start of the next list; shifting by
     * one puts the starts back. */
    for (uint32_t k = 0; k < n_edges; k++)
        fol[off[src[k]]++] = dst[k];
    for (uint32_t u = n_users; u > 0; u--)
        off[u] = off[u - 1];
    off[0] = 0;
}

/* One feed page for user under arm at tick, at most cap long; returns its length. */
static inline uint32_t fixture_serve(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t arm,
                                     int32_t tick, uint32_t *out, uint32_t cap)
{
    fw_feed_req req = {.user = user, .arm = arm, .tick = tick};
    return fw_feed_request(e, c, &req, out, cap);
}

/* Logs one note event, which must be accepted. */
static inline void fixture_log(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t note,
                               int32_t tick, uint32_t type)
{
    fw_event ev = {.user = user, .note = note, .tick = tick, .type = type};
    assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_OK);
}

/* ---- checks ---------------------------------------------------------------------------- */

/* Whether id is among v[0..n). */
static inline int fixture_has(const uint32_t *v, uint32_t n, uint32_t id)
{
    for (uint32_t i = 0; i < n; i++)
        if (v[i] == id)
            return 1;
    return 0;
}

/* A page of n ids that must be want[0..n_want). */
static inline void fixture_assert_page(const uint32_t *got, uint32_t n, const uint32_t *want,
                                       uint32_t n_want)
{
    assert_int_equal(n, n_want);
    for (uint32_t i = 0; i < n; i++)
        assert_int_equal(got[i], want[i]);
}

/* A module's self-check (fw_ads_check, fw_market_check, fw_shop_check) must pass on e; else
 * the test fails with its message, prefixed by name. */
static inline void fixture_assert_check(fw_err (*check)(const fw_engine *, char *, size_t),
                                        const char *name, const fw_engine *e)
{
    char why[256] = "";
    if (check(e, why, sizeof why) != FW_OK)
        fail_msg("%s: %s", name, why);
}

#endif

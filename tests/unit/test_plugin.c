/* Unit tests for the ranker plug-in path (engine.feed.algorithm plugin, flywheel/policy.h)
 * through the public headers: the baseline as a plug-in serves the built-in baseline's pages
 * request for request while both engines learn from the same events; a faulty answer serves
 * nothing and fails the tick's end with FW_ERR_PLUGIN naming the request, the same way for any
 * request order; fw_policy_check_ranker's answers for every plug-in that cannot load. The
 * plug-ins are the build's (FW_POLICY_DIR: build/policies). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture_engine.h"
#include "flywheel/engine.h"
#include "flywheel/policy.h"

#define TPD 24u
#define N_USERS 40u
#define N_NOTES 400u

static fw_note_info notes[N_NOTES];
static uint64_t off[N_USERS + 1];
static uint32_t dst[N_USERS * 3];

/* Notes of every age and creator, three follows per user. */
static fw_catalog catalog(void)
{
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = (fw_note_info){.creator = (i * 7) % N_USERS, .topic = (uint16_t)(i % 5), .format = (uint8_t)(i & 1),
                                  .created_tick = -(int32_t)(i % 97)};
    for (uint32_t u = 0; u < N_USERS; u++) {
        off[u] = 3 * u;
        for (uint32_t k = 0; k < 3; k++)
            dst[3 * u + k] = (u + 1 + 5 * k) % N_USERS;
    }
    off[N_USERS] = 3 * N_USERS;
    return (fw_catalog){.n_users = N_USERS, .n_topics = 5, .ticks_per_day = TPD, .n_notes = N_NOTES, .notes = notes,
                        .follow_offsets = off, .follows = dst, .seed = 7};
}

static fw_engine_cfg plugin_cfg(const char *file, const char *args)
{
    static char path[2][1024], arg[2][256];
    static int k;
    k ^= 1;
    snprintf(path[k], sizeof path[k], "%s/%s", FW_POLICY_DIR, file);
    snprintf(arg[k], sizeof arg[k], "%s", args);
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.feed.algorithm = FW_FEED_PLUGIN;
    cfg.feed.plugin = path[k];
    cfg.feed.plugin_args = arg[k];
    return cfg;
}

static void test_baseline_plugin_equals_builtin(void **state)
{
    (void)state;
    fw_catalog cat = catalog();
    fw_engine_cfg base = fixture_engine_cfg(), plug = plugin_cfg("baseline.so", "");
    fw_err err;
    fw_engine *a = fw_engine_create(&cat, &base, 1, &err), *b = fw_engine_create(&cat, &plug, 1, &err);
    assert_non_null(a);
    assert_non_null(b);
    fw_engine_ctx *ca = fw_engine_ctx_create(a), *cb = fw_engine_ctx_create(b);
    assert_non_null(ca);
    assert_non_null(cb);
    for (int32_t t = 0; t < 3 * (int32_t)TPD; t++) {
        fw_event ev[N_USERS * 2];
        size_t n_ev = 0;
        for (uint32_t u = t % 3; u < N_USERS; u += 3) {
            fw_feed_req req = {.user = u, .arm = 0, .tick = t};
            uint32_t pa[16], pb[16];
            uint32_t na = fw_feed_request(a, ca, &req, pa, 16), nb = fw_feed_request(b, cb, &req, pb, 16);
            assert_int_equal(na, nb);
            assert_memory_equal(pa, pb, na * sizeof *pa);
            if (na) {   /* the user opens the page's first note: both engines learn the same */
                ev[n_ev++] = (fw_event){.user = u, .note = pa[0], .tick = t, .type = FW_EV_IMPRESSION};
                ev[n_ev++] = (fw_event){.user = u, .note = pa[0], .tick = t, .type = FW_EV_OPEN};
            }
        }
        assert_int_equal(fw_engine_log_events(a, ca, ev, n_ev), FW_OK);
        assert_int_equal(fw_engine_log_events(b, cb, ev, n_ev), FW_OK);
        assert_int_equal(fw_engine_end_tick(a, ca, t), FW_OK);
        assert_int_equal(fw_engine_end_tick(b, cb, t), FW_OK);
    }
    fw_engine_ctx_destroy(ca);
    fw_engine_ctx_destroy(cb);
    fw_engine_destroy(a);
    fw_engine_destroy(b);
}

/* A duplicate from tick TPD on: requests of users 9 and 4 (in that order) fault; the tick's
 * end names user 4, the lowest, whatever the order the requests came in. */
static void test_fault_fails_tick_end(void **state)
{
    (void)state;
    fw_catalog cat = catalog();
    fw_engine_cfg cfg = plugin_cfg("faulty.so", "fault=dup day=1");
    fw_err err;
    fw_engine *e = fw_engine_create(&cat, &cfg, 1, &err);
    assert_non_null(e);
    fw_engine_ctx *c = fw_engine_ctx_create(e);
    uint32_t page[16];
    fw_feed_req r0 = {.user = 9, .arm = 0, .tick = 0};
    assert_true(fw_feed_request(e, c, &r0, page, 16) > 0);
    assert_int_equal(fw_engine_end_tick(e, c, 0), FW_OK);
    fw_feed_req r9 = {.user = 9, .arm = 0, .tick = TPD}, r4 = {.user = 4, .arm = 0, .tick = TPD};
    assert_int_equal(fw_feed_request(e, c, &r9, page, 16), 0);   /* a faulty answer serves nothing */
    assert_int_equal(fw_feed_request(e, c, &r4, page, 16), 0);
    assert_int_equal(fw_engine_end_tick(e, c, TPD), FW_ERR_PLUGIN);
    const char *why = fw_engine_error(e);
    assert_non_null(strstr(why, "plugin 'faulty'"));
    assert_non_null(strstr(why, "feed request of user 4 (cell 0) at tick 24 (day 1, tick 0)"));
    assert_non_null(strstr(why, "twice"));
    fw_engine_ctx_destroy(c);
    fw_engine_destroy(e);
}

static void expect_refused(const char *file, const char *args, fw_err code, const char *text)
{
    char why[1024] = "";
    fw_engine_cfg cfg = plugin_cfg(file, args);
    assert_int_equal(fw_policy_check_ranker(&cfg, 100, 5, TPD, 1, why, sizeof why), code);
    if (!strstr(why, text))
        fail_msg("%s: '%s' lacks '%s'", file, why, text);
    assert_non_null(strstr(why, file));   /* the file is named */
}

static void test_check_ranker(void **state)
{
    (void)state;
    char why[1024];
    fw_engine_cfg ok = plugin_cfg("epsilon_greedy.so", "epsilon=0.2");
    assert_int_equal(fw_policy_check_ranker(&ok, 100, 5, TPD, 1, why, sizeof why), FW_OK);
    expect_refused("none.so", "", FW_ERR_IO, "cannot read the ranker plug-in");
    expect_refused("broken_abi.so", "", FW_ERR_INVAL, "ABI version 3");
    expect_refused("broken_table.so", "", FW_ERR_INVAL, "has no rank function");
    expect_refused("broken_symbol.so", "", FW_ERR_NOTFOUND, "no symbol fw_ranker_plugin");
    expect_refused("epsilon_greedy.so", "epsilon=2", FW_ERR_INVAL, "refused to start");
    /* The configuration check refuses the algorithm without a path, and fw_engine_create too. */
    fw_engine_cfg none = fixture_engine_cfg();
    none.feed.algorithm = FW_FEED_PLUGIN;
    assert_int_equal(fw_engine_cfg_check(&none, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.feed.plugin"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_baseline_plugin_equals_builtin),
        cmocka_unit_test(test_fault_fails_tick_end),
        cmocka_unit_test(test_check_ranker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

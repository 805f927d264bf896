/* Unit tests for the engine's safety module (engine/src/safety.c, flywheel/safety.h): the
 * classifier's measured precision and recall per class against its knobs, the review queue
 * (capacity per tick, handling time, FIFO order, backlog, reports), and the actions as the
 * feed and the digest serve them. Catalogs are built by hand; the oracle is a table. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/engine.h"
#include "flywheel/notify.h"
#include "flywheel/safety.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define TPD 24u

typedef struct truth_table {
    const uint8_t *cls;
    uint32_t n;
} truth_table;

static uint32_t table_oracle(void *ctx, uint32_t note)
{
    const truth_table *t = ctx;
    return note < t->n ? t->cls[note] : FW_VIOL_NONE;
}

static fw_engine_cfg mod_cfg(void)
{
    fw_engine_cfg c = fixture_engine_cfg();
    c.feed.ad_first_slot = 0;
    c.safety.action = FW_SAFETY_REMOVE;
    return c;
}

/* An engine over n notes by creators 1.. (round robin over n_users - 1; every note by creator 1
 * when one_creator), all created at tick, the even users following creator 1. */
static fw_engine *build_with(void **state, uint32_t n_users, uint32_t n, int32_t tick, const fw_engine_cfg *cfgs,
                             uint32_t n_cells, fw_engine_ctx **c, int one_creator)
{
    fw_note_info *notes = fixture_rig_alloc(state, (size_t)n * sizeof *notes);
    for (uint32_t i = 0; i < n; i++)
        notes[i] = (fw_note_info){.creator = one_creator ? 1 : 1 + i % (n_users - 1), .topic = (uint16_t)(i % 4),
                                  .format = FW_FORMAT_IMAGE, .created_tick = tick};
    uint64_t *off = fixture_rig_alloc(state, ((size_t)n_users + 1) * sizeof *off);
    uint32_t *src = fixture_rig_alloc(state, n_users * sizeof *src), *dst = fixture_rig_alloc(state, n_users * sizeof *dst);
    uint32_t *fol = fixture_rig_alloc(state, n_users * sizeof *fol), n_edges = 0;
    for (uint32_t u = 0; u < n_users; u += 2) {
        src[n_edges] = u;
        dst[n_edges++] = 1;
    }
    fixture_follow_csr(n_users, n_edges, src, dst, off, fol);
    fw_catalog cat = {.n_users = n_users, .n_topics = 4, .ticks_per_day = TPD, .n_notes = n, .notes = notes,
                      .follow_offsets = off, .follows = fol, .seed = 12345};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, n_cells, &err);
    assert_non_null(e);
    return fixture_rig_open(state, e, c);
}

static fw_engine *build(void **state, uint32_t n_users, uint32_t n, int32_t tick, const fw_engine_cfg *cfgs,
                        uint32_t n_cells, fw_engine_ctx **c)
{
    return build_with(state, n_users, n, tick, cfgs, n_cells, c, 0);
}

/* Classes: a keyed hash of the note id with shares 5% per violating class. */
static uint8_t *make_truth(void **state, uint32_t n, double share)
{
    uint8_t *cls = fixture_rig_alloc(state, n);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t x = (uint64_t)i * UINT64_C(0x9e3779b97f4a7c15);
        x ^= x >> 31;
        x *= UINT64_C(0xbf58476d1ce4e5b9);
        x ^= x >> 29;
        double u = (double)(x >> 11) * 0x1.0p-53;
        cls[i] = (uint8_t)(u < 4 * share ? 1 + (uint32_t)(u / share) : FW_VIOL_NONE);
    }
    return cls;
}

/* The measured precision and recall at 0.5 of every class, for each of two cells with
 * different knobs, within 4 binomial standard errors of the knobs. */
static void test_classifier_pr(void **state)
{
    const uint32_t n = 100000;
    fw_engine_cfg cfgs[2] = {mod_cfg(), mod_cfg()};
    for (int k = 0; k < 2; k++) {
        cfgs[k].safety.threshold_lo = cfgs[k].safety.threshold_hi = 1.0;   /* score only */
    }
    const double rec[2][4] = {{0.8, 0.5, 0.6, 0.9}, {0.3, 0.95, 0.7, 0.4}};
    const double prec[2][4] = {{0.9, 0.7, 0.7, 0.6}, {0.5, 0.8, 0.95, 0.99}};
    for (int k = 0; k < 2; k++) {
        fw_safety_cfg *s = &cfgs[k].safety;
        s->recall_spam = rec[k][0], s->recall_fake = rec[k][1], s->recall_clickbait = rec[k][2], s->recall_unsafe = rec[k][3];
        s->precision_spam = prec[k][0], s->precision_fake = prec[k][1], s->precision_clickbait = prec[k][2],
        s->precision_unsafe = prec[k][3];
    }
    fw_engine_ctx *c;
    fw_engine *e = build(state, 50, n, -5, cfgs, 2, &c);
    truth_table t = {make_truth(state, n, 0.05), n};
    fw_safety_set_oracle(e, table_oracle, &t);
    assert_int_equal(fw_engine_end_tick(e, c, 0), FW_OK);
    for (uint32_t cell = 0; cell < 2; cell++) {
        double tp[FW_VIOL__COUNT] = {0}, pos[FW_VIOL__COUNT] = {0}, pred_n[FW_VIOL__COUNT] = {0};
        for (uint32_t i = 0; i < n; i++) {
            uint32_t pred;
            double x = fw_safety_score(e, cell, i, &pred);
            assert_true(x >= 0.0 && x < 1.0);
            assert_true((x >= 0.5) == (pred != FW_VIOL_NONE));
            pos[t.cls[i]]++;
            pred_n[pred]++;
            tp[pred] += pred == t.cls[i] && pred != FW_VIOL_NONE;
        }
        for (uint32_t k = 1; k < FW_VIOL__COUNT; k++) {
            double r = tp[k] / pos[k], p = tp[k] / pred_n[k];
            double want_r = rec[cell][k - 1], want_p = prec[cell][k - 1];
            double se_r = sqrt(want_r * (1 - want_r) / pos[k]) + 1e-9, se_p = sqrt(want_p * (1 - want_p) / pred_n[k]) + 1e-9;
            print_message("  cell %u %-9s recall %.4f (knob %.2f)  precision %.4f (knob %.2f)\n", cell,
                          fw_violation_name(k), r, want_r, p, want_p);
            assert_true(fabs(r - want_r) < 4 * se_r + 1e-3);
            assert_true(fabs(p - want_p) < 4 * se_p + 1e-3);
        }
    }
    fw_safety_day d;
    assert_int_equal(fw_safety_day_stats(e, 0, &d), FW_OK);
    assert_int_equal(d.scored, n);
    assert_int_equal(d.queued, 0);   /* threshold_lo = 1: no band */
    assert_int_equal(d.actioned, 0);
}

/* Thresholds move the trade: a higher threshold_hi actions fewer notes and fewer clean ones. */
static void test_thresholds_trade(void **state)
{
    const uint32_t n = 50000;
    fw_engine_cfg cfgs[2] = {mod_cfg(), mod_cfg()};
    cfgs[0].safety.threshold_lo = cfgs[0].safety.threshold_hi = 0.6;
    cfgs[1].safety.threshold_lo = cfgs[1].safety.threshold_hi = 0.9;
    fw_engine_ctx *c;
    fw_engine *e = build(state, 50, n, -5, cfgs, 2, &c);
    truth_table t = {make_truth(state, n, 0.05), n};
    fw_safety_set_oracle(e, table_oracle, &t);
    assert_int_equal(fw_engine_end_tick(e, c, 0), FW_OK);
    fw_safety_day lo, hi;
    assert_int_equal(fw_safety_day_stats(e, 0, &lo), FW_OK);
    assert_int_equal(fw_safety_day_stats(e, 1, &hi), FW_OK);
    print_message("  hi 0.6: actioned %llu wrongful %llu; hi 0.9: actioned %llu wrongful %llu\n",
                  (unsigned long long)lo.actioned, (unsigned long long)lo.actioned_violating[0],
                  (unsigned long long)hi.actioned, (unsigned long long)hi.actioned_violating[0]);
    assert_true(lo.actioned > hi.actioned);
    assert_true(lo.actioned_violating[0] > 2 * hi.actioned_violating[0]);
    assert_true(lo.auto_actioned == lo.actioned && lo.proactive == lo.actioned);
    uint64_t sum = 0;
    for (int k = 0; k < FW_VIOL__COUNT; k++)
        sum += lo.actioned_violating[k];
    assert_int_equal(sum, lo.actioned);
}

/* The queue: everything goes to review (band [0, 1)); 2 notes a tick are taken, each decided
 * 3 ticks later, in arrival (FIFO) order; the backlog falls by 2 a tick; times to action are
 * the ticks waited plus the handling time. */
static void test_queue(void **state)
{
    const uint32_t n = 10;
    fw_engine_cfg cfg = mod_cfg();
    cfg.safety.threshold_lo = 0.0;
    cfg.safety.threshold_hi = 1.0;
    cfg.safety.review_capacity = 2;
    cfg.safety.review_ticks = 3;
    fw_engine_ctx *c;
    fw_engine *e = build(state, 5, n, 100, &cfg, 1, &c);
    uint8_t cls[10] = {1, 0, 2, 0, 3, 4, 0, 1, 0, 4};   /* 6 violate */
    truth_table t = {cls, n};
    fw_safety_set_oracle(e, table_oracle, &t);
    fw_safety_day d;
    for (int32_t tick = 100; tick < 100 + 9; tick++) {
        assert_int_equal(fw_engine_end_tick(e, c, tick), FW_OK);
        assert_int_equal(fw_safety_day_stats(e, 0, &d), FW_OK);
        int32_t k = tick - 100;   /* ticks since the first */
        uint32_t taken = 2 * (uint32_t)(k + 1) < n ? 2 * (uint32_t)(k + 1) : n;
        uint32_t decided = k >= 3 ? (2 * (uint32_t)(k - 2) < n ? 2 * (uint32_t)(k - 2) : n) : 0;
        assert_int_equal(d.queued, n);
        assert_int_equal(d.backlog, n - taken);
        assert_int_equal(d.in_review, taken - decided);
        assert_int_equal(d.reviewed, decided);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t st = fw_safety_state_of(e, 0, i);
            if (i < decided)   /* FIFO: the first decided are the first queued */
                assert_int_equal(st, cls[i] ? FW_NOTE_ACTIONED : FW_NOTE_CLEARED);
            else
                assert_int_equal(st, FW_NOTE_QUEUED);
        }
    }
    assert_int_equal(d.actioned, 6);
    assert_int_equal(d.actioned_violating[0], 0);   /* reviewers make no error at review_error 0 */
    assert_int_equal(d.proactive, 6);
    /* The violating notes 0, 2, 4, 5, 7, 9 are decided at ticks 103, 104, 105, 105, 106, 107:
     * 3, 4, 5, 5, 6 and 7 ticks after publication (nearest-rank median: the 3rd). */
    assert_int_equal(d.tta_p50, 5);
    assert_int_equal(d.tta_p99, 7);
    /* The day's end resets the figures, not the queue. */
    assert_int_equal(fw_engine_end_day(e, c, 4), FW_OK);
    assert_int_equal(fw_safety_day_stats(e, 0, &d), FW_OK);
    assert_int_equal(d.actioned, 0);
    assert_int_equal(d.backlog, 0);
}

/* Reports queue a note the classifier let pass; it is actioned after review and does not count
 * as proactive. A cell that does not moderate counts nothing. */
static void test_reports(void **state)
{
    fw_engine_cfg cfgs[2] = {mod_cfg(), fixture_engine_cfg()};
    cfgs[0].safety.threshold_lo = cfgs[0].safety.threshold_hi = 1.0;   /* no band: only reports queue */
    cfgs[0].safety.review_capacity = 1;
    cfgs[0].safety.review_ticks = 1;
    fw_engine_ctx *c;
    fw_engine *e = build(state, 5, 4, 0, cfgs, 2, &c);
    uint8_t cls[4] = {FW_VIOL_UNSAFE, 0, 0, 0};
    truth_table t = {cls, 4};
    fw_safety_set_oracle(e, table_oracle, &t);
    assert_int_equal(fw_engine_end_tick(e, c, 0), FW_OK);
    assert_int_equal(fw_safety_state_of(e, 0, 0), FW_NOTE_LIVE);
    assert_int_equal(fw_safety_report(e, 2, 0, 1), FW_OK);   /* user 2 is in cell 0 (catalog default) */
    assert_int_equal(fw_safety_report(e, 3, 1, 1), FW_OK);   /* a false report */
    assert_int_equal(fw_safety_report(e, 2, 99, 1), FW_ERR_INVAL);
    assert_int_equal(fw_safety_state_of(e, 0, 0), FW_NOTE_QUEUED);
    for (int32_t tick = 1; tick <= 4; tick++)
        assert_int_equal(fw_engine_end_tick(e, c, tick), FW_OK);
    assert_int_equal(fw_safety_state_of(e, 0, 0), FW_NOTE_ACTIONED);
    assert_int_equal(fw_safety_state_of(e, 0, 1), FW_NOTE_CLEARED);
    fw_safety_day d;
    assert_int_equal(fw_safety_day_stats(e, 0, &d), FW_OK);
    assert_int_equal(d.reports, 2);
    assert_int_equal(d.queued_reports, 2);
    assert_int_equal(d.actioned, 1);
    assert_int_equal(d.proactive, 0);
    assert_int_equal(fw_safety_day_stats(e, 1, &d), FW_OK);
    assert_int_equal(d.scored + d.reports + d.actioned, 0);
    assert_int_equal(fw_safety_day_stats(e, 2, &d), FW_ERR_INVAL);
}

static int served(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t cell, uint32_t note, uint32_t *pos)
{
    uint32_t out[64];
    fw_feed_req req = {.user = user, .arm = cell, .tick = 10};
    uint32_t n = fw_feed_request(e, c, &req, out, 64);
    for (uint32_t i = 0; i < n; i++)
        if (out[i] == note) {
            if (pos)
                *pos = i;
            return 1;
        }
    return 0;
}

/* What an action does to the feed, cell by cell: remove hides the note from everyone,
 * followers from all but the creator's followers, downrank moves it below its equals, and a
 * cell that does not moderate serves it as before. Notes: four by creator 1 (followed by user
 * 0), created at tick 8; note 0 is unsafe and the classifier catches it (recall 1). */
static void test_actions_in_feed(void **state)
{
    fw_engine_cfg cfgs[4] = {fixture_engine_cfg(), mod_cfg(), mod_cfg(), mod_cfg()};
    cfgs[0].feed.ad_first_slot = 0;
    cfgs[2].safety.action = FW_SAFETY_FOLLOWERS;
    cfgs[3].safety.action = FW_SAFETY_DOWNRANK;
    for (int k = 1; k < 4; k++) {
        cfgs[k].safety.recall_unsafe = 1.0;
        cfgs[k].safety.precision_unsafe = 1.0;
        cfgs[k].safety.threshold_lo = cfgs[k].safety.threshold_hi = 0.5;
    }
    fw_engine_ctx *c;
    fw_engine *e = build_with(state, 6, 4, 8, cfgs, 4, &c, 1);
    uint8_t cls[4] = {FW_VIOL_UNSAFE, 0, 0, 0};
    truth_table t = {cls, 4};
    fw_safety_set_oracle(e, table_oracle, &t);
    assert_int_equal(fw_engine_end_tick(e, c, 9), FW_OK);
    for (uint32_t cell = 1; cell < 4; cell++) {
        assert_int_equal(fw_safety_state_of(e, cell, 0), FW_NOTE_ACTIONED);
        for (uint32_t i = 1; i < 4; i++)
            assert_int_equal(fw_safety_state_of(e, cell, i), FW_NOTE_LIVE);
    }
    uint32_t pos;
    /* One request per user (a user is never served a note twice): even users follow
     * creator 1, who is user 1. */
    assert_true(served(e, c, 0, 0, 0, &pos));
    assert_int_equal(pos, 0);   /* equal scores: the lowest id first */
    assert_false(served(e, c, 2, 1, 0, NULL));   /* removed, even for a follower */
    assert_true(served(e, c, 4, 2, 0, NULL));    /* limited: a follower sees it */
    assert_true(served(e, c, 1, 2, 0, NULL));    /* and the creator */
    assert_false(served(e, c, 3, 2, 0, NULL));   /* but nobody else */
    assert_true(served(e, c, 5, 3, 0, &pos));
    assert_int_equal(pos, 3);   /* down-ranked below its three equals */
}

/* The digest serves what the cell's moderation lets through: a removed note is left out of
 * its creator's followers' digests in the cell that removed it, and kept in a cell that does
 * not moderate. */
static void test_actions_in_digest(void **state)
{
    fw_engine_cfg cfgs[2] = {mod_cfg(), fixture_engine_cfg()};
    cfgs[0].notify.digest_size = cfgs[1].notify.digest_size = 5;
    cfgs[0].safety.recall_unsafe = cfgs[0].safety.precision_unsafe = 1.0;
    cfgs[0].safety.threshold_lo = cfgs[0].safety.threshold_hi = 0.5;
    fw_engine_ctx *c;
    fw_engine *e = build_with(state, 4, 1, -1000, cfgs, 2, &c, 1);
    uint8_t cls[4] = {0, FW_VIOL_UNSAFE, 0, 0};   /* the catalog's note, then three new ones */
    truth_table t = {cls, 4};
    fw_safety_set_oracle(e, table_oracle, &t);
    uint32_t id[3];
    for (int k = 0; k < 3; k++) {
        fw_note_info ni = {.creator = 1, .topic = 1, .created_tick = 3 + k};
        assert_int_equal(fw_engine_publish(e, c, &ni, &id[k]), FW_OK);
    }
    assert_int_equal(id[0], 1);
    assert_int_equal(fw_engine_end_tick(e, c, 6), FW_OK);
    assert_int_equal(fw_safety_state_of(e, 0, 1), FW_NOTE_ACTIONED);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    uint32_t out[8], n;
    n = fw_notify_digest(e, 0, 0, out, 8);   /* user 0 follows creator 1 */
    assert_int_equal(n, 2);
    for (uint32_t i = 0; i < n; i++)
        assert_int_not_equal(out[i], 1);
    assert_int_equal(fw_notify_digest(e, 0, 1, out, 8), 3);   /* the cell that does not moderate */
}

/* With safety off everywhere the module does not exist: no scores, no states, reports only
 * checked. */
static void test_off_by_default(void **state)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    fw_engine_ctx *c;
    fw_engine *e = build(state, 3, 3, 0, &cfg, 1, &c);
    fw_safety_set_oracle(e, table_oracle, NULL);
    assert_int_equal(fw_engine_end_tick(e, c, 0), FW_OK);
    assert_true(fw_safety_score(e, 0, 0, NULL) == 0.0);
    assert_int_equal(fw_safety_state_of(e, 0, 0), FW_NOTE_LIVE);
    assert_int_equal(fw_safety_report(e, 0, 0, 0), FW_OK);
    fw_safety_day d;
    assert_int_equal(fw_safety_day_stats(e, 0, &d), FW_OK);
    assert_int_equal(d.reports, 0);
    for (uint32_t g = 0; g < fw_engine_n_series_groups(e); g++) {
        fw_series_group grp;
        assert_int_equal(fw_engine_series(e, g, &grp), FW_OK);
        assert_string_not_equal(grp.name, "safety");
    }
}

/* The configuration rules: threshold_lo <= threshold_hi; no reviewers with a review band. */
static void test_cfg_rules(void **state)
{
    (void)state;
    char why[256];
    fw_engine_cfg cfg = mod_cfg();
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_OK);
    cfg.safety.threshold_lo = 0.95;
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.safety.threshold_lo"));
    cfg = mod_cfg();
    cfg.safety.review_capacity = 0;
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.safety.review_capacity"));
    cfg.safety.threshold_lo = cfg.safety.threshold_hi;   /* no band: nothing to review */
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_OK);
    cfg.safety.action = FW_SAFETY_OFF;
    cfg.safety.threshold_lo = 0.1;
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_OK);   /* off: no queue */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fixture_rig_test(test_classifier_pr),
        fixture_rig_test(test_thresholds_trade),
        fixture_rig_test(test_queue),
        fixture_rig_test(test_reports),
        fixture_rig_test(test_actions_in_feed),
        fixture_rig_test(test_actions_in_digest),
        fixture_rig_test(test_off_by_default),
        cmocka_unit_test(test_cfg_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

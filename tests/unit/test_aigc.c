/* Unit tests for issue 20's engine modules, through the public headers only:
 *  - the media pipeline (flywheel/media.h): off by default; capacity per tick and work units
 *    per format (hand-worked cases: a video blocks the images behind it, partial progress is
 *    kept, a note crosses stages with spare capacity in one tick); first in, first out; the
 *    delays and queue lengths in the day series; throughput equals the bottleneck capacity;
 *  - the AIGC detector (flywheel/aigc.h): measured recall and precision against the knobs
 *    over 4*10^4 publications, per knob (each knob moves its own measure, not the other);
 *    labels and down-rank flags by policy; the down-rank acting on the feed's ranking in one
 *    cell and not in another.
 * The catalog: 40 users (0..9 creators), 4 topics, 24 ticks a day, 40 notes before the start. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/aigc.h"
#include "flywheel/engine.h"
#include "flywheel/media.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define TPD 24u
#define N_USERS 40u
#define N_TOPICS 4u
#define N_NOTES 40u

static fw_engine *build(const fw_engine_cfg *cfgs, uint32_t n_arms)
{
    static fw_note_info notes[N_NOTES];
    static uint64_t off[N_USERS + 1];
    for (uint32_t i = 0; i < N_NOTES; i++)
        notes[i] = (fw_note_info){.creator = i % 10, .topic = (uint16_t)(i % N_TOPICS), .format = FW_FORMAT_IMAGE,
                                  .created_tick = -100};
    fw_catalog cat = {.n_users = N_USERS, .n_topics = N_TOPICS, .ticks_per_day = TPD, .n_notes = N_NOTES,
                      .notes = notes, .follow_offsets = off, .follows = NULL, .seed = 12345};
    fw_err err = FW_OK;
    char why[256] = "";
    fw_engine *e = fw_engine_create_why(&cat, cfgs, n_arms, &err, why, sizeof why);
    if (!e)
        fprintf(stderr, "engine: %s\n", why);
    assert_int_equal(err, FW_OK);
    assert_non_null(e);
    return e;
}

/* The day series value called name of module group mod (as of the last day end). */
static int64_t series(const fw_engine *e, const char *mod, const char *name)
{
    for (uint32_t k = 0; k < fw_engine_n_series_groups(e); k++) {
        fw_series_group g;
        assert_int_equal(fw_engine_series(e, k, &g), FW_OK);
        if (strcmp(g.name, mod) != 0)
            continue;
        for (uint32_t j = 0; j < g.n; j++)
            if (strcmp(g.series[j].name, name) == 0)
                return g.values[j];
    }
    fail_msg("no series %s/%s", mod, name);
    return 0;
}

/* ---- media ------------------------------------------------------------------------------ */

static fw_engine *media_engine(void **state, uint32_t up, uint32_t tr, uint32_t rv, fw_engine_ctx **c)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.media.upload_capacity = up;
    cfg.media.transcode_capacity = tr;
    cfg.media.review_capacity = rv;
    cfg.media.video_upload_units = 4;
    cfg.media.video_transcode_units = 10;
    cfg.media.video_review_units = 3;
    return fixture_rig_open(state, build(&cfg, 1), c);
}

static uint32_t step(fw_engine *e, int32_t tick)
{
    uint32_t n = 99;
    assert_int_equal(fw_media_step(e, tick, &n), FW_OK);
    return n;
}

static void test_media_off_by_default(void **state)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), NULL);
    assert_int_equal(fw_media_on(e), 0);
    uint32_t n;
    assert_int_equal(fw_media_submit(e, FW_FORMAT_IMAGE, 0), FW_ERR_INVAL);
    assert_int_equal(fw_media_step(e, 0, &n), FW_ERR_INVAL);
    uint64_t q[FW_MEDIA__STAGES] = {7, 7, 7};
    fw_media_queues(e, q);
    assert_true(q[0] == 0 && q[1] == 0 && q[2] == 0);
}

/* Transcode 5 units a tick, the rest unlimited: V(10) I I at tick 0. Tick 0: V half done, the
 * images wait behind it; tick 1: V done (delay 1), no budget left; tick 2: both images (2). */
static void test_media_video_blocks_fifo(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = media_engine(state, 0, 5, 0, &c);
    assert_int_equal(fw_media_on(e), 1);
    assert_int_equal(fw_media_submit(e, FW_FORMAT_VIDEO, 0), FW_OK);
    assert_int_equal(fw_media_submit(e, FW_FORMAT_IMAGE, 0), FW_OK);
    assert_int_equal(fw_media_submit(e, FW_FORMAT_IMAGE, 0), FW_OK);
    assert_int_equal(fw_media_submit(e, 2, 0), FW_ERR_INVAL);   /* no such format */
    uint64_t q[FW_MEDIA__STAGES];
    assert_int_equal(step(e, 0), 0);
    fw_media_queues(e, q);
    assert_int_equal(q[FW_MEDIA_UPLOAD], 0);
    assert_int_equal(q[FW_MEDIA_TRANSCODE], 3);
    assert_int_equal(q[FW_MEDIA_REVIEW], 0);
    assert_int_equal(step(e, 1), 1);
    fw_media_queues(e, q);
    assert_int_equal(q[FW_MEDIA_TRANSCODE], 2);
    assert_int_equal(step(e, 2), 2);
    fw_media_queues(e, q);
    assert_int_equal(q[FW_MEDIA_TRANSCODE], 0);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_int_equal(series(e, "media", "submitted"), 3);
    assert_int_equal(series(e, "media", "released"), 3);
    assert_int_equal(series(e, "media", "delay_p50"), 2);    /* delays 1, 2, 2 */
    assert_int_equal(series(e, "media", "delay_p99"), 2);
    assert_int_equal(series(e, "media", "delay_max"), 2);
    assert_int_equal(series(e, "media", "delay_video_p50"), 1);
    assert_int_equal(series(e, "media", "delay_image_p50"), 2);
    assert_int_equal(series(e, "media", "queue_transcode_max"), 3);
    assert_int_equal(series(e, "media", "queue_transcode"), 0);
}

/* One unit a tick at every stage, three images at tick 0: a note crosses all three stages in
 * the tick it is taken, so one leaves each tick: delays 0, 1, 2. */
static void test_media_stages_same_tick(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = media_engine(state, 1, 1, 1, &c);
    for (int i = 0; i < 3; i++)
        assert_int_equal(fw_media_submit(e, FW_FORMAT_IMAGE, 0), FW_OK);
    assert_int_equal(step(e, 0), 1);
    uint64_t q[FW_MEDIA__STAGES];
    fw_media_queues(e, q);
    assert_int_equal(q[FW_MEDIA_UPLOAD], 2);
    assert_int_equal(q[FW_MEDIA_TRANSCODE] + q[FW_MEDIA_REVIEW], 0);
    assert_int_equal(step(e, 1), 1);
    assert_int_equal(step(e, 2), 1);
    assert_int_equal(step(e, 3), 0);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_int_equal(series(e, "media", "delay_p50"), 1);
    assert_int_equal(series(e, "media", "delay_max"), 2);
}

/* Review 3 units a tick: a video (3 units at review) takes the whole tick; upload 4 units: a
 * video's upload (4) fills it. V then I at tick 0: tick 0 V uploaded and reviewed (transcode
 * unlimited), I waits at upload (budget spent); tick 1 I released. */
static void test_media_units_per_stage(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = media_engine(state, 4, 0, 3, &c);
    assert_int_equal(fw_media_submit(e, FW_FORMAT_VIDEO, 0), FW_OK);
    assert_int_equal(fw_media_submit(e, FW_FORMAT_IMAGE, 0), FW_OK);
    assert_int_equal(step(e, 0), 1);
    uint64_t q[FW_MEDIA__STAGES];
    fw_media_queues(e, q);
    assert_int_equal(q[FW_MEDIA_UPLOAD], 1);
    assert_int_equal(step(e, 1), 1);
    /* Partial progress is kept: a video at upload capacity 3 takes two ticks (3 + 1 units). */
    fw_engine_ctx *c2;
    fixture_rig_close((fixture_rig *)*state);
    e = media_engine(state, 3, 0, 0, &c2);
    assert_int_equal(fw_media_submit(e, FW_FORMAT_VIDEO, 5), FW_OK);
    assert_int_equal(step(e, 5), 0);
    assert_int_equal(step(e, 6), 1);
}

/* Throughput: 5 images a tick into a stage of 3 units a tick: 3 leave each tick, the queue
 * grows by 2 a tick, and the oldest leave first (the delay grows by 1 every 3 notes... checked
 * as: the k-th note released has delay floor(k / 3) - its submission tick offset). */
static void test_media_throughput(void **state)
{
    fw_engine_ctx *c;
    fw_engine *e = media_engine(state, 0, 0, 3, &c);
    uint64_t released = 0;
    for (int32_t t = 0; t < 20; t++) {
        for (int i = 0; i < 5; i++)
            assert_int_equal(fw_media_submit(e, FW_FORMAT_IMAGE, t), FW_OK);
        uint32_t n = step(e, t);
        assert_int_equal(n, 3);
        released += n;
        uint64_t q[FW_MEDIA__STAGES];
        fw_media_queues(e, q);
        assert_int_equal(q[FW_MEDIA_REVIEW], (uint64_t)(t + 1) * 5 - released);
    }
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    /* FIFO: the 60 released are notes 0..59, submitted at tick k / 5, released at tick k / 3. */
    int32_t d[60];
    for (int k = 0; k < 60; k++)
        d[k] = k / 3 - k / 5;
    int32_t s[60];
    memcpy(s, d, sizeof s);
    for (int i = 1; i < 60; i++)
        for (int j = i; j > 0 && s[j - 1] > s[j]; j--) {
            int32_t x = s[j];
            s[j] = s[j - 1];
            s[j - 1] = x;
        }
    assert_int_equal(series(e, "media", "delay_p50"), s[29]);
    assert_int_equal(series(e, "media", "delay_p99"), s[59]);   /* ceil(0.99 * 60) = 60 */
    assert_int_equal(series(e, "media", "queue_review"), 40);
    assert_int_equal(series(e, "media", "queue_review_max"), 40);
}

/* ---- AIGC ------------------------------------------------------------------------------- */

static fw_engine_cfg aigc_cfg(double recall, double precision, uint32_t label)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.aigc.detector = 1;
    cfg.aigc.detect_recall = recall;
    cfg.aigc.detect_precision = precision;
    cfg.aigc.label_detected = label;
    return cfg;
}

/* Publishes n notes, a share ai of them AI-generated (every 10th note: ai * 10 of each 10),
 * a share of those declared; returns the first id. */
static uint32_t publish_many(fw_engine *e, fw_engine_ctx *c, uint32_t n, double ai, int declare_every)
{
    uint32_t first = FW_NONE;
    for (uint32_t i = 0; i < n; i++) {
        fw_publication p = {.info = {.creator = i % 10, .topic = (uint16_t)(i % N_TOPICS), .format = FW_FORMAT_IMAGE,
                                     .created_tick = 0},
                            .terms = NULL, .product = FW_NONE, .task = FW_NONE};
        p.ai_generated = (i % 10) < (uint32_t)(ai * 10 + 0.5);
        p.declared = p.ai_generated && declare_every > 0 && (i / 10) % (uint32_t)declare_every == 0;
        uint32_t id;
        assert_int_equal(fw_engine_publish_note(e, c, &p, &id), FW_OK);
        if (first == FW_NONE)
            first = id;
    }
    return first;
}

/* Measured recall and precision of the flags of notes first .. first + n. */
static void measure(const fw_engine *e, uint32_t first, uint32_t n, double ai, double *recall, double *precision)
{
    uint64_t tp = 0, fl = 0, pos = 0;
    for (uint32_t i = 0; i < n; i++) {
        int truth = (i % 10) < (uint32_t)(ai * 10 + 0.5);
        int f = (fw_aigc_note(e, first + i) & FW_AIGC_FLAGGED) != 0;
        pos += truth;
        fl += f;
        tp += f && truth;
    }
    *recall = (double)tp / (double)pos;
    *precision = fl ? (double)tp / (double)fl : NAN;
}

static void check_pr(void **state, double r, double p, double ai)
{
    fw_engine_cfg cfg = aigc_cfg(r, p, 0);
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
    const uint32_t n = 40000;
    uint32_t first = publish_many(e, c, n, ai, 0);
    double mr, mp;
    measure(e, first, n, ai, &mr, &mp);
    /* Binomial sd of recall at 12000 positives is <= 0.005; precision's about as small. */
    if (fabs(mr - r) > 0.02 || fabs(mp - p) > 0.025)
        fail_msg("recall %.4f (knob %.2f), precision %.4f (knob %.2f) at AIGC share %.1f", mr, r, mp, p, ai);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_int_equal(series(e, "aigc", "published"), n);
    assert_int_equal(series(e, "aigc", "ai_generated"), (int64_t)(n * ai + 0.5));
    int64_t fl = series(e, "aigc", "flagged"), tp = series(e, "aigc", "flagged_ai");
    assert_true(fabs((double)tp / (double)(n * ai) - mr) < 1e-12);
    assert_true(fabs((double)tp / (double)fl - mp) < 1e-12);
    fixture_rig_close((fixture_rig *)*state);
}

static void test_detector_matches_knobs(void **state)
{
    check_pr(state, 0.8, 0.9, 0.3);
    check_pr(state, 0.5, 0.9, 0.3);     /* recall moves alone */
    check_pr(state, 0.8, 0.6, 0.3);     /* precision moves alone */
    check_pr(state, 0.95, 0.75, 0.5);   /* another prevalence */
    check_pr(state, 0.3, 0.98, 0.1);
}

/* The prevalence is today's and yesterday's: after a jump from 10% to 50% AIGC, day 2 (whose
 * window holds only 50% days) measures the knob's precision, where a run-long share (30%)
 * would give about 0.95. */
static void test_detector_follows_prevalence(void **state)
{
    fw_engine_cfg cfg = aigc_cfg(0.8, 0.8, 0);
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
    publish_many(e, c, 20000, 0.1, 0);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    publish_many(e, c, 20000, 0.5, 0);
    assert_int_equal(fw_engine_end_day(e, c, 1), FW_OK);
    uint32_t first = publish_many(e, c, 20000, 0.5, 0);
    double mr, mp;
    measure(e, first, 20000, 0.5, &mr, &mp);
    if (fabs(mp - 0.8) > 0.02 || fabs(mr - 0.8) > 0.02)
        fail_msg("day 2: recall %.4f, precision %.4f (knobs 0.8, 0.8)", mr, mp);
}

/* A precision at or below the AIGC share needs a false-positive rate above 1: every human
 * note is flagged (precision = the share), never more. */
static void test_detector_precision_floor(void **state)
{
    fw_engine_cfg cfg = aigc_cfg(1.0, 0.05, 0);
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
    uint32_t first = publish_many(e, c, 2000, 0.1, 0);
    double mr, mp;
    measure(e, first, 2000, 0.1, &mr, &mp);
    assert_true(mr == 1.0);
    assert_true(fabs(mp - 0.1) < 0.01);   /* the first human notes precede any AIGC one: none flagged */
}

/* Labels and down-rank by policy: declared -> labelled and never down-ranked; flagged and
 * undeclared -> down-ranked; flagged -> labelled only under label_detected. Catalog notes:
 * no flags. */
static void test_labels_and_downrank_flags(void **state)
{
    for (uint32_t label = 0; label <= 1; label++) {
        fw_engine_cfg cfg = aigc_cfg(0.7, 0.8, label);
        fw_engine_ctx *c;
        fw_engine *e = fixture_rig_open(state, build(&cfg, 1), &c);
        uint32_t first = publish_many(e, c, 5000, 0.4, 3);
        uint64_t n_down = 0, n_lab_flag = 0;
        for (uint32_t i = 0; i < N_NOTES; i++)
            assert_int_equal(fw_aigc_note(e, i), 0);
        for (uint32_t id = first; id < first + 5000; id++) {
            unsigned f = fw_aigc_note(e, id);
            int d = (f & FW_AIGC_DECLARED) != 0, g = (f & FW_AIGC_FLAGGED) != 0;
            assert_int_equal((f & FW_AIGC_LABELLED) != 0, d || (g && label));
            assert_int_equal((f & FW_AIGC_DOWNRANKED) != 0, g && !d);
            n_down += (f & FW_AIGC_DOWNRANKED) != 0;
            n_lab_flag += g && !d && (f & FW_AIGC_LABELLED);
        }
        assert_true(n_down > 500);
        assert_true(label ? n_lab_flag == n_down : n_lab_flag == 0);
        assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
        assert_int_equal(series(e, "aigc", "downranked"), (int64_t)n_down);
        fixture_rig_close((fixture_rig *)*state);
    }
}

/* Two cells, the second with down-rank 0: a fresh feed for the same user ranks the flagged
 * undeclared notes last in cell 1 and mixes them in cell 0. */
static void test_downrank_in_feed(void **state)
{
    fw_engine_cfg cfg[2] = {aigc_cfg(1.0, 1.0, 0), aigc_cfg(1.0, 1.0, 0)};
    cfg[1].aigc.downrank_unlabelled = 0.0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(cfg, 2), &c);
    uint32_t first = publish_many(e, c, 60, 0.5, 0);
    (void)first;
    assert_int_equal(fw_engine_end_tick(e, c, 0), FW_OK);
    uint32_t down_in_top[2] = {0, 0};
    for (uint32_t arm = 0; arm < 2; arm++) {
        uint32_t out[10];
        fw_feed_req q = {.user = 20 + arm, .arm = arm, .tick = 1};
        uint32_t n = fw_feed_request(e, c, &q, out, 10);
        assert_true(n > 0);
        for (uint32_t i = 0; i < n; i++)
            down_in_top[arm] += (fw_aigc_note(e, out[i]) & FW_AIGC_DOWNRANKED) != 0;
    }
    assert_true(down_in_top[0] > 0);
    assert_int_equal(down_in_top[1], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_media_off_by_default, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_media_video_blocks_fifo, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_media_stages_same_tick, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_media_units_per_stage, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_media_throughput, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_detector_matches_knobs, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_detector_precision_floor, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_detector_follows_prevalence, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_labels_and_downrank_flags, fixture_rig_setup, fixture_rig_teardown),
        cmocka_unit_test_setup_teardown(test_downrank_in_feed, fixture_rig_setup, fixture_rig_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Unit tests for the engine through its public header only (flywheel/engine.h): the seen
 * filter, follow recall and its bonus, the trending pool and its decay, tie-breaking,
 * publishing, determinism, per-arm configurations, latency bookkeeping and bad input.
 *
 * Every catalog is built by hand and small enough to reason about: one tick per hour
 * (TPD = 24), so hours and ticks coincide and half-lives can be checked exactly. Notes are
 * made old (created long before tick 0) unless a test is about freshness, so scores are
 * driven only by the signal under test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "flywheel/engine.h"
#include "flywheel/market.h"
#include "../../engine/src/rank.h"   /* fw_seen_ref_has_dense: tests only */
#include "flywheel/record.h"
#include "flywheel/notify.h"
#include "fixture_engine.h"
#include "fixture_rig.h"

#define TPD 24u          /* ticks per day: one tick = one hour */
#define OLD (-1000)      /* created_tick of notes older than any freshness window */
#define MAX_NOTES 1200
#define MAX_USERS 16
#define MAX_EDGES 64
#define PAGE_MAX 100

/* ---- helpers ----------------------------------------------------------------------- */

/* Every knob at its default. */
/* The defaults without the feed's ad slots: these tests are about the organic feed (ad
 * slots have tests of their own in test_rec). */
static fw_engine_cfg default_cfg(void)
{
    fw_engine_cfg cfg = fixture_engine_cfg();
    cfg.feed.ad_first_slot = 0;
    return cfg;
}

/* A hand-built catalog: notes in publication order and follow edges (src follows dst). */
typedef struct spec {
    uint32_t n_users;
    uint32_t ticks_per_day;
    uint32_t n_notes;
    fw_note_info notes[MAX_NOTES];
    uint32_t n_edges;
    uint32_t edge_src[MAX_EDGES], edge_dst[MAX_EDGES];
} spec;

static void spec_init(spec *s, uint32_t n_users)
{
    memset(s, 0, sizeof *s);
    assert_true(n_users <= MAX_USERS);
    s->n_users = n_users;
    s->ticks_per_day = TPD;
}

/* Appends count notes by creator, all created at tick; returns the first id. */
static uint32_t spec_notes(spec *s, uint32_t count, uint32_t creator, int32_t tick)
{
    assert_true(s->n_notes + count <= MAX_NOTES);
    uint32_t first = s->n_notes;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t id = s->n_notes++;
        /* Topics cycle by id: (id + 1) % 4, the value the tests were written against. */
        s->notes[id] = (fw_note_info){.creator = creator, .topic = (uint16_t)((id + 1) % 4),
                                      .format = FW_FORMAT_IMAGE, .created_tick = tick};
    }
    return first;
}

static void spec_follow(spec *s, uint32_t src, uint32_t dst)
{
    assert_true(s->n_edges < MAX_EDGES);
    s->edge_src[s->n_edges] = src;
    s->edge_dst[s->n_edges++] = dst;
}

/* Creates an engine from s (follow lists in edge order); fails the test on error. */
static fw_engine *build(const spec *s, const fw_engine_cfg *cfgs, uint32_t n_arms)
{
    uint64_t off[MAX_USERS + 1];
    uint32_t fol[MAX_EDGES];
    fixture_follow_csr(s->n_users, s->n_edges, s->edge_src, s->edge_dst, off, fol);
    fw_catalog cat = {.n_users = s->n_users, .n_topics = 4, .ticks_per_day = s->ticks_per_day,
                      .n_notes = s->n_notes, .notes = s->notes,
                      .follow_offsets = off, .follows = fol};
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, cfgs, n_arms, &err);
    assert_non_null(e);
    return e;
}

static uint32_t serve(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t arm, int32_t tick,
                      uint32_t *out)
{
    return fixture_serve(e, c, user, arm, tick, out, PAGE_MAX);
}

/* Logs count events of one type by user on note at tick; asserts they were accepted. */
static void engage(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t note, int32_t tick,
                   fw_event_type type, uint32_t count)
{
    for (uint32_t i = 0; i < count; i++)
        fixture_log(e, c, user, note, tick, type);
}

/* Serves user until the engine returns nothing (at most max_pages pages); counts how often
 * each note came back into times[] and returns the number of notes served. */
static uint32_t drain(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t arm,
                      int32_t tick, uint32_t max_pages, uint32_t *times)
{
    uint32_t page[PAGE_MAX], total = 0;
    for (uint32_t p = 0; p < max_pages; p++) {
        uint32_t n = serve(e, c, user, arm, tick, page);
        if (n == 0)
            break;
        for (uint32_t i = 0; i < n; i++)
            times[page[i]]++;
        total += n;
    }
    return total;
}

/* The plainest catalog, n_users users and n_notes old notes all by creator 1, opened in the
 * rig under cfg (one arm). */
static fw_engine *open_old_notes(void **state, uint32_t n_users, uint32_t n_notes,
                                 const fw_engine_cfg *cfg, fw_engine_ctx **c)
{
    spec s;
    spec_init(&s, n_users);
    spec_notes(&s, n_notes, 1, OLD);
    return fixture_rig_open(state, build(&s, cfg, 1), c);
}

/* ---- the seen filter --------------------------------------------------------------- */

/* Served notes never come back while the window remembers them: serving one user until
 * the engine runs dry returns every note exactly once, from all three recall paths
 * (follows, trending, fresh), and then nothing more. Other users are unaffected. */
static void test_seen_no_repeats_until_exhausted(void **state)
{
    spec s;
    spec_init(&s, 5);
    for (uint32_t i = 0; i < 50; i++)
        spec_notes(&s, 1, 1 + i % 3, -100 + (int32_t)i);
    spec_follow(&s, 0, 1);
    fw_engine_cfg cfg = default_cfg();
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);
    engage(e, c, 4, 7, 0, FW_EV_LIKE, 3);
    engage(e, c, 4, 20, 0, FW_EV_OPEN, 1);
    fw_engine_end_tick(e, c, 0);

    uint32_t times[MAX_NOTES] = {0};
    uint32_t total = drain(e, c, 0, 0, 1, 100, times);
    assert_int_equal(total, 50);
    for (uint32_t n = 0; n < 50; n++)
        assert_int_equal(times[n], 1);
    uint32_t page[PAGE_MAX];
    for (int k = 0; k < 5; k++)   /* exhausted, and stays so */
        assert_int_equal(serve(e, c, 0, 0, 2, page), 0);
    /* What user 0 saw does not hide anything from user 2. */
    memset(times, 0, sizeof times);
    assert_int_equal(drain(e, c, 2, 0, 1, 100, times), 50);
}

/* With the smallest seen_window (16) served notes come back once the window has moved past
 * them, but never within the part of the window that is always remembered: seen_window / 2
 * ids (one Bloom generation) plus the current one. An adversary makes that bound tight:
 * after each serve the note just served gets an open logged one tick (one half-life) after
 * the previous open, so worth more than all earlier opens together; the hottest notes are
 * always the most recently served, and each is re-served as soon as it is forgotten. */
static void test_seen_window_small_lets_notes_return(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.seen_window = 16;
    cfg.feed.page_size = 1;
    cfg.feed.trending_half_life_h = 1.0;
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 3, 40, &cfg, &c);

    enum { SERVES = 120 };
    uint32_t repeats = 0, min_gap = UINT32_MAX, page[PAGE_MAX];
    int64_t last_pos[MAX_NOTES];
    for (uint32_t n = 0; n < MAX_NOTES; n++)
        last_pos[n] = -1;
    for (int32_t k = 0; k < SERVES; k++) {
        assert_int_equal(serve(e, c, 0, 0, k, page), 1);   /* 40 notes: never runs dry */
        uint32_t id = page[0];
        if (last_pos[id] >= 0) {
            repeats++;
            uint32_t gap = (uint32_t)(k - last_pos[id]);
            if (gap < min_gap)
                min_gap = gap;
        }
        last_pos[id] = k;
        engage(e, c, 2, id, k, FW_EV_OPEN, 1);
        fw_engine_end_tick(e, c, k);
    }
    assert_true(repeats > SERVES / 4);
    assert_true(min_gap >= 16 + 1);   /* never within the last seen_window serves */

    /* Pages of several notes never repeat a note within the page. */
    cfg.feed.page_size = 4;   /* 40 notes, at most 2 * 16 remembered: 8 left, less false positives */
    e = open_old_notes(state, 3, 40, &cfg, &c);
    for (int32_t k = 0; k < 30; k++) {
        uint32_t n = serve(e, c, 0, 0, k, page);
        assert_int_equal(n, 4);
        for (uint32_t i = 0; i < n; i++)
            for (uint32_t j = i + 1; j < n; j++)
                assert_int_not_equal(page[i], page[j]);
        engage(e, c, 2, page[n - 1], k, FW_EV_OPEN, 1);
        fw_engine_end_tick(e, c, k);
    }
}

/* The filter's false positives only hide notes, and rarely: with the default window (1000
 * ids per generation) a user drained of 1000 fresh notes is served at least 97% of
 * them (the knob documents ~2% false positives when a generation is full), each once. */
static void test_seen_false_positives_rare(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 1000;
    cfg.feed.sample_fresh = 1000;
    cfg.feed.page_size = 100;
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 3, 1000, &cfg, &c);
    uint32_t times[MAX_NOTES] = {0};
    uint32_t total = drain(e, c, 0, 0, 1, 100, times);
    assert_true(total >= 970);
    assert_true(total <= 1000);
    for (uint32_t n = 0; n < 1000; n++)
        assert_true(times[n] <= 1);
}

/* The branch-free served-filter test the baseline's recall uses (rank.h) answers what the
 * early-exit one does, for every id, with one generation and with both live, from filters
 * nearly empty to nearly full. */
static void test_seen_dense_matches(void **state)
{
    (void)state;
    enum { WORDS = 64 };
    static uint64_t g[2 * WORDS];
    uint64_t x = 12345;
    for (int both = 0; both <= 1; both++)
        for (int fill = 1; fill <= 60; fill += 4) {   /* about fill/64 of the bits set */
            for (int w = 0; w < 2 * WORDS; w++) {
                g[w] = 0;
                for (int b = 0; b < 64; b++)
                    if ((x = fw_mix64(x)) % 64 < (uint64_t)fill)
                        g[w] |= UINT64_C(1) << b;
            }
            fw_seen_ref r = {g, WORDS, both};
            uint32_t hits = 0;
            for (uint32_t id = 0; id < 20000; id++) {
                int has = fw_seen_ref_has(r, id);
                assert_int_equal(fw_seen_ref_has_dense(r, id), has);
                hits += (uint32_t)has;
            }
            if (fill >= 57)
                assert_true(hits > 10000);   /* both answers were exercised */
        }
    fw_seen_ref none = {NULL, WORDS, 0};
    assert_int_equal(fw_seen_ref_has_dense(none, 7), 0);
}

/* seen_window is the number of last served notes never served again, right after a
 * rotation of the two Bloom generations too. The adversary: the 8th note served becomes the
 * top trending note; with generations of seen_window / 2 it came back 18th, twice within 16
 * consecutive serves at seen_window = 16. */
static void test_seen_window_is_full_window(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.seen_window = 16;
    cfg.feed.page_size = 1;
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 3, 40, &cfg, &c);
    uint32_t seq[64], page[PAGE_MAX];
    for (uint32_t k = 0; k < 16; k++) {
        assert_int_equal(serve(e, c, 0, 0, 1, page), 1);
        seq[k] = page[0];
    }
    engage(e, c, 2, seq[7], 1, FW_EV_SAVE, 50);   /* the 8th note served becomes the best */
    fw_engine_end_tick(e, c, 1);
    for (uint32_t k = 16; k < 32; k++) {
        assert_int_equal(serve(e, c, 0, 0, 1, page), 1);
        seq[k] = page[0];
    }
    /* No id may appear twice in any 16 consecutive serves. */
    for (uint32_t i = 0; i < 32; i++)
        for (uint32_t j = i + 1; j < 32 && j < i + 16; j++)
            assert_int_not_equal(seq[i], seq[j]);
}

/* ---- follows ----------------------------------------------------------------------- */

/* Two notes alike in every way but their creator: the followed creator's note wins by the
 * w_follow bonus, although the other one has the lower id (and so would win a tie), both
 * with no engagement and with equal engagement. With w_follow = 0 the tie goes back to ids. */
static void test_follow_bonus_outranks(void **state)
{
    spec s;
    spec_init(&s, 4);
    spec_notes(&s, 1, 2, OLD);   /* note 0: creator 2, not followed */
    spec_notes(&s, 1, 1, OLD);   /* note 1: creator 1, followed by users 0 and 3 */
    spec_follow(&s, 0, 1);
    spec_follow(&s, 3, 1);
    fw_engine_cfg cfg[2] = {default_cfg(), default_cfg()};
    cfg[1].feed.w_follow = 0.0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfg, 2), &c);
    uint32_t page[PAGE_MAX];

    assert_int_equal(serve(e, c, 0, 0, 0, page), 2);
    assert_int_equal(page[0], 1);
    assert_int_equal(page[1], 0);
    assert_int_equal(serve(e, c, 3, 1, 0, page), 2);   /* no bonus: id order */
    assert_int_equal(page[0], 0);

    /* Equal engagement on both: the bonus still decides. Fresh users, same follows. */
    e = fixture_rig_open(state, build(&s, cfg, 2), &c);
    engage(e, c, 2, 0, 0, FW_EV_LIKE, 3);
    engage(e, c, 2, 1, 0, FW_EV_LIKE, 3);
    fw_engine_end_tick(e, c, 0);
    assert_int_equal(serve(e, c, 0, 0, 1, page), 2);
    assert_int_equal(page[0], 1);
    assert_int_equal(serve(e, c, 3, 1, 1, page), 2);
    assert_int_equal(page[0], 0);
}

/* A creator outside every pool (old, no engagement, not among the freshest notes) is
 * invisible until a FW_EV_FOLLOW of one of their notes: from then on the follower is served
 * that creator's notes, first (follow bonus); a user who did not follow still never sees
 * them; and following oneself changes nothing. */
static void test_follow_event_adds_creator(void **state)
{
    spec s;
    spec_init(&s, 5);
    uint32_t hidden = spec_notes(&s, 3, 3, OLD);    /* notes 0..2 by creator 3 */
    spec_notes(&s, 20, 2, -200);                    /* newer notes by creator 2 */
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 5;
    cfg.feed.sample_fresh = 5;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);

    fw_event ev[2] = {{.user = 0, .note = hidden + 1, .tick = 0, .type = FW_EV_FOLLOW},
                      {.user = 3, .note = hidden, .tick = 0, .type = FW_EV_FOLLOW}};
    assert_int_equal(fw_engine_log_events(e, c, ev, 2), FW_OK);
    fw_engine_end_tick(e, c, 0);
    assert_int_equal(fw_engine_note_count(e, hidden + 1, FW_EV_FOLLOW), 1);
    assert_int_equal(fw_engine_note_count(e, hidden, FW_EV_FOLLOW), 1);

    uint32_t page[PAGE_MAX];
    uint32_t n = serve(e, c, 0, 0, 1, page);
    assert_true(n >= 3);
    for (uint32_t i = 0; i < 3; i++)   /* creator 3's notes (equal scores: id order) */
        assert_int_equal(page[i], hidden + i);

    uint32_t times[MAX_NOTES] = {0};
    drain(e, c, 4, 0, 1, 100, times);     /* did not follow */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(times[hidden + i], 0);
    memset(times, 0, sizeof times);
    drain(e, c, 3, 0, 1, 100, times);     /* followed themself: ignored */
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(times[hidden + i], 0);
}

static fw_err unfollow(fw_engine *e, fw_engine_ctx *c, uint32_t user, uint32_t creator)
{
    fw_record r = {.kind = FW_RECORD_UNFOLLOW, .u.unfollow = {.user = user, .creator = creator, .tick = 1}};
    return fw_engine_log(e, c, &r, 1);
}

/* The follow-record tests' engine: 5 users, creator 3's three old notes (the first is *hidden)
 * and 20 notes by creator 2, a feed that takes every fresh note. */
static fw_engine *rig_with_creator3(void **state, fw_engine_ctx **c, uint32_t *hidden)
{
    spec s;
    spec_init(&s, 5);
    *hidden = spec_notes(&s, 3, 3, OLD);    /* notes 0..2 by creator 3 */
    spec_notes(&s, 20, 2, -200);
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 5;
    cfg.feed.sample_fresh = 5;
    return fixture_rig_open(state, build(&s, &cfg, 1), c);
}

/* Issue 18: an FW_RECORD_UNFOLLOW undoes a follow: the creator loses the follower and their
 * hidden notes leave the unfollower's feed; an unfollow of a creator not followed changes
 * nothing, one of a user out of range is refused; following again works; and a log with both
 * a follow and an unfollow of the same pair applies the unfollow last. */
static void test_unfollow_record_removes_creator(void **state)
{
    uint32_t hidden;
    fw_engine_ctx *c;
    fw_engine *e = rig_with_creator3(state, &c, &hidden);
    fw_event ev = {.user = 0, .note = hidden, .tick = 0, .type = FW_EV_FOLLOW};
    assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_OK);
    uint32_t before = fw_market_followers(e, 3);
    assert_int_equal(unfollow(e, c, 4, 3), FW_OK);          /* never followed: nothing */
    assert_int_equal(fw_market_followers(e, 3), before);
    assert_int_equal(unfollow(e, c, 0, 3), FW_OK);
    assert_int_equal(fw_market_followers(e, 3), before - 1);
    assert_int_equal(unfollow(e, c, 0, 3), FW_OK);          /* twice: nothing more */
    assert_int_equal(fw_market_followers(e, 3), before - 1);
    assert_int_equal(unfollow(e, c, 5, 3), FW_ERR_INVAL);   /* no such user */
    fw_engine_end_tick(e, c, 1);
    uint32_t times[MAX_NOTES] = {0};
    drain(e, c, 0, 0, 1, 100, times);
    for (uint32_t i = 0; i < 3; i++)
        assert_int_equal(times[hidden + i], 0);
    fw_record both[2] = {{.kind = FW_RECORD_UNFOLLOW, .u.unfollow = {.user = 0, .creator = 3, .tick = 2}},
                         {.kind = FW_RECORD_EVENT, .u.ev = {.user = 0, .note = hidden, .tick = 2, .type = FW_EV_FOLLOW}}};
    assert_int_equal(fw_engine_log(e, c, both, 2), FW_OK);
    assert_int_equal(fw_market_followers(e, 3), before - 1);
    assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_OK);   /* following again */
    assert_int_equal(fw_market_followers(e, 3), before);
    fw_engine_end_tick(e, c, 2);
    uint32_t page[PAGE_MAX];
    assert_true(serve(e, c, 0, 0, 1, page) >= 1);
    assert_int_equal(page[0], hidden);
}

/* Issue 21: a catalog that keeps its follows (follows_kept) lends them: the engine reads the
 * day-0 lists in place and never writes them -- an unfollow, a follow and a follow again change
 * the engine's lists (follower counts, the feed) but not a byte of the catalog's arrays; with
 * a self-follow in them the engine copies, and the self-follow counts for nobody. */
static void test_kept_follows_never_written(void **state)
{
    enum { U = 5, E = 4 };
    static uint64_t off[U + 1];
    static uint32_t fol[E];
    static fw_note_info notes[6];
    uint32_t src[E] = {0, 0, 1, 4}, dst[E] = {3, 2, 3, 4};   /* 4 follows itself */
    fixture_follow_csr(U, E, src, dst, off, fol);
    for (uint32_t i = 0; i < 6; i++)
        notes[i] = (fw_note_info){.creator = i < 3 ? 3 : 2, .topic = (uint16_t)(i % 4), .format = FW_FORMAT_IMAGE,
                                  .created_tick = OLD};
    uint64_t off0[U + 1];
    uint32_t fol0[E];
    memcpy(off0, off, sizeof off);
    memcpy(fol0, fol, sizeof fol);
    fw_catalog cat = {.n_users = U, .n_topics = 4, .ticks_per_day = TPD, .n_notes = 6, .notes = notes,
                      .follow_offsets = off, .follows = fol, .follows_kept = 1};
    fw_engine_cfg cfg = default_cfg();
    fw_err err = FW_OK;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, fw_engine_create(&cat, &cfg, 1, &err), &c);
    assert_int_equal(fw_market_followers(e, 3), 2);
    assert_int_equal(fw_market_followers(e, 4), 0);   /* the self-follow: nobody's */
    assert_int_equal(unfollow(e, c, 0, 3), FW_OK);
    assert_int_equal(fw_market_followers(e, 3), 1);
    fw_record r = {.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 1, .creator = 2, .tick = 1}};
    assert_int_equal(fw_engine_log(e, c, &r, 1), FW_OK);
    assert_int_equal(fw_market_followers(e, 2), 2);
    r.u.follow.user = 0;
    r.u.follow.creator = 3;
    assert_int_equal(fw_engine_log(e, c, &r, 1), FW_OK);   /* following again */
    assert_int_equal(fw_market_followers(e, 3), 2);
    fw_engine_end_tick(e, c, 1);
    uint32_t page[PAGE_MAX];
    assert_true(serve(e, c, 0, 0, 2, page) >= 1);
    assert_memory_equal(off, off0, sizeof off);
    assert_memory_equal(fol, fol0, sizeof fol);
    /* Without the self-follow the lists are the catalog's own rows: still never written. */
    uint32_t src2[3] = {0, 0, 1}, dst2[3] = {3, 2, 3};
    fixture_follow_csr(U, 3, src2, dst2, off, fol);
    memcpy(off0, off, sizeof off);
    memcpy(fol0, fol, sizeof fol);
    fw_engine *k = fw_engine_create(&cat, &cfg, 1, &err);
    assert_non_null(k);
    fw_engine_ctx *kc = fw_engine_ctx_create(k);
    assert_non_null(kc);
    assert_int_equal(unfollow(k, kc, 0, 3), FW_OK);
    assert_int_equal(fw_market_followers(k, 3), 1);
    r.u.follow.user = 1;
    r.u.follow.creator = 2;
    assert_int_equal(fw_engine_log(k, kc, &r, 1), FW_OK);
    assert_int_equal(fw_market_followers(k, 2), 2);
    assert_memory_equal(off, off0, sizeof off);
    assert_memory_equal(fol, fol0, sizeof fol);
    fw_engine_ctx_destroy(kc);
    fw_engine_destroy(k);
}

/* Issue 18: an FW_RECORD_FOLLOW (a follow-back: no note) follows like a note's follow event:
 * the creator gains a follower and their notes reach the follower's feed; following a creator
 * already followed, or oneself, changes nothing; one of a user out of range is refused, the
 * rest of the log applied; no note counts it; and a log's unfollow of the pair comes after its
 * follow. */
static void test_follow_record_adds_creator(void **state)
{
    uint32_t hidden;
    fw_engine_ctx *c;
    fw_engine *e = rig_with_creator3(state, &c, &hidden);
    uint32_t before = fw_market_followers(e, 3);
    fw_record r[3] = {{.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 0, .creator = 3, .tick = 0}},
                      {.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 0, .creator = 3, .tick = 0}},
                      {.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 3, .creator = 3, .tick = 0}}};
    assert_int_equal(fw_engine_log(e, c, r, 3), FW_OK);
    assert_int_equal(fw_market_followers(e, 3), before + 1);
    fw_record bad[2] = {{.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 5, .creator = 3, .tick = 0}},
                        {.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 1, .creator = 3, .tick = 0}}};
    assert_int_equal(fw_engine_log(e, c, bad, 2), FW_ERR_INVAL);
    assert_int_equal(fw_market_followers(e, 3), before + 2);
    fw_engine_end_tick(e, c, 0);
    assert_int_equal(fw_engine_note_count(e, hidden, FW_EV_FOLLOW), 0);   /* no note's follow */
    uint32_t page[PAGE_MAX];
    assert_true(serve(e, c, 0, 0, 1, page) >= 1);
    assert_int_equal(page[0], hidden);
    fw_record both[2] = {{.kind = FW_RECORD_UNFOLLOW, .u.unfollow = {.user = 4, .creator = 3, .tick = 1}},
                         {.kind = FW_RECORD_FOLLOW, .u.follow = {.user = 4, .creator = 3, .tick = 1}}};
    assert_int_equal(fw_engine_log(e, c, both, 2), FW_OK);
    assert_int_equal(fw_market_followers(e, 3), before + 2);
}

/* Follow recall is bounded: at most follow_recent newest notes per creator, from at most
 * follow_max_creators creators -- and a creator followed just now (FW_EV_FOLLOW) is among
 * those scanned, so the new follow shows even when the follower already follows many. */
static void test_follow_recall_limits(void **state)
{
    spec s;
    spec_init(&s, 8);
    for (uint32_t cr = 1; cr <= 4; cr++)
        spec_notes(&s, 3, cr, OLD);   /* creator cr: notes 3(cr-1) .. 3(cr-1)+2 */
    for (uint32_t u = 0; u < 8; u++)
        if (u == 0 || u == 6 || u == 7)
            for (uint32_t cr = 1; cr <= 3; cr++)
                spec_follow(&s, u, cr);   /* users 0, 6 and 7 follow creators 1, 2, 3 */
    fw_engine_cfg cfg[2] = {default_cfg(), default_cfg()};
    for (int a = 0; a < 2; a++) {
        cfg[a].feed.n_fresh = 0;
        cfg[a].feed.follow_recent = 2 + (uint32_t)a;   /* arm 1 keeps longer rings */
        cfg[a].feed.follow_max_creators = 2;
    }
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfg, 2), &c);
    uint32_t page[PAGE_MAX];

    uint32_t n = serve(e, c, 7, 0, 0, page);
    assert_int_equal(n, 4);   /* 2 creators x 2 notes */
    uint32_t per_creator[5] = {0};
    for (uint32_t i = 0; i < n; i++) {
        uint32_t cr = page[i] / 3 + 1;
        assert_true(cr <= 3);
        assert_int_not_equal(page[i] % 3, 0);   /* the oldest note of a creator is not recalled */
        per_creator[cr]++;
    }
    assert_int_equal(per_creator[1] + per_creator[2] + per_creator[3], 4);
    assert_int_equal(serve(e, c, 6, 1, 0, page), 6);   /* arm 1: 2 creators x 3 notes */

    fw_event ev = {.user = 0, .note = 9, .tick = 0, .type = FW_EV_FOLLOW};   /* creator 4 */
    assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_OK);
    fw_engine_end_tick(e, c, 0);
    n = serve(e, c, 0, 0, 1, page);
    assert_int_equal(n, 4);
    uint32_t from4 = 0;
    for (uint32_t i = 0; i < n; i++)
        from4 += page[i] == 10 || page[i] == 11;
    assert_int_equal(from4, 2);
}

/* ---- trending ---------------------------------------------------------------------- */

/* With no fresh pool and no follows, only trending notes can be served: none before any
 * engagement, none while the pool is stale (before fw_engine_end_tick), then the engaged
 * note. With the fresh pool on, engagement lifts a note above equally old ones. */
static void test_engagement_enters_trending(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 0;
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 4, 30, &cfg, &c);
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 0, 0, 0, page), 0);
    fw_event ev[3] = {{.user = 2, .note = 17, .tick = 0, .type = FW_EV_OPEN},
                      {.user = 2, .note = 17, .tick = 0, .type = FW_EV_LIKE},
                      {.user = 3, .note = 17, .tick = 0, .type = FW_EV_SAVE}};
    assert_int_equal(fw_engine_log_events(e, c, ev, 3), FW_OK);
    assert_int_equal(serve(e, c, 0, 0, 0, page), 0);    /* pool not refreshed yet */
    fw_engine_end_tick(e, c, 0);
    assert_int_equal(serve(e, c, 1, 0, 1, page), 1);
    assert_int_equal(page[0], 17);

    cfg = default_cfg();
    e = open_old_notes(state, 4, 30, &cfg, &c);
    assert_int_equal(serve(e, c, 0, 0, 0, page), 10);
    for (uint32_t i = 0; i < 10; i++)   /* all alike: id order */
        assert_int_equal(page[i], i);
    assert_int_equal(fw_engine_log_events(e, c, ev, 3), FW_OK);
    fw_engine_end_tick(e, c, 0);
    assert_int_equal(serve(e, c, 1, 0, 1, page), 10);
    assert_int_equal(page[0], 17);
    for (uint32_t i = 1; i < 10; i++)
        assert_int_equal(page[i], i - 1);
}

/* Serves notes a and b (only) to a fresh user at tick and returns which ranks first. */
static uint32_t first_of_two(fw_engine *e, fw_engine_ctx *c, uint32_t user, int32_t tick)
{
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, user, 0, tick, page), 2);
    return page[0];
}

/* Which of notes 0 and 1 ranks first for a new user, with n_fresh = 0 and ticks_per_day
 * tpd: note 0 (lower id, so it wins ties) gets k0 opens at hour 0, note 1 k1 opens at hour
 * 48; the request is at hour 48. With day_ends the reference time moves at both day ends
 * in between, which must change nothing. */
static uint32_t decay_race(void **state, const fw_engine_cfg *cfg, uint32_t tpd, uint32_t k0,
                           uint32_t k1, int day_ends)
{
    spec s;
    spec_init(&s, 3);
    s.ticks_per_day = tpd;
    spec_notes(&s, 2, 1, OLD);
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfg, 1), &c);
    int32_t now = 2 * (int32_t)tpd;
    engage(e, c, 2, 0, 0, FW_EV_OPEN, k0);
    fw_engine_end_tick(e, c, 0);
    if (day_ends) {
        fw_engine_end_day(e, c, 0);
        fw_engine_end_day(e, c, 1);
    }
    engage(e, c, 2, 1, now, FW_EV_OPEN, k1);
    fw_engine_end_tick(e, c, now);
    return first_of_two(e, c, 0, now);
}

/* Decayed engagement halves every trending_half_life_h (12 h), whatever the tick length: at
 * hour 48, opens logged at hour 0 are worth 1/16 of opens logged now. Against 10 opens now,
 * 155 old opens (9.69) lose and 165 (10.31) win, with one-hour and half-hour ticks, with
 * and without day ends in between. A very long half-life makes old opens count in full. */
static void test_trending_half_life(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 0;
    const uint32_t k0[4] = {16, 155, 165, 320}, want[4] = {1, 1, 0, 0};
    const uint32_t tpds[2] = {24, 48};
    for (int t = 0; t < 2; t++)
        for (int day_ends = 0; day_ends < 2; day_ends++)
            for (int v = 0; v < 4; v++)
                assert_int_equal(decay_race(state, &cfg, tpds[t], k0[v], 10, day_ends), want[v]);
    cfg.feed.trending_half_life_h = 1.0e5;
    assert_int_equal(decay_race(state, &cfg, 24, 12, 1, 0), 0);
    assert_int_equal(decay_race(state, &cfg, 24, 12, 1, 1), 0);
}

/* The decay is absolute, not only relative: a saved note (log(1 + 4) = 1.61) outranks an
 * unengaged note of a followed creator (bonus 1) when the save is new, but 48 h later its
 * decayed value (4 / 16, log 1.25 = 0.22) is below the bonus. */
static void test_trending_decay_against_follow_bonus(void **state)
{
    spec s;
    spec_init(&s, 4);
    spec_notes(&s, 1, 2, OLD);   /* 0: engaged */
    spec_notes(&s, 1, 1, OLD);   /* 1: by a followed creator */
    spec_follow(&s, 0, 1);
    spec_follow(&s, 3, 1);
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);
    engage(e, c, 2, 0, 0, FW_EV_SAVE, 1);
    fw_engine_end_tick(e, c, 0);
    assert_int_equal(first_of_two(e, c, 0, 0), 0);
    assert_int_equal(first_of_two(e, c, 3, 48), 1);
}

/* Event weights: a save (4) beats three opens (3) and loses to five (5); impressions and
 * follows carry no trending weight at all. */
static void test_event_weights(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 0;
    const uint32_t opens[2] = {3, 5}, want[2] = {1, 0};
    for (int v = 0; v < 2; v++) {
        fw_engine_ctx *c;
        fw_engine *e = open_old_notes(state, 3, 2, &cfg, &c);
        engage(e, c, 2, 0, 0, FW_EV_OPEN, opens[v]);
        engage(e, c, 2, 1, 0, FW_EV_SAVE, 1);
        fw_engine_end_tick(e, c, 0);
        assert_int_equal(first_of_two(e, c, 0, 0), want[v]);
    }
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 3, 2, &cfg, &c);
    engage(e, c, 2, 0, 0, FW_EV_IMPRESSION, 100);
    engage(e, c, 0, 1, 0, FW_EV_FOLLOW, 1);
    fw_engine_end_tick(e, c, 0);
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 2, 0, 1, page), 0);   /* nothing trending */
    assert_int_equal(fw_engine_note_count(e, 0, FW_EV_IMPRESSION), 100);
}

/* At the smallest trending half-life the knob allows (0.01 h) 2^((tick - t0) / half_life)
 * overflowed to infinity late in a day, and the decayed value became inf * 0 = NaN. The
 * engine now moves its reference time before the exponent grows large: the only engaged
 * note (note 1, 1 open at tick 20) must rank above an unengaged one (note 0) at tick 20. */
static void test_min_half_life_no_overflow(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.trending_half_life_h = 0.01;
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 3, 2, &cfg, &c);
    engage(e, c, 2, 1, 20, FW_EV_OPEN, 1);
    fw_engine_end_tick(e, c, 20);
    assert_int_equal(first_of_two(e, c, 0, 20), 1);
}

/* The pools are bounded by their knobs: the trending pool keeps the n_trending most engaged
 * notes, a request takes the sample_trending best of them, and fresh recall takes the
 * sample_fresh newest of the n_fresh newest notes. */
static void test_pool_sizes(void **state)
{
    spec s;
    spec_init(&s, 4);
    spec_notes(&s, 20, 1, OLD);
    uint32_t page[PAGE_MAX];
    /* Notes 10..14 engaged 1..5 times: pool of 3 = {14, 13, 12}. */
    const uint32_t pool_n[2] = {3, 400}, sample[2] = {60, 2};
    const uint32_t want_n[2] = {3, 2}, want[2][3] = {{14, 13, 12}, {14, 13, 0}};
    for (int v = 0; v < 2; v++) {
        fw_engine_cfg cfg = default_cfg();
        cfg.feed.n_fresh = 0;
        cfg.feed.n_trending = pool_n[v];
        cfg.feed.sample_trending = sample[v];
        fw_engine_ctx *c;
        fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);
        for (uint32_t k = 0; k < 5; k++)
            engage(e, c, 2, 10 + k, 0, FW_EV_OPEN, k + 1);
        fw_engine_end_tick(e, c, 0);
        assert_int_equal(serve(e, c, 0, 0, 1, page), want_n[v]);
        for (uint32_t i = 0; i < want_n[v]; i++)
            assert_int_equal(page[i], want[v][i]);
    }
    /* Fresh, one arm per setting (the ring is as long as the longest arm needs): equal
     * scores, so the page is the recalled set in id order. */
    fw_engine_cfg cfg[2] = {default_cfg(), default_cfg()};
    cfg[0].feed.sample_fresh = 5;
    cfg[1].feed.n_fresh = 4;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfg, 2), &c);
    const uint32_t want_f[2] = {5, 4};
    for (uint32_t a = 0; a < 2; a++) {
        assert_int_equal(serve(e, c, a, a, 1, page), want_f[a]);
        for (uint32_t i = 0; i < want_f[a]; i++)
            assert_int_equal(page[i], 20 - want_f[a] + i);
    }
}

/* ---- ranking details ------------------------------------------------------------------ */

/* Equal scores break on id ascending, whichever pool the notes come from and in whatever
 * order they were recalled (fresh recall walks newest first); and the result is the same
 * on a second engine. */
static void test_ties_break_on_id(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    uint32_t pages[2][PAGE_MAX];
    for (int run = 0; run < 2; run++) {
        fw_engine_ctx *c;
        fw_engine *e = open_old_notes(state, 4, 25, &cfg, &c);
        /* Equal engagement on a few notes, logged in scrambled order. */
        const uint32_t hot[4] = {21, 4, 13, 9};
        for (int k = 0; k < 4; k++)
            engage(e, c, 2, hot[k], 0, FW_EV_LIKE, 2);
        fw_engine_end_tick(e, c, 0);
        assert_int_equal(serve(e, c, 0, 0, 1, pages[run]), 10);
        const uint32_t want[10] = {4, 9, 13, 21, 0, 1, 2, 3, 5, 6};
        for (int i = 0; i < 10; i++)
            assert_int_equal(pages[run][i], want[i]);
    }
    assert_memory_equal(pages[0], pages[1], 10 * sizeof(uint32_t));
}

/* Younger notes rank higher (recency decay), and a note younger than fresh_age_h gets the
 * fresh bonus on top. */
static void test_recency_and_fresh_bonus(void **state)
{
    spec s;
    spec_init(&s, 3);
    spec_notes(&s, 1, 1, -30);   /* 0: engaged, 30 h old at tick 0 (not fresh) */
    spec_notes(&s, 1, 1, -10);   /* 1: engaged, 10 h old (fresh) */
    spec_notes(&s, 1, 1, -5);    /* 2: not engaged, 5 h old: only the fresh bonus */
    fw_engine_cfg cfg = default_cfg();
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);
    engage(e, c, 2, 0, 0, FW_EV_LIKE, 1);
    engage(e, c, 2, 1, 0, FW_EV_LIKE, 1);
    fw_engine_end_tick(e, c, 0);
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 0, 0, 0, page), 3);
    /* 1: (log 3 + 0.5) 2^(-10/48) = 1.38; 0: log 3 2^(-30/48) = 0.71; 2: 0.5 2^(-5/48) = 0.47 */
    assert_int_equal(page[0], 1);
    assert_int_equal(page[1], 0);
    assert_int_equal(page[2], 2);
}

/* ---- publishing -------------------------------------------------------------------- */

/* Published notes take the next dense ids in order and are served as fresh (first, ahead of
 * an old catalog); a note by a user that does not exist is refused and takes no id. */
static void test_publish(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 4, 5, &cfg, &c);
    assert_int_equal(fw_engine_n_notes(e), 5);
    for (uint32_t k = 0; k < 3; k++) {
        fw_note_info ni = {.creator = 2, .topic = 1, .format = FW_FORMAT_VIDEO,
                           .created_tick = 10 + (int32_t)k};
        uint32_t id = FW_NONE;
        assert_int_equal(fw_engine_publish(e, c, &ni, &id), FW_OK);
        assert_int_equal(id, 5 + k);
        assert_int_equal(fw_engine_n_notes(e), 6 + k);
    }
    fw_note_info bad = {.creator = 4, .created_tick = 12};
    uint32_t id = 12345;
    assert_int_equal(fw_engine_publish(e, c, &bad, &id), FW_ERR_INVAL);
    assert_int_equal(id, 12345);
    assert_int_equal(fw_engine_n_notes(e), 8);
    assert_int_equal(fw_engine_ctx_latency(c, FW_STAGE_PUBLISH)->total, 3);
    fw_engine_end_tick(e, c, 12);

    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 0, 0, 12, page), 8);
    assert_int_equal(page[0], 7);   /* newest: age 0 */
    assert_int_equal(page[1], 6);
    assert_int_equal(page[2], 5);
    /* Published notes count events like catalog ones. */
    engage(e, c, 3, 7, 12, FW_EV_SAVE, 2);
    assert_int_equal(fw_engine_note_count(e, 7, FW_EV_SAVE), 2);
}

/* Publishing many notes past the catalog's capacity keeps ids dense, and a followed
 * creator's new note reaches the follower through follow recall even with no fresh pool. */
static void test_publish_grows_and_reaches_followers(void **state)
{
    spec s;
    spec_init(&s, 4);
    spec_notes(&s, 2, 1, OLD);
    spec_follow(&s, 0, 3);
    fw_engine_cfg cfg = default_cfg();
    cfg.feed.n_fresh = 0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);
    for (uint32_t k = 0; k < 3000; k++) {
        fw_note_info ni = {.creator = 1 + k % 2, .created_tick = 0};
        uint32_t id;
        assert_int_equal(fw_engine_publish(e, c, &ni, &id), FW_OK);
        assert_int_equal(id, 2 + k);
    }
    fw_note_info ni = {.creator = 3, .created_tick = 5};
    uint32_t id;
    assert_int_equal(fw_engine_publish(e, c, &ni, &id), FW_OK);
    assert_int_equal(id, 3002);
    fw_engine_end_tick(e, c, 5);
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 0, 0, 5, page), 1);
    assert_int_equal(page[0], 3002);
    assert_int_equal(serve(e, c, 2, 0, 5, page), 0);   /* not a follower */
}

/* ---- notifications: the daily digest ------------------------------------------------- */

/* The digest lists the notes the followed creators published the day before (not older
 * ones, not today's), best first by smoothed open rate, the newer note first on a tie, cut
 * at the cell's engine.notify.digest_size and the caller's cap; a cell with size 0 sends
 * none, and the pool's day series counts what was published. */
static void test_notify_digest(void **state)
{
    spec s;
    spec_init(&s, 6);
    spec_notes(&s, 2, 1, OLD);   /* catalog notes: never in a digest */
    spec_follow(&s, 0, 1);
    spec_follow(&s, 0, 2);
    spec_follow(&s, 4, 3);
    fw_engine_cfg cfgs[3] = {default_cfg(), default_cfg(), default_cfg()};
    cfgs[0].notify.digest_size = 2;
    cfgs[1].notify.digest_size = 0;
    cfgs[2].notify.digest_size = 10;   /* more than there is: the catalog notes stay out */
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfgs, 3), &c);
    uint32_t id[5], out[8];
    const uint32_t creator[5] = {1, 1, 2, 3, 2};   /* a b c d e */
    for (int k = 0; k < 5; k++) {
        fw_note_info ni = {.creator = creator[k], .topic = 1, .created_tick = 3 + k};
        assert_int_equal(fw_engine_publish(e, c, &ni, &id[k]), FW_OK);
    }
    assert_int_equal(fw_notify_digest(e, 0, 0, out, 8), 0);   /* nothing before a day ends */
    /* b: 5 opens in 10 impressions (0.3); c: 0 in 10 (0.05); a and e untouched (0.1 each). */
    engage(e, c, 5, id[1], 9, FW_EV_IMPRESSION, 10);
    engage(e, c, 5, id[1], 9, FW_EV_OPEN, 5);
    engage(e, c, 5, id[2], 9, FW_EV_IMPRESSION, 10);
    fw_engine_end_tick(e, c, 9);
    assert_int_equal(fw_engine_end_day(e, c, 0), FW_OK);
    assert_int_equal(fw_notify_digest(e, 0, 0, out, 8), 2);
    assert_int_equal(out[0], id[1]);
    assert_int_equal(out[1], id[4]);   /* e ties with a and is newer */
    assert_int_equal(fw_notify_digest(e, 0, 2, out, 8), 4);   /* a b c e: none of the catalog's */
    assert_int_equal(out[0], id[1]);
    assert_int_equal(out[1], id[4]);
    assert_int_equal(out[2], id[0]);
    assert_int_equal(out[3], id[2]);
    assert_int_equal(fw_notify_digest(e, 0, 2, out, 1), 1);   /* the caller's cap */
    assert_int_equal(out[0], id[1]);
    assert_int_equal(fw_notify_digest(e, 0, 1, out, 8), 0);   /* the cell sends none */
    assert_int_equal(fw_notify_digest(e, 4, 0, out, 8), 1);
    assert_int_equal(out[0], id[3]);
    assert_int_equal(fw_notify_digest(e, 5, 0, out, 8), 0);   /* follows nobody */
    assert_int_equal(fw_notify_digest(e, 99, 0, out, 8), 0);  /* no such user */
    /* The pool's series: 5 notes by 3 creators. */
    int found = 0;
    for (uint32_t g = 0; g < fw_engine_n_series_groups(e); g++) {
        fw_series_group grp;
        assert_int_equal(fw_engine_series(e, g, &grp), FW_OK);
        if (strcmp(grp.name, "notify") != 0)
            continue;
        found = 1;
        assert_int_equal(grp.n, 2);
        assert_int_equal(grp.values[0], 5);
        assert_int_equal(grp.values[1], 3);
    }
    assert_true(found);
    /* The next day's digest holds only that day's notes. */
    fw_note_info ni = {.creator = 2, .topic = 1, .created_tick = TPD + 1};
    uint32_t f;
    assert_int_equal(fw_engine_publish(e, c, &ni, &f), FW_OK);
    assert_int_equal(fw_engine_end_day(e, c, 1), FW_OK);
    assert_int_equal(fw_notify_digest(e, 0, 2, out, 8), 1);
    assert_int_equal(out[0], f);
    assert_int_equal(fw_notify_digest(e, 4, 0, out, 8), 0);
}

/* With digest_size 0 in every cell (the default) the module is off: no series group. */
static void test_notify_off_by_default(void **state)
{
    (void)state;
    spec s;
    spec_init(&s, 3);
    spec_notes(&s, 2, 1, OLD);
    spec_follow(&s, 0, 1);
    fw_engine_cfg cfg = default_cfg();
    assert_int_equal(cfg.notify.digest_size, 0);
    fw_engine *e = build(&s, &cfg, 1);
    for (uint32_t g = 0; g < fw_engine_n_series_groups(e); g++) {
        fw_series_group grp;
        assert_int_equal(fw_engine_series(e, g, &grp), FW_OK);
        assert_string_not_equal(grp.name, "notify");
    }
    uint32_t out[4];
    assert_int_equal(fw_notify_digest(e, 0, 0, out, 4), 0);
    fw_engine_destroy(e);
}

/* ---- determinism and arms ------------------------------------------------------------ */

/* Runs a fixed script of every barrier call and many requests on a new engine in the rig;
 * writes every page served into out and returns its length. */
static size_t scripted_run(void **state, uint32_t *out, size_t cap)
{
    spec s;
    spec_init(&s, 8);
    for (uint32_t i = 0; i < 120; i++)
        spec_notes(&s, 1, 1 + (i * 7) % 5, -300 + (int32_t)(i * 2));
    spec_follow(&s, 0, 2);
    spec_follow(&s, 0, 4);
    spec_follow(&s, 6, 1);
    spec_follow(&s, 7, 3);
    fw_engine_cfg cfg[2] = {default_cfg(), default_cfg()};
    cfg[1].feed.w_fresh = 2.0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfg, 2), &c);
    size_t n_out = 0;
    uint32_t page[PAGE_MAX];
    for (int32_t tick = 0; tick < 3 * (int32_t)TPD; tick++) {
        for (uint32_t u = 0; u < 8; u++) {
            uint32_t n = serve(e, c, u, u % 2, tick, page);
            for (uint32_t i = 0; i < n; i++) {
                assert_true(n_out < cap);
                out[n_out++] = page[i];
                fw_event ev = {.user = u, .note = page[i], .tick = tick,
                               .type = (page[i] + u + (uint32_t)tick) % 5 == 0 ? FW_EV_LIKE
                                                                                : FW_EV_OPEN};
                assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_OK);
            }
            out[n_out++] = UINT32_MAX;   /* page separator */
        }
        if (tick % 5 == 0) {
            fw_note_info ni = {.creator = 1 + (uint32_t)tick % 7, .created_tick = tick};
            uint32_t id;
            assert_int_equal(fw_engine_publish(e, c, &ni, &id), FW_OK);
        }
        fw_engine_end_tick(e, c, tick);
        if ((tick + 1) % (int32_t)TPD == 0)
            fw_engine_end_day(e, c, (uint32_t)(tick / (int32_t)TPD));
    }
    return n_out;
}

static void test_determinism(void **state)
{
    enum { CAP = 40000 };
    uint32_t *a = malloc(CAP * sizeof *a), *b = malloc(CAP * sizeof *b);
    assert_non_null(a);
    assert_non_null(b);
    size_t na = scripted_run(state, a, CAP), nb = scripted_run(state, b, CAP);
    assert_int_equal(na, nb);
    assert_true(na > 8 * 3 * TPD + 500);   /* separators plus plenty of served notes */
    assert_memory_equal(a, b, na * sizeof *a);
    free(a);
    free(b);
}

/* Each arm uses its own configuration: for users in identical states, a smaller page_size
 * gives a shorter page, w_follow = 0 removes the follow bonus, and an arm that gives opens no
 * trending weight does not see opened notes trend. */
static void test_arms_differ(void **state)
{
    spec s;
    spec_init(&s, 8);
    spec_notes(&s, 29, 2, OLD);          /* 0..28 by creator 2 */
    spec_notes(&s, 1, 3, OLD);           /* 29 by creator 3, followed by users 0..2 */
    for (uint32_t u = 0; u < 3; u++)
        spec_follow(&s, u, 3);
    fw_engine_cfg cfg[3] = {default_cfg(), default_cfg(), default_cfg()};
    cfg[1].feed.page_size = 5;
    cfg[2].feed.w_follow = 0.0;
    cfg[2].feed.w_open = 0.0;
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, cfg, 3), &c);
    engage(e, c, 7, 12, 0, FW_EV_OPEN, 1);   /* log 2 = 0.69: below the follow bonus */
    fw_engine_end_tick(e, c, 0);

    uint32_t p0[PAGE_MAX], p1[PAGE_MAX], p2[PAGE_MAX];
    assert_int_equal(serve(e, c, 0, 0, 1, p0), 10);
    assert_int_equal(serve(e, c, 1, 1, 1, p1), 5);
    assert_int_equal(serve(e, c, 2, 2, 1, p2), 10);
    /* Arm 0: followed note, then the liked one, then ids. Arm 1: the same, cut at 5. */
    const uint32_t want0[10] = {29, 12, 0, 1, 2, 3, 4, 5, 6, 7};
    assert_memory_equal(p0, want0, sizeof want0);
    assert_memory_equal(p0, p1, 5 * sizeof *p0);
    /* Arm 2: no follow bonus, opens do not trend: plain id order. */
    for (uint32_t i = 0; i < 10; i++)
        assert_int_equal(p2[i], i);
}

/* ---- latency ------------------------------------------------------------------------ */

static void assert_stage_totals(const fw_engine_ctx *c, const uint64_t want[FW_STAGE__COUNT])
{
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        assert_int_equal(fw_engine_ctx_latency(c, (fw_stage)s)->total, want[s]);
}

/* A feed request records exactly one value in each of FEED, FEED_RECALL and FEED_RANK of
 * the caller's ctx (and nothing elsewhere, nor in another ctx); barrier calls record in
 * their own stage; reset clears everything. */
static void test_latency_stages(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 3, 20, &cfg, &c);
    fw_engine_ctx *other = fixture_ctx(e);
    uint64_t want[FW_STAGE__COUNT] = {0};
    assert_stage_totals(c, want);
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 0, 0, 0, page), 10);
    want[FW_STAGE_FEED] = want[FW_STAGE_FEED_RECALL] = want[FW_STAGE_FEED_RANK] = 1;
    assert_stage_totals(c, want);
    assert_int_equal(serve(e, c, 1, 0, 0, page), 10);
    assert_int_equal(serve(e, c, 1, 0, 0, page), 10);
    want[FW_STAGE_FEED] = want[FW_STAGE_FEED_RECALL] = want[FW_STAGE_FEED_RANK] = 3;
    assert_stage_totals(c, want);
    /* A request's total time is its recall time plus its rank time (up to the clamping of
     * a 0 ns stage to the histogram's lowest value, 1 ns). */
    double feed = fw_engine_ctx_latency(c, FW_STAGE_FEED)->sum;
    double parts = fw_engine_ctx_latency(c, FW_STAGE_FEED_RECALL)->sum +
                   fw_engine_ctx_latency(c, FW_STAGE_FEED_RANK)->sum;
    assert_true(feed > 0.0);
    assert_true(fabs(feed - parts) <= 6.0);

    fw_event ev = {.user = 0, .note = 3, .tick = 0, .type = FW_EV_OPEN};
    assert_int_equal(fw_engine_log_events(e, c, &ev, 1), FW_OK);
    fw_engine_end_tick(e, c, 0);
    fw_engine_end_day(e, c, 0);
    fw_note_info ni = {.creator = 1, .created_tick = 1};
    uint32_t id;
    assert_int_equal(fw_engine_publish(e, c, &ni, &id), FW_OK);
    want[FW_STAGE_LOG] = want[FW_STAGE_END_TICK] = want[FW_STAGE_END_DAY] = 1;
    /* No products: the shop is switched off, so the tick end advances no orders. */
    want[FW_STAGE_PUBLISH] = 1;
    assert_stage_totals(c, want);
    uint64_t none[FW_STAGE__COUNT] = {0};
    assert_stage_totals(other, none);

    fw_engine_ctx_reset_latency(c);
    assert_stage_totals(c, none);
    assert_int_equal(serve(e, c, 2, 0, 24, page), 10);
    memset(want, 0, sizeof want);
    want[FW_STAGE_FEED] = want[FW_STAGE_FEED_RECALL] = want[FW_STAGE_FEED_RANK] = 1;
    assert_stage_totals(c, want);
    /* Stage names come from the same table. */
    assert_string_equal(fw_stage_name(FW_STAGE_FEED_RANK), "feed_rank");
    assert_string_equal(fw_stage_name(FW_STAGE__COUNT), "unknown");
    fw_engine_ctx_destroy(other);
}

/* ---- bad input and counters ---------------------------------------------------------- */

static void test_invalid_inputs(void **state)
{
    spec s;
    spec_init(&s, 3);
    spec_notes(&s, 5, 1, OLD);
    fw_engine_cfg cfg = default_cfg();
    fw_engine_ctx *c;
    fw_engine *e = fixture_rig_open(state, build(&s, &cfg, 1), &c);
    uint32_t page[PAGE_MAX];
    assert_int_equal(serve(e, c, 3, 0, 0, page), 0);           /* user out of range */
    assert_int_equal(serve(e, c, UINT32_MAX, 0, 0, page), 0);
    assert_int_equal(serve(e, c, 0, 1, 0, page), 0);           /* arm out of range */
    fw_feed_req req = {.user = 1, .arm = 0, .tick = 0};
    assert_int_equal(fw_feed_request(e, c, &req, page, 0), 0); /* no room */
    assert_int_equal(fw_feed_request(e, c, &req, page, 3), 3); /* cap below page_size */

    /* Bad events are refused one by one; the good ones around them still count. */
    fw_event ev[6] = {
        {.user = 0, .note = 2, .tick = 0, .type = FW_EV_OPEN},
        {.user = 0, .note = 5, .tick = 0, .type = FW_EV_OPEN},        /* no such note */
        {.user = 0, .note = 2, .tick = 0, .type = FW_EV_LIKE},
        {.user = 0, .note = 2, .tick = 0, .type = FW_EV__COUNT},      /* no such type */
        {.user = 3, .note = 2, .tick = 0, .type = FW_EV_SAVE},        /* no such user */
        {.user = 1, .note = 2, .tick = 0, .type = FW_EV_LIKE},
    };
    assert_int_equal(fw_engine_log_events(e, c, ev, 6), FW_ERR_INVAL);
    assert_int_equal(fw_engine_note_count(e, 2, FW_EV_OPEN), 1);
    assert_int_equal(fw_engine_note_count(e, 2, FW_EV_LIKE), 2);
    assert_int_equal(fw_engine_note_count(e, 2, FW_EV_SAVE), 0);
    assert_int_equal(fw_engine_note_count(e, 5, FW_EV_OPEN), 0);
    fw_engine_end_tick(e, c, 0);
    assert_true(serve(e, c, 2, 0, 1, page) > 0);
    assert_int_equal(page[0], 2);   /* the good events made note 2 trend */

    /* Creation. */
    fw_err err = FW_OK;
    fw_catalog cat = {.n_users = 3, .n_topics = 4, .ticks_per_day = TPD, .n_notes = s.n_notes,
                      .notes = s.notes};
    assert_null(fw_engine_create(&cat, &cfg, 0, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    err = FW_OK;
    assert_null(fw_engine_create(&cat, NULL, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    err = FW_OK;
    assert_null(fw_engine_create(NULL, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    fw_catalog bad = cat;
    bad.n_users = 0;
    err = FW_OK;
    assert_null(fw_engine_create(&bad, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    bad = cat;
    bad.ticks_per_day = 0;
    err = FW_OK;
    assert_null(fw_engine_create(&bad, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    fw_note_info notes[2] = {{.creator = 1}, {.creator = 3}};   /* creator 3 does not exist */
    bad = cat;
    bad.n_notes = 2;
    bad.notes = notes;
    err = FW_OK;
    assert_null(fw_engine_create(&bad, &cfg, 1, &err));
    assert_int_equal(err, FW_ERR_INVAL);
    /* No follow lists at all is fine: nobody follows anyone. */
    err = FW_OK;
    e = fw_engine_create(&cat, &cfg, 1, &err);
    assert_non_null(e);
    assert_int_equal(err, FW_OK);
    fw_engine_destroy(e);
    fw_engine_destroy(NULL);
    fw_engine_ctx_destroy(NULL);
}

/* A catalog whose follow list names a user that does not exist must be refused like a note
 * by a user that does not exist (it used to be copied unchecked, and the follower's first
 * request read the per-creator rings out of bounds). */
static void test_create_rejects_bad_follow_target(void **state)
{
    (void)state;
    fw_note_info notes[1] = {{.creator = 1, .created_tick = OLD}};
    uint64_t off[4] = {0, 1, 1, 1};
    uint32_t fol[1] = {7};   /* user 0 follows user 7 of 3 */
    fw_catalog cat = {.n_users = 3, .n_topics = 4, .ticks_per_day = TPD, .n_notes = 1,
                      .notes = notes, .follow_offsets = off, .follows = fol};
    fw_engine_cfg cfg = default_cfg();
    fw_err err = FW_OK;
    fw_engine *e = fw_engine_create(&cat, &cfg, 1, &err);
    if (e)
        fw_engine_destroy(e);
    assert_null(e);
    assert_int_equal(err, FW_ERR_INVAL);
}

/* fw_engine_note_count counts every logged event by type, impressions and follows
 * included; out-of-range notes and types read 0. */
static void test_note_count(void **state)
{
    fw_engine_cfg cfg = default_cfg();
    fw_engine_ctx *c;
    fw_engine *e = open_old_notes(state, 4, 4, &cfg, &c);
    for (uint32_t t = 0; t < FW_EV__COUNT; t++)
        engage(e, c, 0, 1, 0, (fw_event_type)t, t + 1);
    engage(e, c, 2, 3, 0, FW_EV_OPEN, 7);
    for (uint32_t t = 0; t < FW_EV__COUNT; t++) {
        assert_int_equal(fw_engine_note_count(e, 1, (fw_event_type)t), t + 1);
        assert_int_equal(fw_engine_note_count(e, 0, (fw_event_type)t), 0);
        assert_int_equal(fw_engine_note_count(e, 2, (fw_event_type)t), 0);
    }
    assert_int_equal(fw_engine_note_count(e, 3, FW_EV_OPEN), 7);
    assert_int_equal(fw_engine_note_count(e, 3, FW_EV_LIKE), 0);
    assert_int_equal(fw_engine_note_count(e, 4, FW_EV_OPEN), 0);
    assert_int_equal(fw_engine_note_count(e, 1, FW_EV__COUNT), 0);
}

/* The engine's own configuration: defaults pass the checks, every range and cross-knob
 * rule is refused with the key named, fw_engine_create refuses what the checks refuse, and
 * every knob has a declared scope. */
static void test_cfg_defaults_and_checks(void **state)
{
    (void)state;
    char why[256];
    fw_engine_cfg cfg;
    fw_engine_cfg_defaults(&cfg);
    assert_int_equal(fw_engine_cfg_check(&cfg, why, sizeof why), FW_OK);
    assert_int_equal(cfg.feed.page_size, 10);
    assert_int_equal(cfg.feed.algorithm, FW_FEED_BASELINE);
    assert_true(cfg.rec.lr == 0.02);

    fw_engine_cfg bad = cfg;
    bad.feed.page_size = 0;
    assert_int_equal(fw_engine_cfg_check(&bad, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.feed.page_size"));
    bad = cfg;
    bad.rec.lr = NAN;
    assert_int_equal(fw_engine_cfg_check(&bad, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.rec.lr"));
    bad = cfg;
    bad.ads.pay_rule = 7;
    assert_int_equal(fw_engine_cfg_check(&bad, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.ads.pay_rule"));
    bad = cfg;
    bad.latency_sigfigs = 4;
    assert_int_equal(fw_engine_cfg_check(&bad, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "engine.latency_sigfigs"));
    bad = cfg;
    bad.shop.delivery_days_min = 5;
    bad.shop.delivery_days_max = 2;
    assert_int_equal(fw_engine_cfg_check(&bad, why, sizeof why), FW_ERR_RANGE);
    assert_non_null(strstr(why, "delivery_days_min"));

    /* The engine refuses a configuration the checks refuse. */
    static spec s;
    spec_init(&s, 4);
    spec_notes(&s, 4, 1, OLD);
    fw_catalog cat = {.n_users = s.n_users, .n_topics = 4, .ticks_per_day = s.ticks_per_day,
                      .n_notes = s.n_notes, .notes = s.notes};
    fw_err err = FW_OK;
    bad = cfg;
    bad.feed.page_size = 0;
    assert_null(fw_engine_create(&cat, &bad, 1, &err));
    assert_int_equal(err, FW_ERR_RANGE);

    /* Scopes: arms may change ranking knobs, not what is one state for the whole run. */
    assert_int_equal(fw_engine_knob_scope("engine.feed.page_size"), FW_SCOPE_ARM);
    assert_int_equal(fw_engine_knob_scope("engine.rec.rank_open"), FW_SCOPE_ARM);
    /* ... learned state when each arm learns its own (per-arm isolation), budgets and pacing
     * when each arm has its own share (budget split), attribution when both. */
    assert_int_equal(fw_engine_knob_scope("engine.rec.lr"), FW_SCOPE_ISO);
    assert_int_equal(fw_engine_knob_scope("engine.rec.dim"), FW_SCOPE_ISO);
    assert_int_equal(fw_engine_knob_scope("engine.rec.history"), FW_SCOPE_ARM);
    assert_int_equal(fw_engine_knob_scope("engine.ads.pacing"), FW_SCOPE_SPLIT);
    assert_int_equal(fw_engine_knob_scope("engine.ads.ctr_prior"), FW_SCOPE_ISO);
    assert_int_equal(fw_engine_knob_scope("engine.ads.click_window_days"), FW_SCOPE_OWN);
    assert_int_equal(fw_engine_knob_scope("engine.ads.pay_rule"), FW_SCOPE_ARM);
    assert_int_equal(fw_engine_knob_scope("engine.shop.cart_cap"), FW_SCOPE_ARM);
    assert_int_equal(fw_engine_knob_scope("engine.shop.best_sellers"), FW_SCOPE_RUN);
    assert_int_equal(fw_engine_knob_scope("engine.market.matching"), FW_SCOPE_RUN);
    assert_int_equal(fw_engine_knob_scope("engine.market.review_pass"), FW_SCOPE_ARM);
    assert_int_equal(fw_engine_knob_scope("engine.latency_sigfigs"), FW_SCOPE_RUN);
    assert_int_equal(fw_engine_knob_scope("engine.feed.no_such_knob"), -1);
}

/* ---- cells: placing users, isolation of search intents ------------------------------------ */

/* Query intents are learned per cell under per-arm isolation (users 0, 1 in cell 0; 2, 3 in
 * cell 1): clicks of cell 1's users teach cell 1 what a word means, not cell 0; under shared
 * isolation both learn; placing users after a pre-period forks cell 0's intents into every
 * cell. A bad cell is refused. */
static void test_isolation_search_intents(void **state)
{
    (void)state;
    enum { N_NOTES_S = 4, N_TERMS_S = 8 };
    static const uint8_t cells[4] = {0, 0, 1, 1};
    fw_note_info notes[N_NOTES_S];
    uint32_t terms[N_NOTES_S * FW_NOTE_TERMS];
    for (uint32_t i = 0; i < N_NOTES_S; i++) {
        notes[i] = (fw_note_info){.creator = i % 4, .topic = (uint16_t)(i % 2), .format = FW_FORMAT_IMAGE,
                                  .created_tick = -10};
        for (uint32_t k = 0; k < FW_NOTE_TERMS; k++)
            terms[i * FW_NOTE_TERMS + k] = k == 0 ? i : FW_NONE;
    }
    fw_engine_cfg cfgs[2] = {fixture_engine_cfg(), fixture_engine_cfg()};
    for (int mode = 0; mode < 3; mode++) {   /* per_arm, shared, per_arm placed later */
        fw_catalog cat = {.n_users = 4, .n_topics = 2, .ticks_per_day = 24, .n_notes = N_NOTES_S, .notes = notes,
                          .n_terms = N_TERMS_S, .note_terms = terms, .user_cell = mode == 2 ? NULL : cells,
                          .isolation = mode == 1 ? FW_ISOLATION_SHARED : FW_ISOLATION_PER_ARM};
        fw_err err = FW_OK;
        fw_engine *e = fw_engine_create(&cat, cfgs, 2, &err);
        assert_non_null(e);
        fw_engine_ctx *c = fw_engine_ctx_create(e);
        assert_non_null(c);
        /* "word 6" (in no note) leads user 2 to note 1 (topic 1), twenty times. */
        fw_search_click k = {.user = 2, .note = 1, .tick = 1, .n_terms = 1, .terms = {6}};
        for (int j = 0; j < 20; j++)
            assert_int_equal(fw_engine_log_search(e, c, &k, 1), FW_OK);
        if (mode == 2) {
            const uint8_t bad[4] = {0, 0, 1, 2};
            assert_int_equal(fw_engine_set_user_cells(e, bad), FW_ERR_INVAL);
            assert_int_equal(fw_engine_set_user_cells(e, cells), FW_OK);
        }
        double dist[2];
        fw_search_req q = {.user = 3, .arm = 1, .tick = 2, .n_terms = 1, .terms = {6}};
        assert_true(fw_search_intent(e, &q, dist) > 0.5);
        assert_true(dist[1] > dist[0]);
        q.user = 0;
        q.arm = 0;
        double conf = fw_search_intent(e, &q, dist);
        if (mode == 0)
            assert_true(conf == 0.0);   /* cell 0 never saw the word clicked */
        else
            assert_true(conf > 0.5 && dist[1] > dist[0]);
        fw_engine_ctx_destroy(c);
        fw_engine_destroy(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        fixture_rig_test(test_seen_no_repeats_until_exhausted),
        fixture_rig_test(test_seen_window_small_lets_notes_return),
        fixture_rig_test(test_seen_false_positives_rare),
        fixture_rig_test(test_seen_window_is_full_window),
        cmocka_unit_test(test_seen_dense_matches),
        fixture_rig_test(test_follow_bonus_outranks),
        fixture_rig_test(test_follow_event_adds_creator),
        fixture_rig_test(test_unfollow_record_removes_creator),
        fixture_rig_test(test_kept_follows_never_written),
        fixture_rig_test(test_follow_record_adds_creator),
        fixture_rig_test(test_follow_recall_limits),
        fixture_rig_test(test_engagement_enters_trending),
        fixture_rig_test(test_trending_half_life),
        fixture_rig_test(test_trending_decay_against_follow_bonus),
        fixture_rig_test(test_event_weights),
        fixture_rig_test(test_min_half_life_no_overflow),
        fixture_rig_test(test_pool_sizes),
        fixture_rig_test(test_ties_break_on_id),
        fixture_rig_test(test_recency_and_fresh_bonus),
        fixture_rig_test(test_publish),
        fixture_rig_test(test_publish_grows_and_reaches_followers),
        fixture_rig_test(test_notify_digest),
        cmocka_unit_test(test_notify_off_by_default),
        fixture_rig_test(test_determinism),
        fixture_rig_test(test_arms_differ),
        fixture_rig_test(test_latency_stages),
        fixture_rig_test(test_invalid_inputs),
        cmocka_unit_test(test_create_rejects_bad_follow_target),
        fixture_rig_test(test_note_count),
        cmocka_unit_test(test_cfg_defaults_and_checks),
        cmocka_unit_test(test_isolation_search_intents),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

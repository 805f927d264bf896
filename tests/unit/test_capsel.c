/* The re-rank's selection under caps (engine/src/capsel.h), issue 22: on lists whose scores
 * are upper bounds made exact only on demand, cap_select_capped -- a window of the bounds
 * that reach a floor, then a heap of every entry, then relaxed, as rec.c calls it -- picks
 * exactly the page of the plain scan over the exact scores (cap_select_plain, then
 * relaxed). Random lists: many ties (scores on a grid of quarters), bounds equal to the score
 * or above it by a little or a lot, some scores exact from the start, tight and loose caps,
 * floors from the lower bounds (as rec.c's), at random, above every bound and none. Every
 * case is checked on its own, and each entry may be scored once at most. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sort.h>

#include "flywheel/engine_cfg.h"


enum { M_MAX = 400, CASES = 40000 };

typedef struct instance {
    uint32_t m, page;
    uint32_t id[M_MAX], creator[M_MAX];
    uint16_t topic[M_MAX];
    double exact[M_MAX], bound[M_MAX], lower[M_MAX];
    uint8_t known[M_MAX];   /* the score is exact from the start */
    fw_rec_cfg rc;
    double floor;
} instance;

/* fw_cap_list's score for the lazy list: the instance's exact score, counting the calls. */
typedef struct scorer {
    const instance *in;
    const uint8_t *exact;   /* the list's flags: an entry already exact must not be scored */
    uint32_t calls[M_MAX];
    int bad;                /* an entry scored twice, or one already exact */
} scorer;

static double score_entry(const void *arg, uint32_t i);
#define CAP_SCORE(l, i) score_entry((l)->ctx, i)
#include "capsel.h"

static double score_entry(const void *arg, uint32_t i)
{
    scorer *s = (scorer *)arg;   /* the test's own, writable */
    if (i >= s->in->m || s->exact[i] || s->calls[i]++ > 0)
        s->bad = 1;
    return s->in->exact[i];
}

/* A score on a grid of quarters (ties are common) or a continuous one. */
static double draw_score(gsl_rng *r, int grid)
{
    return grid ? (double)gsl_rng_uniform_int(r, 24) / 4.0 : gsl_rng_uniform(r) * 6.0;
}

static void draw(gsl_rng *r, instance *in)
{
    uint32_t small = gsl_rng_uniform(r) < 0.3;
    in->m = 1 + (uint32_t)gsl_rng_uniform_int(r, small ? 24 : M_MAX);
    uint32_t n_cr = 1 + (uint32_t)gsl_rng_uniform_int(r, 1 + in->m / 2);
    uint32_t n_tp = 1 + (uint32_t)gsl_rng_uniform_int(r, 12);
    int grid = gsl_rng_uniform(r) < 0.7;
    double p_tight = gsl_rng_uniform(r), p_known = gsl_rng_uniform(r) < 0.3 ? 0.2 : 0.0;
    for (uint32_t i = 0; i < in->m; i++)
        in->id[i] = 3 * i + 7;
    gsl_ran_shuffle(r, in->id, in->m, sizeof in->id[0]);   /* distinct ids, not in list order */
    for (uint32_t i = 0; i < in->m; i++) {
        in->creator[i] = 100 + (uint32_t)gsl_rng_uniform_int(r, n_cr);
        in->topic[i] = (uint16_t)gsl_rng_uniform_int(r, n_tp);
        in->exact[i] = draw_score(r, grid);
        double u = gsl_rng_uniform(r);
        double slack = u < p_tight ? 0.0 : u < 0.8 ? draw_score(r, grid) / 8.0 : draw_score(r, grid);
        in->bound[i] = in->exact[i] + slack;
        in->lower[i] = in->exact[i] - (gsl_rng_uniform(r) < 0.5 ? 0.0 : draw_score(r, grid) / 4.0);
        in->known[i] = gsl_rng_uniform(r) < p_known;
    }
    memset(&in->rc, 0, sizeof in->rc);
    in->rc.max_per_creator = 1 + (uint32_t)gsl_rng_uniform_int(r, 4);
    in->rc.max_per_topic = 1 + (uint32_t)gsl_rng_uniform_int(r, 6);
    in->page = 1 + (uint32_t)gsl_rng_uniform_int(r, gsl_rng_uniform(r) < 0.9 ? 20 : 128);
    /* The floor: rec.c's (the k-th largest lower bound, k = 8 x page or fewer), one of the
     * scores, above every bound (an empty window), or none. */
    double u = gsl_rng_uniform(r);
    if (u < 0.5) {
        double lb[M_MAX];
        memcpy(lb, in->lower, in->m * sizeof *lb);
        gsl_sort(lb, 1, in->m);
        uint32_t k = 1 + (uint32_t)gsl_rng_uniform_int(r, in->m < 8 * in->page ? in->m : 8 * in->page);
        in->floor = lb[in->m - k];
    } else if (u < 0.8)
        in->floor = in->exact[gsl_rng_uniform_int(r, in->m)];
    else if (u < 0.9)
        in->floor = 1e9;
    else
        in->floor = -INFINITY;
}

static void check_case(const instance *in, uint32_t c, uint64_t *n_scored, uint64_t *n_entries)
{
    uint32_t open[M_MAX];
    /* The oracle: every score exact, the plain scan. */
    double sc_o[M_MAX];
    uint8_t ex_o[M_MAX];
    memcpy(sc_o, in->exact, in->m * sizeof *sc_o);
    memset(ex_o, 1, in->m);
    fw_cap_list lo = {.id = in->id, .creator = in->creator, .topic = in->topic, .sc = sc_o, .m = in->m,
                      .open = open, .exact = ex_o};
    fw_cap_page po = {.n = 0};
    cap_select_plain(&in->rc, &lo, &po, in->page, 0);
    if (po.n < in->page)
        cap_select_plain(&in->rc, &lo, &po, in->page, 1);

    /* Bounds, scored on demand, as rec.c calls it. */
    double sc_l[M_MAX];
    uint8_t ex_l[M_MAX];
    static scorer s;
    memset(&s, 0, sizeof s);
    s.in = in;
    s.exact = ex_l;
    for (uint32_t i = 0; i < in->m; i++) {
        sc_l[i] = in->known[i] ? in->exact[i] : in->bound[i];
        ex_l[i] = in->known[i];
    }
    fw_cap_list ll = {.id = in->id, .creator = in->creator, .topic = in->topic, .sc = sc_l, .m = in->m,
                      .open = open, .ctx = &s, .exact = ex_l};
    fw_cap_page pl = {.n = 0};
    if (in->floor > -INFINITY)
        cap_select_capped(&in->rc, &ll, &pl, in->page, 0, in->floor);
    if (pl.n < in->page)
        cap_select_capped(&in->rc, &ll, &pl, in->page, 0, -INFINITY);
    if (pl.n < in->page)
        cap_select_capped(&in->rc, &ll, &pl, in->page, 1, -INFINITY);

    if (s.bad)
        fail_msg("case %u: an entry scored twice or already exact", c);
    if (pl.n != po.n)
        fail_msg("case %u (m %u, page %u, caps %u/%u, floor %g): %u picks, the plain scan %u", c, in->m, in->page,
                 in->rc.max_per_creator, in->rc.max_per_topic, in->floor, pl.n, po.n);
    for (uint32_t k = 0; k < po.n; k++)
        if (pl.id[k] != po.id[k] || pl.creator[k] != po.creator[k] || pl.topic[k] != po.topic[k])
            fail_msg("case %u (m %u, page %u, caps %u/%u, floor %g), pick %u: id %u, the plain scan's %u", c, in->m,
                     in->page, in->rc.max_per_creator, in->rc.max_per_topic, in->floor, k, pl.id[k], po.id[k]);
    for (uint32_t i = 0; i < in->m; i++) {
        int picked = 0;
        for (uint32_t k = 0; k < pl.n; k++)
            picked |= pl.id[k] == in->id[i];
        if (picked && (!(ex_l[i] & 1) || sc_l[i] != in->exact[i] || !(ex_l[i] & FW_CAP_PICKED)))
            fail_msg("case %u: picked entry %u not exact (flags %u, score %g of %g)", c, i, ex_l[i], sc_l[i],
                     in->exact[i]);
        if (!picked && (ex_l[i] & FW_CAP_PICKED))
            fail_msg("case %u: entry %u marked picked, not on the page", c, i);
        *n_scored += s.calls[i];
    }
    *n_entries += in->m;
}

static void test_capped_equals_plain(void **state)
{
    (void)state;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20261207);
    static instance in;
    uint64_t n_scored = 0, n_entries = 0;
    for (uint32_t c = 0; c < CASES; c++) {
        draw(r, &in);
        check_case(&in, c, &n_scored, &n_entries);
    }
    print_message("%u lists, %llu entries: %llu scored exactly\n", CASES, (unsigned long long)n_entries,
                  (unsigned long long)n_scored);
    assert_true(n_scored < n_entries / 2);   /* bounds spare most of the scoring */
    gsl_rng_free(r);
}

/* The window's stop: an entry scored inside the window below the floor must not be picked
 * before one outside it that scores more (its bound below the floor, its score above the
 * entry's). Three entries, caps that block nothing: the window holds A (bound 10, score 1)
 * alone; B (bound 5, score 4) is outside; the page of one is B. */
static void test_window_stops_at_floor(void **state)
{
    (void)state;
    static instance in;
    memset(&in, 0, sizeof in);
    in.m = 3;
    in.page = 1;
    in.rc.max_per_creator = 1;
    in.rc.max_per_topic = 1;
    const double ex[3] = {1.0, 4.0, 0.5}, bd[3] = {10.0, 5.0, 0.5};
    for (uint32_t i = 0; i < 3; i++) {
        in.id[i] = i + 1;
        in.creator[i] = i;
        in.topic[i] = (uint16_t)i;
        in.exact[i] = ex[i];
        in.bound[i] = bd[i];
    }
    in.floor = 6.0;
    uint64_t a = 0, b = 0;
    check_case(&in, 0, &a, &b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_window_stops_at_floor),
        cmocka_unit_test(test_capped_equals_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

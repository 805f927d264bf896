/* Unit tests for position auctions: the published two-slot case (../shared/vectors/README.md,
 * "Position auctions") under GSP, VCG and first price, quality-weighted GSP, reserves, single
 * slots, degenerate inputs and ties, bad input, and a property test over random instances
 * against a brute-force reference (ranking by insertion sort, VCG as a welfare difference). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <math.h>

#include "flywheel/auction.h"

enum { MAX_N = 400, MAX_K = 40 };

/* Tests are deterministic: "random" values come from this fixed sequence (splitmix64). */
static uint64_t next_value(uint64_t *s)
{
    uint64_t z = (*s += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform in [0, 1). */
static double next_unit(uint64_t *s)
{
    return (double)(next_value(s) >> 11) * 0x1p-53;
}

static void assert_exact(double got, double want)
{
    if (!(got == want))
        fail_msg("got %.17g, want exactly %.17g", got, want);
}

static void assert_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.17g, want %.17g (tolerance %g)", got, want, tol);
}

/* A recognisable pattern the auction must not write over. */
static void fill_sentinel(fw_win *out, size_t n)
{
    memset(out, 0xa5, n * sizeof *out);
}

static int is_sentinel(const fw_win *w)
{
    fw_win s;
    fill_sentinel(&s, 1);
    return memcmp(w, &s, sizeof s) == 0;
}

/* Runs the auction with garbage in scratch and sentinels in out; checks that nothing past the
 * returned wins was written and that err says success. */
static uint32_t run_ok(const fw_bid *bids, uint32_t n, const double *ctr, uint32_t k,
                       double reserve, fw_pay_rule rule, fw_win *out)
{
    uint32_t scratch[MAX_N];
    memset(scratch, 0x5a, sizeof scratch);
    fill_sentinel(out, MAX_K);
    fw_err err = FW_ERR_INTERNAL;
    uint32_t n_win = fw_auction_run(bids, n, ctr, k, reserve, rule, scratch, out, &err);
    assert_int_equal(err, FW_OK);
    assert_true(n_win <= k && n_win <= n);
    for (uint32_t j = n_win; j < MAX_K; j++)
        assert_true(is_sentinel(&out[j]));
    return n_win;
}

/* ---- the published case ------------------------------------------------------------- */

/* Two slots with expected clicks (200, 100); values and truthful bids (10, 4, 2), quality 1.
 * Ids 1, 2, 3 follow the values; the array is shuffled so indexes and ids differ. */
static const fw_bid vector_bids[] = {
    { .id = 3, .bid = 2.0, .quality = 1.0 },
    { .id = 1, .bid = 10.0, .quality = 1.0 },
    { .id = 2, .bid = 4.0, .quality = 1.0 },
};
static const double vector_ctr[] = { 200.0, 100.0 };

static void check_vector(fw_pay_rule rule, double price0, double price1, double pay0,
                         double pay1, double revenue)
{
    fw_win out[MAX_K];
    uint32_t n_win = run_ok(vector_bids, 3, vector_ctr, 2, 0.0, rule, out);
    assert_int_equal(n_win, 2);
    assert_int_equal(out[0].bidder, 1); /* id 1, bid 10 */
    assert_int_equal(out[1].bidder, 2); /* id 2, bid 4 */
    assert_int_equal(out[0].slot, 0);
    assert_int_equal(out[1].slot, 1);
    assert_exact(out[0].score, 10.0);
    assert_exact(out[1].score, 4.0);
    assert_exact(out[0].units, 200.0);
    assert_exact(out[1].units, 100.0);
    assert_exact(out[0].price, price0);
    assert_exact(out[1].price, price1);
    assert_exact(out[0].price * out[0].units, pay0);
    assert_exact(out[1].price * out[1].units, pay1);
    assert_exact(fw_auction_revenue(out, n_win), revenue);
}

static void test_vector_gsp(void **state)
{
    (void)state;
    check_vector(FW_PAY_GSP, 4.0, 2.0, 800.0, 200.0, 1000.0);
}

static void test_vector_vcg(void **state)
{
    (void)state;
    check_vector(FW_PAY_VCG, 3.0, 2.0, 600.0, 200.0, 800.0);
}

static void test_vector_first(void **state)
{
    (void)state;
    check_vector(FW_PAY_FIRST, 10.0, 4.0, 2000.0, 400.0, 2400.0);
}

/* ---- quality-weighted GSP ----------------------------------------------------------- */

static void test_gsp_quality_weighted(void **state)
{
    (void)state;
    /* A bids most but has low quality: B (score 2) outranks A (1), which outranks C (0.6). */
    const fw_bid bids[] = {
        { .id = 1, .bid = 10.0, .quality = 0.1 }, /* A */
        { .id = 2, .bid = 4.0, .quality = 0.5 },  /* B */
        { .id = 3, .bid = 3.0, .quality = 0.2 },  /* C */
    };
    const double ctr[] = { 100.0, 50.0 };
    fw_win out[MAX_K];
    uint32_t n_win = run_ok(bids, 3, ctr, 2, 0.0, FW_PAY_GSP, out);
    assert_int_equal(n_win, 2);
    assert_int_equal(out[0].bidder, 1); /* B takes the top slot with the lower bid */
    assert_int_equal(out[1].bidder, 0);
    /* Price per click of slot j: b(j+1) * q(j+1) / q(j), never above b(j). */
    assert_near(out[0].price, 10.0 * 0.1 / 0.5, 1e-12);
    assert_near(out[1].price, 3.0 * 0.2 / 0.1, 1e-12);
    assert_true(out[0].price <= 4.0);
    assert_true(out[1].price <= 10.0);
    assert_exact(out[0].units, 100.0 * 0.5);
    assert_exact(out[1].units, 50.0 * 0.1);
    /* Each pays per impression the score of the one below: price * q(j) = s(j+1). */
    assert_near(out[0].price * 0.5, 10.0 * 0.1, 1e-12);
    assert_near(out[1].price * 0.1, 3.0 * 0.2, 1e-12);

    /* A tie in score where s / q rounds one ulp above the bid: the price is clamped. */
    volatile double b = 0.7, q = 0.37;
    assert_true((b * q) / q > b); /* the case is the one meant */
    const fw_bid tie[] = {
        { .id = 1, .bid = 0.7, .quality = 0.37 },
        { .id = 2, .bid = 0.7, .quality = 0.37 },
    };
    const double one[] = { 1.0 };
    n_win = run_ok(tie, 2, one, 1, 0.0, FW_PAY_GSP, out);
    assert_int_equal(n_win, 1);
    assert_int_equal(out[0].bidder, 0);
    assert_exact(out[0].price, 0.7);
    n_win = run_ok(tie, 2, one, 1, 0.0, FW_PAY_VCG, out);
    assert_int_equal(n_win, 1);
    assert_true(out[0].price <= 0.7);
    assert_near(out[0].price, 0.7, 1e-15);
}

/* ---- reserve ------------------------------------------------------------------------ */

static const fw_bid reserve_bids[] = {
    { .id = 5, .bid = 10.0, .quality = 0.1 }, /* score 1.0: high bid, out at reserve 1.5 */
    { .id = 1, .bid = 6.0, .quality = 0.5 },  /* 3.0 */
    { .id = 4, .bid = 2.8, .quality = 0.5 },  /* 1.4: out */
    { .id = 2, .bid = 4.0, .quality = 0.5 },  /* 2.0 */
    { .id = 3, .bid = 3.0, .quality = 0.5 },  /* 1.5: exactly at the reserve, in */
};
static const double reserve_ctr[] = { 100.0, 80.0, 60.0, 40.0, 20.0 };

static void test_reserve(void **state)
{
    (void)state;
    fw_win out[MAX_K];
    const double reserve = 1.5;
    const double gsp[] = { 4.0, 3.0, 3.0 };
    /* VCG: P2 = 60 * 1.5 = 90; P1 = 20 * 1.5 + 90 = 120; P0 = 20 * 2 + 120 = 160. */
    const double vcg[] = { 160.0 / 50.0, 120.0 / 40.0, 90.0 / 30.0 };
    for (int r = 0; r < FW_PAY__COUNT; r++) {
        uint32_t n_win = run_ok(reserve_bids, 5, reserve_ctr, 5, reserve, (fw_pay_rule)r, out);
        assert_int_equal(n_win, 3); /* fewer eligible bidders than slots */
        assert_int_equal(out[0].bidder, 1);
        assert_int_equal(out[1].bidder, 3);
        assert_int_equal(out[2].bidder, 4);
        for (uint32_t j = 0; j < n_win; j++) {
            const fw_bid *b = &reserve_bids[out[j].bidder];
            assert_true(out[j].score >= reserve);
            assert_true(out[j].price <= b->bid);
            if (r != FW_PAY_FIRST)
                assert_true(out[j].price >= reserve / b->quality);
            if (r == FW_PAY_GSP)
                assert_near(out[j].price, gsp[j], 1e-12);
            if (r == FW_PAY_VCG)
                assert_near(out[j].price, vcg[j], 1e-12);
            if (r == FW_PAY_FIRST)
                assert_exact(out[j].price, b->bid);
        }
        /* The last winner sits exactly at the reserve: it pays its bid. */
        if (r != FW_PAY_FIRST)
            assert_exact(out[2].price, 3.0);
    }

    /* Reserve 2.5: one winner, priced at the reserve per quality under GSP and VCG. */
    for (int r = 0; r < FW_PAY__COUNT; r++) {
        uint32_t n_win = run_ok(reserve_bids, 5, reserve_ctr, 3, 2.5, (fw_pay_rule)r, out);
        assert_int_equal(n_win, 1);
        assert_int_equal(out[0].bidder, 1);
        assert_near(out[0].price, r == FW_PAY_FIRST ? 6.0 : 5.0, 1e-12);
    }

    /* Everybody below the reserve: no wins, and no error. */
    for (int r = 0; r < FW_PAY__COUNT; r++)
        assert_int_equal(run_ok(reserve_bids, 5, reserve_ctr, 5, 3.5, (fw_pay_rule)r, out), 0);
}

/* ---- single slot -------------------------------------------------------------------- */

static void test_single_slot(void **state)
{
    (void)state;
    fw_win gsp[MAX_K], vcg[MAX_K];
    const double ctr[] = { 50.0 };
    const fw_bid bids[] = {
        { .id = 1, .bid = 2.0, .quality = 0.3 },  /* 0.6 */
        { .id = 2, .bid = 5.0, .quality = 0.2 },  /* 1.0 */
        { .id = 3, .bid = 1.0, .quality = 0.9 },  /* 0.9 */
    };
    assert_int_equal(run_ok(bids, 3, ctr, 1, 0.0, FW_PAY_GSP, gsp), 1);
    assert_int_equal(run_ok(bids, 3, ctr, 1, 0.0, FW_PAY_VCG, vcg), 1);
    assert_int_equal(gsp[0].bidder, 1);
    assert_int_equal(vcg[0].bidder, 1);
    assert_near(gsp[0].price, 0.9 / 0.2, 1e-12); /* the second score per own quality */
    assert_near(vcg[0].price, gsp[0].price, 1e-12);

    /* One bidder: the reserve per quality, 0 without a reserve. */
    assert_int_equal(run_ok(bids, 1, ctr, 1, 0.45, FW_PAY_GSP, gsp), 1);
    assert_int_equal(run_ok(bids, 1, ctr, 1, 0.45, FW_PAY_VCG, vcg), 1);
    assert_near(gsp[0].price, 0.45 / 0.3, 1e-12);
    assert_near(vcg[0].price, 0.45 / 0.3, 1e-12);
    assert_int_equal(run_ok(bids, 1, ctr, 1, 0.0, FW_PAY_GSP, gsp), 1);
    assert_int_equal(run_ok(bids, 1, ctr, 1, 0.0, FW_PAY_VCG, vcg), 1);
    assert_exact(gsp[0].price, 0.0);
    assert_exact(vcg[0].price, 0.0);

    /* Random single-slot auctions: GSP and VCG agree. */
    uint64_t s = 7;
    fw_bid rb[16];
    for (int t = 0; t < 500; t++) {
        uint32_t n = 1 + (uint32_t)(next_value(&s) % 16);
        for (uint32_t i = 0; i < n; i++) {
            rb[i].id = (uint32_t)(next_value(&s) % 8);
            rb[i].bid = 0.01 + 10.0 * next_unit(&s);
            rb[i].quality = 0.001 + 0.999 * next_unit(&s);
        }
        double reserve = (t % 2) ? next_unit(&s) : 0.0;
        uint32_t ng = run_ok(rb, n, ctr, 1, reserve, FW_PAY_GSP, gsp);
        uint32_t nv = run_ok(rb, n, ctr, 1, reserve, FW_PAY_VCG, vcg);
        assert_int_equal(ng, nv);
        if (ng == 1) {
            assert_int_equal(gsp[0].bidder, vcg[0].bidder);
            assert_near(vcg[0].price, gsp[0].price, 1e-12 * gsp[0].price);
        }
    }
}

/* ---- degenerate inputs and ties ----------------------------------------------------- */

static void test_degenerate(void **state)
{
    (void)state;
    fw_win out[MAX_K];
    const double ctr[] = { 10.0, 0.0, 0.0 };
    fw_err err = FW_ERR_INTERNAL;

    /* n = 0 and k = 0 need no arrays at all. */
    assert_int_equal(fw_auction_run(NULL, 0, ctr, 3, 0.0, FW_PAY_GSP, NULL, out, &err), 0);
    assert_int_equal(err, FW_OK);
    err = FW_ERR_INTERNAL;
    uint32_t scratch[4];
    assert_int_equal(
        fw_auction_run(vector_bids, 3, NULL, 0, 0.0, FW_PAY_VCG, scratch, NULL, &err), 0);
    assert_int_equal(err, FW_OK);
    assert_int_equal(fw_auction_run(NULL, 0, NULL, 0, 0.0, FW_PAY_FIRST, NULL, NULL, NULL), 0);
    assert_exact(fw_auction_revenue(NULL, 0), 0.0);

    /* Slots with zero expected clicks: still won, VCG prices them 0, no revenue either way. */
    const fw_bid bids[] = {
        { .id = 1, .bid = 4.0, .quality = 0.5 }, /* 2.0 */
        { .id = 2, .bid = 3.0, .quality = 0.5 }, /* 1.5 */
        { .id = 3, .bid = 2.0, .quality = 0.5 }, /* 1.0 */
        { .id = 4, .bid = 1.0, .quality = 0.5 }, /* 0.5 */
    };
    fw_win gsp[MAX_K], vcg[MAX_K];
    assert_int_equal(run_ok(bids, 4, ctr, 3, 0.0, FW_PAY_GSP, gsp), 3);
    assert_int_equal(run_ok(bids, 4, ctr, 3, 0.0, FW_PAY_VCG, vcg), 3);
    for (uint32_t j = 0; j < 3; j++) {
        assert_int_equal(gsp[j].bidder, j);
        assert_int_equal(vcg[j].bidder, j);
    }
    assert_exact(gsp[0].price, 3.0);
    assert_exact(gsp[1].price, 2.0); /* per click, but no clicks expected */
    assert_exact(gsp[1].units, 0.0);
    assert_exact(vcg[0].price, 3.0); /* (10 - 0) * 1.5 / (10 * 0.5) */
    assert_exact(vcg[1].price, 0.0);
    assert_exact(vcg[2].price, 0.0);
    assert_exact(fw_auction_revenue(gsp, 3), 15.0);
    assert_exact(fw_auction_revenue(vcg, 3), 15.0);

    /* All slots zero: every VCG price 0, no NaN from 0 / 0. */
    const double zeros[] = { 0.0, 0.0 };
    assert_int_equal(run_ok(bids, 4, zeros, 2, 0.7, FW_PAY_VCG, vcg), 2);
    assert_exact(vcg[0].price, 0.0);
    assert_exact(vcg[1].price, 0.0);
}

static void test_ties(void **state)
{
    (void)state;
    fw_win out[MAX_K];
    const double ctr[] = { 30.0, 20.0, 10.0, 5.0 };
    /* Four equal scores of exactly 1.0, and one lower. */
    const fw_bid bids[] = {
        { .id = 7, .bid = 2.0, .quality = 0.5 },
        { .id = 3, .bid = 1.0, .quality = 1.0 },
        { .id = 9, .bid = 0.5, .quality = 0.5 },  /* 0.25 */
        { .id = 3, .bid = 4.0, .quality = 0.25 }, /* same id as index 1: lower index first */
        { .id = 5, .bid = 8.0, .quality = 0.125 },
    };
    const uint32_t order[] = { 1, 3, 4, 0 };
    for (int r = 0; r < FW_PAY__COUNT; r++) {
        assert_int_equal(run_ok(bids, 5, ctr, 4, 0.0, (fw_pay_rule)r, out), 4);
        for (uint32_t j = 0; j < 4; j++) {
            assert_int_equal(out[j].bidder, order[j]);
            assert_exact(out[j].score, 1.0);
        }
        /* Tied with the next one, GSP charges the bid in full. */
        if (r == FW_PAY_GSP) {
            for (uint32_t j = 0; j < 3; j++)
                assert_exact(out[j].price, bids[order[j]].bid);
            assert_exact(out[3].price, 0.25 / 0.5);
        }
    }

    /* With distinct ids, the order of the input array does not matter. */
    const fw_bid fwd[] = {
        { .id = 10, .bid = 2.0, .quality = 0.5 }, { .id = 11, .bid = 1.0, .quality = 1.0 },
        { .id = 12, .bid = 4.0, .quality = 0.25 }, { .id = 13, .bid = 3.0, .quality = 0.2 },
    };
    fw_bid rev[4];
    for (uint32_t i = 0; i < 4; i++)
        rev[i] = fwd[3 - i];
    fw_win a[MAX_K], b[MAX_K];
    for (int r = 0; r < FW_PAY__COUNT; r++) {
        assert_int_equal(run_ok(fwd, 4, ctr, 3, 0.0, (fw_pay_rule)r, a), 3);
        assert_int_equal(run_ok(rev, 4, ctr, 3, 0.0, (fw_pay_rule)r, b), 3);
        for (uint32_t j = 0; j < 3; j++) {
            assert_int_equal(fwd[a[j].bidder].id, 10 + j);
            assert_int_equal(rev[b[j].bidder].id, 10 + j);
            assert_exact(a[j].price, b[j].price);
        }
    }
}

/* ---- property test ------------------------------------------------------------------ */

static int ref_before(const fw_bid *bids, uint32_t a, uint32_t b)
{
    double sa = bids[a].bid * bids[a].quality, sb = bids[b].bid * bids[b].quality;
    if (sa != sb)
        return sa > sb;
    if (bids[a].id != bids[b].id)
        return bids[a].id < bids[b].id;
    return a < b;
}

/* Eligible bidders in rank order, by insertion sort. */
static uint32_t ref_rank(const fw_bid *bids, uint32_t n, double reserve, uint32_t *rank)
{
    uint32_t m = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (bids[i].bid * bids[i].quality < reserve)
            continue;
        uint32_t p = m++;
        while (p > 0 && ref_before(bids, i, rank[p - 1])) {
            rank[p] = rank[p - 1];
            p--;
        }
        rank[p] = i;
    }
    return m;
}

/* Welfare of filling k slots with the ranked bidders (skipping rank skip; UINT32_MAX for
 * none), the seller holding every slot left over at the reserve. */
static double ref_welfare(const fw_bid *bids, const uint32_t *rank, uint32_t m, uint32_t skip,
                          const double *ctr, uint32_t k, double reserve)
{
    double w = 0.0;
    uint32_t slot = 0;
    for (uint32_t i = 0; i < m && slot < k; i++) {
        if (i == skip)
            continue;
        w += ctr[slot++] * bids[rank[i]].bid * bids[rank[i]].quality;
    }
    for (; slot < k; slot++)
        w += ctr[slot] * reserve;
    return w;
}

typedef struct coverage {
    int ties, fewer_than_slots, zero_slots, reserve_bound, all_out, large;
} coverage;

static void check_instance(const fw_bid *bids, uint32_t n, const double *ctr, uint32_t k,
                           double reserve, coverage *cov)
{
    uint32_t rank[MAX_N];
    uint32_t m = ref_rank(bids, n, reserve, rank);
    uint32_t want = m < k ? m : k;
    fw_win out[FW_PAY__COUNT][MAX_K];
    for (int r = 0; r < FW_PAY__COUNT; r++) {
        uint32_t n_win = run_ok(bids, n, ctr, k, reserve, (fw_pay_rule)r, out[r]);
        assert_int_equal(n_win, want);

        /* Same inputs, different scratch garbage: bit-identical wins. */
        fw_win again[MAX_K];
        uint32_t scratch[MAX_N];
        memset(scratch, 0x00, sizeof scratch);
        fw_err err = FW_ERR_INTERNAL;
        assert_int_equal(
            fw_auction_run(bids, n, ctr, k, reserve, (fw_pay_rule)r, scratch, again, &err),
            n_win);
        assert_int_equal(err, FW_OK);
        assert_memory_equal(again, out[r], n_win * sizeof *again);

        double revenue = 0.0;
        for (uint32_t j = 0; j < n_win; j++) {
            const fw_win *w = &out[r][j];
            const fw_bid *b = &bids[w->bidder];
            assert_int_equal(w->bidder, rank[j]); /* the top k by score, in order */
            assert_int_equal(w->slot, j);
            assert_exact(w->score, b->bid * b->quality);
            assert_exact(w->units, ctr[j] * b->quality);
            assert_true(w->score >= reserve);
            assert_true(isfinite(w->price));
            assert_true(w->price >= 0.0);
            assert_true(w->price <= b->bid);
            double s_next = j + 1 < m ? bids[rank[j + 1]].bid * bids[rank[j + 1]].quality
                                      : reserve;
            if (r == FW_PAY_GSP)
                assert_exact(w->price, fmin(s_next / b->quality, b->bid));
            if (r != FW_PAY_FIRST && w->units > 0.0)
                assert_true(w->price >= reserve / b->quality * (1.0 - 1e-12));
            if (r == FW_PAY_VCG) {
                double others_with = ref_welfare(bids, rank, m, UINT32_MAX, ctr, k, reserve)
                                     - ctr[j] * w->score;
                double others_without = ref_welfare(bids, rank, m, j, ctr, k, reserve);
                double payment = others_without - others_with;
                double scale = ref_welfare(bids, rank, m, UINT32_MAX, ctr, k, reserve);
                assert_near(w->price * w->units, payment, 1e-10 * scale + 1e-300);
                if (ctr[j] == 0.0)
                    assert_exact(w->price, 0.0);
            }
            if (r == FW_PAY_FIRST)
                assert_exact(w->price, b->bid);
            revenue += w->price * w->units;
        }
        assert_near(fw_auction_revenue(out[r], n_win), revenue, 1e-12 * revenue);

        /* Every eligible loser ranks below the last winner. */
        if (n_win > 0)
            for (uint32_t i = 0; i < n; i++) {
                int won = 0;
                for (uint32_t j = 0; j < n_win; j++)
                    won |= out[r][j].bidder == i;
                if (!won && bids[i].bid * bids[i].quality >= reserve)
                    assert_true(ref_before(bids, out[r][n_win - 1].bidder, i));
            }
    }

    /* Same bids: VCG charges no more than GSP, slot by slot and in total. */
    double rev_gsp = fw_auction_revenue(out[FW_PAY_GSP], want);
    double rev_vcg = fw_auction_revenue(out[FW_PAY_VCG], want);
    assert_true(rev_vcg <= rev_gsp * (1.0 + 1e-12));
    for (uint32_t j = 0; j < want; j++) {
        double pg = out[FW_PAY_GSP][j].price * out[FW_PAY_GSP][j].units;
        double pv = out[FW_PAY_VCG][j].price * out[FW_PAY_VCG][j].units;
        assert_true(pv <= pg * (1.0 + 1e-12));
    }

    for (uint32_t j = 0; j + 1 < want; j++)
        cov->ties += out[FW_PAY_GSP][j].score == out[FW_PAY_GSP][j + 1].score;
    cov->fewer_than_slots += m > 0 && m < k;
    cov->all_out += n > 0 && k > 0 && m == 0;
    cov->large += n > 100;
    for (uint32_t j = 0; j < want; j++) {
        cov->zero_slots += ctr[j] == 0.0;
        cov->reserve_bound += j + 1 >= m && reserve > 0.0;
    }
}

static void test_property_random(void **state)
{
    (void)state;
    static const double qualities[] = { 0.1, 0.2, 0.25, 0.5, 1.0 };
    uint64_t s = 20240611;
    coverage cov = { 0 };
    fw_bid bids[MAX_N];
    double ctr[MAX_K];
    for (int t = 0; t < 3000; t++) {
        int large = t % 10 == 0;
        uint32_t n = (uint32_t)(next_value(&s) % (large ? MAX_N + 1 : 13));
        uint32_t k = (uint32_t)(next_value(&s) % (large ? MAX_K + 1 : 7));
        int coarse = next_value(&s) % 2; /* coarse values make equal scores common */
        for (uint32_t i = 0; i < n; i++) {
            bids[i].id = (uint32_t)(next_value(&s) % (n / 2 + 1));
            if (coarse) {
                bids[i].bid = 0.5 * (double)(1 + next_value(&s) % 8);
                bids[i].quality = qualities[next_value(&s) % 5];
            } else {
                bids[i].bid = 0.01 + 10.0 * next_unit(&s);
                bids[i].quality = 0.001 + 0.999 * next_unit(&s);
            }
        }
        /* Non-increasing slot factors, sometimes with repeats and a tail of zeros. */
        double c = 100.0 * (0.5 + next_unit(&s));
        uint32_t zero_from = next_value(&s) % 4 == 0 ? (uint32_t)(next_value(&s) % (k + 1)) : k;
        for (uint32_t j = 0; j < k; j++) {
            ctr[j] = j < zero_from ? c : 0.0;
            if (next_value(&s) % 4 != 0)
                c *= next_unit(&s);
        }
        double reserve = 0.0;
        switch (next_value(&s) % 3) {
        case 1: reserve = 3.0 * next_unit(&s); break;
        case 2: /* exactly some bidder's score, to hit the boundary */
            if (n > 0) {
                const fw_bid *b = &bids[next_value(&s) % n];
                reserve = b->bid * b->quality;
            }
            break;
        default: break;
        }
        check_instance(bids, n, ctr, k, reserve, &cov);
    }
    /* The generator reached every case it is meant to. */
    assert_true(cov.ties > 0);
    assert_true(cov.fewer_than_slots > 0);
    assert_true(cov.zero_slots > 0);
    assert_true(cov.reserve_bound > 0);
    assert_true(cov.all_out > 0);
    assert_true(cov.large > 0);
}

/* ---- bad input ---------------------------------------------------------------------- */

typedef struct bad_case {
    const char *what;
    uint32_t bidder;   /* which bid to break (UINT32_MAX: none) */
    double bid, quality;
    uint32_t slot;     /* which slot factor to break (UINT32_MAX: none) */
    double ctr;
    double reserve;
    int rule;
} bad_case;

static void test_bad_input(void **state)
{
    (void)state;
    const fw_bid good[] = {
        { .id = 1, .bid = 3.0, .quality = 0.5 },
        { .id = 2, .bid = 2.0, .quality = 0.5 },
        { .id = 3, .bid = 1.0, .quality = 0.5 },
    };
    const double good_ctr[] = { 10.0, 5.0, 1.0 };
    const uint32_t X = UINT32_MAX;
    const bad_case cases[] = {
        { "NaN bid", 1, NAN, 0.5, X, 0, 0, FW_PAY_GSP },
        { "negative bid", 0, -1.0, 0.5, X, 0, 0, FW_PAY_VCG },
        { "zero bid", 2, 0.0, 0.5, X, 0, 0, FW_PAY_FIRST },
        { "infinite bid", 2, INFINITY, 0.5, X, 0, 0, FW_PAY_GSP },
        { "NaN quality", 1, 2.0, NAN, X, 0, 0, FW_PAY_GSP },
        { "negative quality", 0, 3.0, -0.5, X, 0, 0, FW_PAY_VCG },
        { "zero quality", 0, 3.0, 0.0, X, 0, 0, FW_PAY_GSP },
        { "quality above 1", 2, 1.0, 1.5, X, 0, 0, FW_PAY_FIRST },
        { "increasing slot_ctr", X, 0, 0, 2, 6.0, 0, FW_PAY_GSP },
        { "increasing slot_ctr at the top", X, 0, 0, 1, 11.0, 0, FW_PAY_VCG },
        { "negative slot_ctr", X, 0, 0, 2, -1.0, 0, FW_PAY_GSP },
        { "NaN slot_ctr", X, 0, 0, 0, NAN, 0, FW_PAY_VCG },
        { "infinite slot_ctr", X, 0, 0, 0, INFINITY, 0, FW_PAY_GSP },
        { "NaN reserve", X, 0, 0, X, 0, NAN, FW_PAY_GSP },
        { "negative reserve", X, 0, 0, X, 0, -0.1, FW_PAY_VCG },
        { "infinite reserve", X, 0, 0, X, 0, INFINITY, FW_PAY_FIRST },
        { "unknown rule", X, 0, 0, X, 0, 0, FW_PAY__COUNT },
        { "negative rule", X, 0, 0, X, 0, 0, -1 },
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const bad_case *bc = &cases[c];
        fw_bid bids[3];
        double ctr[3];
        memcpy(bids, good, sizeof bids);
        memcpy(ctr, good_ctr, sizeof ctr);
        if (bc->bidder != X) {
            bids[bc->bidder].bid = bc->bid;
            bids[bc->bidder].quality = bc->quality;
        }
        if (bc->slot != X)
            ctr[bc->slot] = bc->ctr;
        fw_win out[MAX_K];
        uint32_t scratch[3] = { 77, 77, 77 };
        fill_sentinel(out, MAX_K);
        fw_err err = FW_OK;
        uint32_t n_win = fw_auction_run(bids, 3, ctr, 3, bc->reserve, (fw_pay_rule)bc->rule,
                                        scratch, out, &err);
        if (n_win != 0 || err != FW_ERR_INVAL)
            fail_msg("%s: %u wins, err %s", bc->what, (unsigned)n_win, fw_err_name(err));
        for (uint32_t j = 0; j < MAX_K; j++)
            assert_true(is_sentinel(&out[j])); /* nothing written on failure */
        for (uint32_t i = 0; i < 3; i++)
            assert_int_equal(scratch[i], 77);
        /* Bad input with k = 0 is still bad input; a NULL err is allowed. */
        err = FW_OK;
        assert_int_equal(fw_auction_run(bids, 3, ctr, bc->slot == X ? 0 : 3, bc->reserve,
                                        (fw_pay_rule)bc->rule, scratch, out, &err), 0);
        if (bc->slot == X)
            assert_int_equal(err, FW_ERR_INVAL);
        assert_int_equal(fw_auction_run(bids, 3, ctr, 3, bc->reserve, (fw_pay_rule)bc->rule,
                                        scratch, out, NULL), 0);
    }

    /* Missing arrays where they are needed. */
    fw_win out[MAX_K];
    uint32_t scratch[3];
    fw_err err = FW_OK;
    assert_int_equal(fw_auction_run(NULL, 3, good_ctr, 3, 0, FW_PAY_GSP, scratch, out, &err), 0);
    assert_int_equal(err, FW_ERR_INVAL);
    err = FW_OK;
    assert_int_equal(fw_auction_run(good, 3, good_ctr, 3, 0, FW_PAY_GSP, NULL, out, &err), 0);
    assert_int_equal(err, FW_ERR_INVAL);
    err = FW_OK;
    assert_int_equal(fw_auction_run(good, 3, NULL, 3, 0, FW_PAY_GSP, scratch, out, &err), 0);
    assert_int_equal(err, FW_ERR_INVAL);
    err = FW_OK;
    assert_int_equal(fw_auction_run(good, 3, good_ctr, 3, 0, FW_PAY_GSP, scratch, NULL, &err),
                     0);
    assert_int_equal(err, FW_ERR_INVAL);

    /* A good call after a bad one reports success again. */
    err = FW_ERR_INVAL;
    assert_int_equal(fw_auction_run(good, 3, good_ctr, 3, 0, FW_PAY_GSP, scratch, out, &err), 3);
    assert_int_equal(err, FW_OK);
}

/* ---- names -------------------------------------------------------------------------- */

static void test_rule_names(void **state)
{
    (void)state;
    assert_string_equal(fw_pay_rule_name(FW_PAY_GSP), "gsp");
    assert_string_equal(fw_pay_rule_name(FW_PAY_VCG), "vcg");
    assert_string_equal(fw_pay_rule_name(FW_PAY_FIRST), "first");
    assert_string_equal(fw_pay_rule_name(FW_PAY__COUNT), "unknown");
    assert_string_equal(fw_pay_rule_name((fw_pay_rule)-1), "unknown");
    assert_string_equal(fw_pay_rule_name((fw_pay_rule)1000), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vector_gsp),
        cmocka_unit_test(test_vector_vcg),
        cmocka_unit_test(test_vector_first),
        cmocka_unit_test(test_gsp_quality_weighted),
        cmocka_unit_test(test_reserve),
        cmocka_unit_test(test_single_slot),
        cmocka_unit_test(test_degenerate),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_property_random),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_rule_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

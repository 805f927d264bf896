/* Position auctions (see flywheel/auction.h for the contract).
 *
 * Invariants:
 * - Inputs are validated in full before anything is written, so a failed call leaves out and
 *   scratch untouched and a successful one depends on nothing but its arguments.
 * - Ranking is a strict total order (score desc, id asc, index asc): any correct selection
 *   gives the same winners, so the heap below is as deterministic as a stable sort.
 * - Only the top min(k + 1, eligible) are ever ordered: k winners plus the bidder whose score
 *   prices the last of them. After the partial heap sort, the i-th ranked bidder sits at
 *   scratch[n_elig - 1 - i].
 * - Every eligible score is >= reserve >= 0, so s(i) is non-increasing in i including the
 *   reserve tail; this is what makes GSP and VCG prices lie in [reserve / q, bid]. */
#include <math.h>

#include "flywheel/auction.h"

static const char *const rule_names[FW_PAY__COUNT] = {
    [FW_PAY_GSP] = "gsp",
    [FW_PAY_VCG] = "vcg",
    [FW_PAY_FIRST] = "first",
};

const char *fw_pay_rule_name(fw_pay_rule r)
{
    if ((unsigned)r >= FW_PAY__COUNT)
        return "unknown";
    return rule_names[r];
}

/* The one place this module reports a failure: a breakpoint here catches them all. */
static uint32_t fail(fw_err *err, fw_err code)
{
    if (err)
        *err = code;
    return 0;
}

static double score_of(const fw_bid *b)
{
    return b->bid * b->quality;
}

/* True when bidder a ranks strictly before bidder b. */
static int ranks_before(const fw_bid *bids, uint32_t a, uint32_t b)
{
    double sa = score_of(&bids[a]), sb = score_of(&bids[b]);
    if (sa != sb)
        return sa > sb;
    if (bids[a].id != bids[b].id)
        return bids[a].id < bids[b].id;
    return a < b;
}

/* Restores the heap property (best at the root) below node i of heap[0..len). */
static void sift_down(const fw_bid *bids, uint32_t *heap, uint32_t len, uint32_t i)
{
    for (;;) {
        uint32_t best = i;
        uint64_t l = 2 * (uint64_t)i + 1, r = l + 1;
        if (l < len && ranks_before(bids, heap[l], heap[best]))
            best = (uint32_t)l;
        if (r < len && ranks_before(bids, heap[r], heap[best]))
            best = (uint32_t)r;
        if (best == i)
            return;
        uint32_t t = heap[i];
        heap[i] = heap[best];
        heap[best] = t;
        i = best;
    }
}

/* The i-th ranked bidder, once the partial heap sort has put the best at the end. */
static uint32_t ranked(const uint32_t *scratch, uint32_t n_elig, uint32_t i)
{
    return scratch[n_elig - 1 - i];
}

/* s(i): the i-th ranked score, or the reserve past the last eligible bidder. */
static double ranked_score(const fw_bid *bids, const uint32_t *scratch, uint32_t n_elig,
                           uint32_t i, double reserve)
{
    return i < n_elig ? score_of(&bids[ranked(scratch, n_elig, i)]) : reserve;
}

static int valid_input(const fw_bid *bids, uint32_t n, const double *slot_ctr, uint32_t k,
                       double reserve, fw_pay_rule rule, const uint32_t *scratch,
                       const fw_win *out)
{
    if ((unsigned)rule >= FW_PAY__COUNT || !isfinite(reserve) || reserve < 0)
        return 0;
    if (n > 0 && (!bids || !scratch))
        return 0;
    if (k > 0 && (!slot_ctr || !out))
        return 0;
    for (uint32_t i = 0; i < n; i++) {
        double b = bids[i].bid, q = bids[i].quality;
        /* Written so that NaN fails every test. */
        if (!(isfinite(b) && b > 0 && q > 0 && q <= 1))
            return 0;
    }
    for (uint32_t j = 0; j < k; j++) {
        double c = slot_ctr[j];
        if (!(isfinite(c) && c >= 0))
            return 0;
        if (j > 0 && c > slot_ctr[j - 1])
            return 0;
    }
    return 1;
}

uint32_t fw_auction_run(const fw_bid *bids, uint32_t n, const double *slot_ctr, uint32_t k,
                        double reserve, fw_pay_rule rule, uint32_t *scratch, fw_win *out,
                        fw_err *err)
{
    if (!valid_input(bids, n, slot_ctr, k, reserve, rule, scratch, out))
        return fail(err, FW_ERR_INVAL);
    if (err)
        *err = FW_OK;
    if (n == 0 || k == 0)
        return 0;

    uint32_t n_elig = 0;
    for (uint32_t i = 0; i < n; i++)
        if (score_of(&bids[i]) >= reserve)
            scratch[n_elig++] = i;
    if (n_elig == 0)
        return 0;

    /* Partial heap sort: pop the best n_sorted to the end of scratch. */
    uint32_t n_win = k < n_elig ? k : n_elig;
    uint32_t n_sorted = n_win < n_elig ? n_win + 1 : n_win;
    for (uint32_t i = n_elig / 2; i-- > 0;)
        sift_down(bids, scratch, n_elig, i);
    for (uint32_t p = 0; p < n_sorted; p++) {
        uint32_t last = n_elig - 1 - p;
        uint32_t t = scratch[0];
        scratch[0] = scratch[last];
        scratch[last] = t;
        sift_down(bids, scratch, last, 0);
    }

    for (uint32_t j = 0; j < n_win; j++) {
        uint32_t i = ranked(scratch, n_elig, j);
        const fw_bid *b = &bids[i];
        out[j].bidder = i;
        out[j].slot = j;
        out[j].score = score_of(b);
        out[j].units = slot_ctr[j] * b->quality;
    }

    switch (rule) {
    case FW_PAY_GSP:
        for (uint32_t j = 0; j < n_win; j++) {
            double s_next = ranked_score(bids, scratch, n_elig, j + 1, reserve);
            out[j].price = s_next / bids[out[j].bidder].quality;
        }
        break;
    case FW_PAY_VCG: {
        /* Backward recursion P_j = (c_j - c_{j+1}) s(j+1) + P_{j+1}. Past the winners every
         * s is the reserve, so the tail telescopes to c_{n_win} * reserve (0 when all k slots
         * are filled, as c_k = 0). */
        double pay = n_win < k ? slot_ctr[n_win] * reserve : 0.0;
        for (uint32_t j = n_win; j-- > 0;) {
            double c_next = j + 1 < k ? slot_ctr[j + 1] : 0.0;
            double s_next = ranked_score(bids, scratch, n_elig, j + 1, reserve);
            pay += (slot_ctr[j] - c_next) * s_next;
            double units = out[j].units;
            /* No expected units, no payment: c_j == 0 forces P_j == 0 (0 / 0 otherwise). */
            out[j].price = units > 0 ? pay / units : 0.0;
        }
        break;
    }
    case FW_PAY_FIRST:
    case FW_PAY__COUNT: /* rejected above */
        for (uint32_t j = 0; j < n_win; j++)
            out[j].price = bids[out[j].bidder].bid;
        break;
    }

    /* s(j+1) <= s(j) = b_j q_j, so price <= b_j up to the rounding of the division. */
    for (uint32_t j = 0; j < n_win; j++) {
        double b = bids[out[j].bidder].bid;
        if (out[j].price > b)
            out[j].price = b;
    }
    return n_win;
}

double fw_auction_revenue(const fw_win *wins, uint32_t n_wins)
{
    double sum = 0.0;
    for (uint32_t j = 0; j < n_wins; j++)
        sum += wins[j].price * wins[j].units;
    return sum;
}

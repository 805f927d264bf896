/* The oracle part: what only a simulator can measure about a feed page -- how good it was
 * against the users' true open probabilities. A sample of served feed pages (one in
 * output.oracle_every, chosen by a hash of the user, tick, page and session, so no stream's
 * draws move) is scored: its NDCG and expected opens against the best slate of the engine's
 * recalled candidates and, for one sampled page in output.oracle_corpus_every, the opens lost
 * against the best slate of every note the user had not been served. Counted as integers
 * (x 1e6), so exact for any thread count. Draws nothing. */
#include <math.h>
#include <stdlib.h>

#include "driver/part.h"

#define ORACLE_COUNTERS(X)                                                                     \
    X(oracle_requests, "requests", "feed requests sampled for the oracle metrics (output.oracle_every)") \
    X(oracle_ndcg_micro, "1e-6", "sum over sampled requests of the slate's NDCG (x 1e6) against the "   \
      "user's true open probabilities, ideal = the best slate of the recalled candidates")     \
    X(oracle_opens_micro, "1e-6 opens", "sum over sampled requests of the page's expected opens (x 1e6) "   \
      "under the users' true open probabilities")                                             \
    X(oracle_regret_recalled_micro, "1e-6 opens", "sum over sampled requests of the expected opens " \
      "(x 1e6) lost against the best slate of the recalled candidates")                        \
    X(oracle_corpus_requests, "requests", "sampled requests also compared with the whole corpus") \
    X(oracle_regret_corpus_micro, "1e-6 opens", "sum of the expected opens (x 1e6) lost against the " \
      "best slate of every note the user had not been served")

FW_DECLARE_COUNTERS(ORACLE_COUNTERS);

static const fw_rate_desc rates[] = {
    {"oracle_ndcg", "oracle_ndcg_micro", "oracle_requests", 1e-6, "1",
     "mean NDCG of sampled slates against true utility (ideal: best of the recalled candidates)"},
    {"oracle_expected_opens", "oracle_opens_micro", "oracle_requests", 1e-6, "opens",
     "expected opens per sampled page under the true open probabilities (the page's utility)"},
    {"oracle_regret_recalled", "oracle_regret_recalled_micro", "oracle_requests", 1e-6, "opens",
     "expected opens per page lost against the best slate of the recalled candidates"},
    {"oracle_regret_corpus", "oracle_regret_corpus_micro", "oracle_corpus_requests", 1e-6, "opens",
     "expected opens per page lost against the best slate of the whole unserved corpus"},
};

/* A thread's scratch. */
typedef struct oracle_thread {
    double *util;
    uint32_t *id;
    size_t cap;
} oracle_thread;

#define COUNT(k) (ss->row[p->base + C_##k])

static int ensure_oracle(oracle_thread *t, size_t need)
{
    if (need <= t->cap)
        return 0;
    size_t cap = need < 1024 ? 1024 : 2 * need;
    double *u = realloc(t->util, cap * sizeof *u);
    if (u)
        t->util = u;
    uint32_t *id = realloc(t->id, cap * sizeof *id);
    if (id)
        t->id = id;
    if (!u || !id)
        return -1;
    t->cap = cap;
    return 0;
}

static int dbl_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

/* Min-heap of (util, id) keeping the k largest; ties keep the lower id. */
static void heap_offer(double *hu, uint32_t *hi, uint32_t *n, uint32_t k, double util, uint32_t id)
{
#define WORSE(a, b) (hu[a] < hu[b] || (hu[a] == hu[b] && hi[a] > hi[b]))
    if (*n < k) {
        uint32_t i = (*n)++;
        hu[i] = util;
        hi[i] = id;
        while (i > 0) {
            uint32_t q = (i - 1) / 2;
            if (!WORSE(i, q))
                break;
            double tu = hu[i]; hu[i] = hu[q]; hu[q] = tu;
            uint32_t ti = hi[i]; hi[i] = hi[q]; hi[q] = ti;
            i = q;
        }
        return;
    }
    if (util < hu[0] || (util == hu[0] && id > hi[0]))
        return;
    hu[0] = util;
    hi[0] = id;
    for (uint32_t i = 0;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < *n && WORSE(l, w))
            w = l;
        if (r < *n && WORSE(r, w))
            w = r;
        if (w == i)
            break;
        double tu = hu[i]; hu[i] = hu[w]; hu[w] = tu;
        uint32_t ti = hi[i]; hi[i] = hi[w]; hi[w] = ti;
        i = w;
    }
#undef WORSE
}

/* Oracle metrics of one served page: NDCG of page[0..n) (FW_NONE entries skipped) against
 * u's true open probabilities with the best slate of the engine's recalled candidates as the
 * ideal; the expected opens lost against that slate and, when corpus, against the best
 * slate of every note u was not served. Counted as integers (x 1e6), so exact for any
 * thread count. Returns -1 when scratch memory cannot grow (nothing counted). */
static int oracle(fw_session *ss, fw_part_inst *p, oracle_thread *t, const uint32_t *page, uint32_t n, int corpus)
{
    const fw_behaviour_model *m = ss->m;
    const fw_world *w = ss->w;
    uint32_t u = ss->user, n_cand;
    const uint32_t *cand = fw_engine_ctx_candidates(ss->ctx, &n_cand);
    uint32_t k = 0;
    double slate[128], dcg = 0.0, slate_sum = 0.0;
    for (uint32_t i = 0; i < n && k < 128; i++)
        if (page[i] != FW_NONE) {
            slate[k] = fw_behaviour_p_open(m, w, u, page[i]);
            dcg += slate[k] / log2(k + 2.0);
            slate_sum += slate[k++];
        }
    if (k == 0 || ensure_oracle(t, (size_t)n_cand + k + 64))
        return k == 0 ? 0 : -1;
    double *util = t->util;
    for (uint32_t i = 0; i < n_cand; i++)
        util[i] = fw_behaviour_p_open(m, w, u, cand[i]);
    qsort(util, n_cand, sizeof *util, dbl_desc);
    if (ss->ev) {   /* the event log's best alternative at each organic position */
        ss->ev_best_n = n_cand < 128 ? n_cand : 128;
        for (uint32_t i = 0; i < ss->ev_best_n; i++)
            ss->ev_best[i] = (float)util[i];
    }
    double idcg = 0.0, best = 0.0;
    for (uint32_t i = 0; i < k && i < n_cand; i++) {
        idcg += util[i] / log2(i + 2.0);
        best += util[i];
    }
    double ndcg = idcg > 0.0 ? dcg / idcg : 1.0;
    if (ndcg > 1.0)
        ndcg = 1.0;   /* a page can hold a note outside the candidates only by a bug; stay in range */
    double regret = best - slate_sum;
    COUNT(oracle_requests)++;
    COUNT(oracle_ndcg_micro) += (uint64_t)llround(ndcg * 1e6);
    COUNT(oracle_opens_micro) += (uint64_t)llround(slate_sum * 1e6);
    COUNT(oracle_regret_recalled_micro) += (uint64_t)llround((regret > 0.0 ? regret : 0.0) * 1e6);
    if (!corpus)
        return 0;
    /* The best k notes u has not been served (or is being served now): keep the k + 64
     * best by true utility, then drop those already served. */
    uint32_t hk = k + 64, hn = 0;
    double *hu = t->util;
    uint32_t *hid = t->id;
    for (uint32_t note = 0; note < w->n_notes; note++)
        heap_offer(hu, hid, &hn, hk, fw_behaviour_p_open(m, w, u, note), note);
    /* Sort the kept ones best first (small: insertion sort). */
    for (uint32_t i = 1; i < hn; i++)
        for (uint32_t j = i; j > 0 && (hu[j] > hu[j - 1] || (hu[j] == hu[j - 1] && hid[j] < hid[j - 1])); j--) {
            double tu = hu[j]; hu[j] = hu[j - 1]; hu[j - 1] = tu;
            uint32_t ti = hid[j]; hid[j] = hid[j - 1]; hid[j - 1] = ti;
        }
    double cbest = 0.0;
    uint32_t taken = 0;
    for (uint32_t i = 0; i < hn && taken < k; i++) {
        int on_page = 0;
        for (uint32_t j = 0; j < n; j++)
            on_page |= page[j] == hid[i];
        if (on_page || !fw_feed_was_served(ss->engine, u, ss->cell, hid[i])) {
            cbest += hu[i];
            taken++;
        }
    }
    double cregret = cbest - slate_sum;
    COUNT(oracle_corpus_requests)++;
    COUNT(oracle_regret_corpus_micro) += (uint64_t)llround((cregret > 0.0 ? cregret : 0.0) * 1e6);
    return 0;
}

/* A feed page was served: score it when it is sampled. */
static int oracle_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    const fw_output_cfg *out = &ss->S->sc->output;
    if (ev->kind != FW_SE_PAGE || ev->surface != FW_SURFACE_FEED || !out->oracle_every)
        return 0;
    /* A sample keyed by (user, tick, page, session), independent of every rng stream. */
    uint32_t u = ss->user;
    uint64_t h = ((uint64_t)u << 32 | (uint32_t)ss->tick) * UINT64_C(0x9e3779b97f4a7c15) ^
                 ((uint64_t)ev->page_no << 48 | ss->agg[FW_UM_sessions][u]);
    h ^= h >> 31;
    h *= UINT64_C(0xbf58476d1ce4e5b9);
    h ^= h >> 29;
    if (h % out->oracle_every != 0)
        return 0;
    /* The page's organic notes (ad slots FW_NONE). */
    for (uint32_t i = 0; i < ev->n; i++)
        ss->page[i] = ev->page[i].campaign == FW_NONE ? ev->page[i].note : FW_NONE;
    oracle_thread *t = &((oracle_thread *)p->state)[ss->slot];
    return oracle(ss, p, t, ss->page, ev->n, (h / out->oracle_every) % out->oracle_corpus_every == 0);
}

static void oracle_destroy(fw_sim *S, fw_part_inst *p)
{
    oracle_thread *th = p->state;
    for (int k = 0; th && k < S->n_threads; k++) {
        free(th[k].util);
        free(th[k].id);
    }
    free(th);
}

static fw_err oracle_create(fw_sim *S, fw_part_inst *p)
{
    return (p->state = calloc((size_t)S->n_threads, sizeof(oracle_thread))) ? FW_OK : FW_ERR_NOMEM;
}

const fw_part fw_oracle_part = {
    .name = "oracle",
    FW_PART_COUNTERS_AND_RATES,
    .create = oracle_create,
    .destroy = oracle_destroy,
    .on_event = oracle_on_event,
    /* Nothing across days: each thread's scratch, filled before every use. */
    .snap = fw_part_no_state,
};

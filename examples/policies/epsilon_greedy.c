/* An epsilon-greedy ranker plug-in (flywheel/policy.h): each note's click-through rate is
 * estimated from the impressions and opens this instance has observed (its own arm's users
 * only), shrunk towards a prior; a page is filled greedily by that estimate, except that each
 * position, with probability epsilon, goes to a candidate drawn uniformly from those left.
 * It answers with the page itself (FW_RANK_PAGE), and draws only from the request's stream,
 * so its results are the same for any thread count.
 *
 * Arguments (space- or comma-separated key=value): epsilon=0.1 (exploration per position),
 * prior_ctr=0.08 and prior_n=20 (the estimate is (opens + prior_ctr prior_n) / (impressions +
 * prior_n)), recency=1 (1: times the built-in recency decay, so old notes fade; 0: off). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/policy.h"

typedef struct eg {
    fw_policy_env env;
    double epsilon, prior_ctr, prior_n;
    int recency;
    uint32_t *imps, *opens;     /* [n_notes] observed, grown as note ids appear */
    uint32_t n_notes;
} eg;

typedef struct eg_ctx {
    uint32_t *order;            /* [max_candidates] candidate indices */
    double *est;                /* [max_candidates] */
} eg_ctx;

/* Reads "key=value" pairs from args into the known doubles; 0, or -1 with why filled. */
static int parse(const char *args, eg *g, char *why, size_t cap)
{
    char buf[512];
    if (strlen(args) >= sizeof buf) {
        snprintf(why, cap, "arguments longer than %zu bytes", sizeof buf - 1);
        return -1;
    }
    strcpy(buf, args);
    for (char *save = NULL, *tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || end == eq + 1 || *end || !isfinite(v)) {
            snprintf(why, cap, "expected key=number, got '%.60s'", tok);
            return -1;
        }
        *eq = '\0';
        if (!strcmp(tok, "epsilon") && v >= 0.0 && v <= 1.0)
            g->epsilon = v;
        else if (!strcmp(tok, "prior_ctr") && v >= 0.0 && v <= 1.0)
            g->prior_ctr = v;
        else if (!strcmp(tok, "prior_n") && v > 0.0)
            g->prior_n = v;
        else if (!strcmp(tok, "recency") && (v == 0.0 || v == 1.0))
            g->recency = (int)v;
        else {
            snprintf(why, cap,
                     "'%.40s=%g': expected epsilon in [0, 1], prior_ctr in [0, 1], prior_n > 0 or recency 0 or 1",
                     tok, v);
            return -1;
        }
    }
    return 0;
}

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    eg *g = calloc(1, sizeof *g);
    if (!g) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    *g = (eg){.env = *env, .epsilon = 0.1, .prior_ctr = 0.08, .prior_n = 20.0, .recency = 1};
    if (parse(args, g, why, cap)) {
        free(g);
        return NULL;
    }
    return g;
}

static void destroy(void *state)
{
    eg *g = state;
    free(g->imps);
    free(g->opens);
    free(g);
}

static void *ctx_create(void *state)
{
    const eg *g = state;
    eg_ctx *x = calloc(1, sizeof *x);
    size_t n = g->env.max_candidates ? g->env.max_candidates : 1;
    if (x && (x->order = calloc(n, sizeof *x->order)) && (x->est = calloc(n, sizeof *x->est)))
        return x;
    if (x) {
        free(x->order);
        free(x);
    }
    return NULL;
}

static void ctx_destroy(void *ctx)
{
    eg_ctx *x = ctx;
    free(x->order);
    free(x->est);
    free(x);
}

static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    const eg *g = state;
    eg_ctx *x = ctx;
    uint32_t n = req->n_cand, want = req->page_size < n ? req->page_size : n;
    for (uint32_t i = 0; i < n; i++) {
        const fw_policy_cand *c = &req->cand[i];
        double imp = c->note < g->n_notes ? g->imps[c->note] : 0.0;
        double opn = c->note < g->n_notes ? g->opens[c->note] : 0.0;
        double est = (opn + g->prior_ctr * g->prior_n) / (imp + g->prior_n);
        if (g->recency)
            est *= exp2(-(double)c->age_ticks / g->env.recency_half_life_ticks);
        x->est[i] = est;
        x->order[i] = i;
    }
    /* Position by position: explore with probability epsilon, else take the best left
     * (ties: the lower note id). O(page x candidates), a few thousand steps. */
    for (uint32_t p = 0; p < want; p++) {
        uint32_t pick = p;
        if (fw_policy_uniform(&req->rng) < g->epsilon) {
            pick = p + (uint32_t)(fw_policy_uniform(&req->rng) * (n - p));
        } else {
            for (uint32_t j = p + 1; j < n; j++) {
                const fw_policy_cand *a = &req->cand[x->order[j]], *b = &req->cand[x->order[pick]];
                double ea = x->est[x->order[j]], eb = x->est[x->order[pick]];
                if (ea > eb || (ea == eb && a->note < b->note))
                    pick = j;
            }
        }
        uint32_t t = x->order[p];
        x->order[p] = x->order[pick];
        x->order[pick] = t;
        req->page[p] = req->cand[x->order[p]].note;
    }
    req->n_page = want;
    return FW_RANK_PAGE;
}

/* Counts the feed's impressions and opens of the arm's users (not search's: another surface). */
static int observe(void *state, const fw_policy_batch *b)
{
    eg *g = state;
    for (size_t i = 0; i < b->n_events; i++) {
        const fw_event *ev = &b->events[i];
        uint32_t t = FW_EV_TYPE(ev->type);
        if ((t != FW_EV_IMPRESSION && t != FW_EV_OPEN) || (ev->type & FW_EV_SEARCH))
            continue;
        if (ev->note >= g->n_notes) {
            uint32_t n = ev->note + 1 > 2 * g->n_notes ? ev->note + 1 : 2 * g->n_notes;
            uint32_t *im = realloc(g->imps, n * sizeof *im);
            if (!im)
                return -1;
            g->imps = im;
            uint32_t *op = realloc(g->opens, n * sizeof *op);
            if (!op)
                return -1;
            g->opens = op;
            memset(g->imps + g->n_notes, 0, (n - g->n_notes) * sizeof *im);
            memset(g->opens + g->n_notes, 0, (n - g->n_notes) * sizeof *op);
            g->n_notes = n;
        }
        if (t == FW_EV_IMPRESSION)
            g->imps[ev->note]++;
        else
            g->opens[ev->note]++;
    }
    return 0;
}

static const fw_ranker_table table = {
    .abi_version = FW_POLICY_ABI_VERSION,
    .name = "epsilon_greedy",
    .create = create,
    .destroy = destroy,
    .ctx_create = ctx_create,
    .ctx_destroy = ctx_destroy,
    .rank = rank,
    .observe = observe,
};

FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }

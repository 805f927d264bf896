/* A LinUCB ranker plug-in (flywheel/policy.h; Li, Chu, Langford, Schapire 2010, with one
 * linear model shared by every note): the probability that a shown note is opened is
 * modelled as theta . x over six features of the note for the user -- a bias, followed,
 * log(1 + decayed engagement), fresh, the built-in recency decay, and the note's smoothed
 * logged click-through rate -- and each candidate is scored by its estimate plus alpha times
 * its uncertainty, sqrt(x' A^-1 x). It answers with scores (FW_RANK_SCORES; the engine takes
 * the page's best). Learning happens at barriers only: every feed impression adds x x' to A,
 * every feed open adds x to b, with x as the batch describes the note; A^-1 and theta are
 * recomputed once per tick. It draws no random numbers: exploration is the uncertainty bonus.
 *
 * Arguments (space- or comma-separated key=value): alpha=0.3 (the exploration weight),
 * lambda=1 (the ridge: A starts as lambda I). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flywheel/policy.h"

enum { D = 6 };

typedef struct lin {
    fw_policy_env env;
    double alpha;
    double a[D][D];      /* lambda I + sum of x x' */
    double b[D];         /* sum of x over opens */
    double ainv[D][D];   /* A^-1, as of the last barrier: what requests read */
    double theta[D];
} lin;

static void features(const lin *m, const fw_policy_cand *c, double x[D])
{
    double age = (double)c->age_ticks;
    x[0] = 1.0;
    x[1] = c->followed ? 1.0 : 0.0;
    x[2] = log1p(c->trending);
    x[3] = age < m->env.fresh_age_ticks ? 1.0 : 0.0;
    x[4] = exp2(-age / m->env.recency_half_life_ticks);
    x[5] = (c->opens + 0.8) / (c->impressions + 10.0);
}

/* Gauss-Jordan with partial pivoting on the symmetric positive definite A: -1 if singular. */
static int invert(const double a[D][D], double inv[D][D])
{
    double w[D][2 * D];
    for (int i = 0; i < D; i++)
        for (int j = 0; j < 2 * D; j++)
            w[i][j] = j < D ? a[i][j] : (j - D == i);
    for (int col = 0; col < D; col++) {
        int piv = col;
        for (int r = col + 1; r < D; r++)
            if (fabs(w[r][col]) > fabs(w[piv][col]))
                piv = r;
        if (!(fabs(w[piv][col]) > 1e-300))
            return -1;
        for (int j = 0; j < 2 * D; j++) {
            double t = w[col][j];
            w[col][j] = w[piv][j];
            w[piv][j] = t;
        }
        double p = w[col][col];
        for (int j = 0; j < 2 * D; j++)
            w[col][j] /= p;
        for (int r = 0; r < D; r++)
            if (r != col && w[r][col] != 0.0) {
                double f = w[r][col];
                for (int j = 0; j < 2 * D; j++)
                    w[r][j] -= f * w[col][j];
            }
    }
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            inv[i][j] = w[i][D + j];
    return 0;
}

static int refresh(lin *m)
{
    if (invert(m->a, m->ainv))
        return -1;
    for (int i = 0; i < D; i++) {
        m->theta[i] = 0.0;
        for (int j = 0; j < D; j++)
            m->theta[i] += m->ainv[i][j] * m->b[j];
    }
    return 0;
}

static void *create(const char *args, const fw_policy_env *env, char *why, size_t cap)
{
    double alpha = 0.3, lambda = 1.0;
    char buf[512];
    if (strlen(args) >= sizeof buf) {
        snprintf(why, cap, "arguments longer than %zu bytes", sizeof buf - 1);
        return NULL;
    }
    strcpy(buf, args);
    for (char *save = NULL, *tok = strtok_r(buf, " ,\t", &save); tok; tok = strtok_r(NULL, " ,\t", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || end == eq + 1 || *end || !isfinite(v)) {
            snprintf(why, cap, "expected key=number, got '%.60s'", tok);
            return NULL;
        }
        *eq = '\0';
        if (!strcmp(tok, "alpha") && v >= 0.0)
            alpha = v;
        else if (!strcmp(tok, "lambda") && v > 0.0)
            lambda = v;
        else {
            snprintf(why, cap, "'%.40s=%g': expected alpha >= 0 or lambda > 0", tok, v);
            return NULL;
        }
    }
    lin *m = calloc(1, sizeof *m);
    if (!m) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    m->env = *env;
    m->alpha = alpha;
    for (int i = 0; i < D; i++)
        m->a[i][i] = lambda;
    refresh(m);
    return m;
}

static void destroy(void *state) { free(state); }

static int rank(const void *state, void *ctx, fw_rank_request *req)
{
    const lin *m = state;
    (void)ctx;
    for (uint32_t i = 0; i < req->n_cand; i++) {
        double x[D], mean = 0.0, var = 0.0;
        features(m, &req->cand[i], x);
        for (int r = 0; r < D; r++) {
            double row = 0.0;
            for (int c = 0; c < D; c++)
                row += m->ainv[r][c] * x[c];
            var += x[r] * row;
            mean += m->theta[r] * x[r];
        }
        req->score[i] = mean + m->alpha * sqrt(var > 0.0 ? var : 0.0);
    }
    return FW_RANK_SCORES;
}

static int observe(void *state, const fw_policy_batch *bt)
{
    lin *m = state;
    int any = 0;
    for (size_t i = 0; i < bt->n_events; i++) {
        uint32_t type = bt->events[i].type, t = FW_EV_TYPE(type);
        if ((type & FW_EV_SEARCH) || (t != FW_EV_IMPRESSION && t != FW_EV_OPEN))
            continue;
        double x[D];
        features(m, &bt->cand[i], x);
        if (t == FW_EV_IMPRESSION)
            for (int r = 0; r < D; r++)
                for (int c = 0; c < D; c++)
                    m->a[r][c] += x[r] * x[c];
        else
            for (int r = 0; r < D; r++)
                m->b[r] += x[r];
        any = 1;
    }
    return any ? refresh(m) : 0;
}

static const fw_ranker_table table = {
    .abi_version = FW_POLICY_ABI_VERSION,
    .name = "linucb",
    .create = create,
    .destroy = destroy,
    .rank = rank,
    .observe = observe,
};

FW_RANKER_EXPORT const fw_ranker_table *fw_ranker_plugin(void);
const fw_ranker_table *fw_ranker_plugin(void) { return &table; }

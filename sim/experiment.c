/* Assignment and analysis of A/B experiments.
 *
 * Invariants: every user belongs to exactly one unit and every unit to one arm; an arm's
 * users are the users of its units. Metrics are ratios of sums over units: for unit u,
 * y_u = sum of the numerator over its users and x_u = sum of the denominator (its user
 * count for per-user means), tested with the delta method (fw_stat_ratio), which for
 * one-user units and x = 1 is Welch's test on per-user values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "rng.h"

#define NAME(name, ...) #name,
#define UNIT3(name, unit, doc) unit,
#define DOC3(name, unit, doc) doc,
const char *const fw_user_metric_name[FW_UM__COUNT] = {FW_USER_METRICS(NAME)};
const char *const fw_user_metric_unit[FW_UM__COUNT] = {FW_USER_METRICS(UNIT3)};
const char *const fw_user_metric_doc[FW_UM__COUNT] = {FW_USER_METRICS(DOC3)};
#define DOC4(name, num, den, doc) doc,
const char *const fw_experiment_metric_name[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(NAME)};
const char *const fw_experiment_metric_doc[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(DOC4)};
#undef NAME

#define NUM(name, num, den, doc) FW_UM_##num,
#define DEN(name, num, den, doc) FW_UM_##den,
static const fw_user_metric metric_num[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(NUM)};
static const fw_user_metric metric_den[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(DEN)};

/* ---- assignment --------------------------------------------------------------------- */

/* The cluster of u: the most followed creator u follows (ties: lower id), or u itself. */
static uint32_t top_creator(const fw_world *w, uint32_t u)
{
    uint32_t best = u, best_n = 0;
    int found = 0;
    for (uint32_t k = w->follow_off[u]; k < w->follow_off[u + 1]; k++) {
        uint32_t c = w->follow_dst[k], n = w->n_followers[c];
        if (!found || n > best_n || (n == best_n && c < best)) {
            best = c;
            best_n = n;
            found = 1;
        }
    }
    return best;
}

static uint32_t arm_by_hash(const fw_scenario *s, uint32_t unit_id)
{
    double total = 0.0;
    for (uint32_t a = 0; a < s->n_arms; a++)
        total += s->arms[a].weight;
    uint64_t h = fw_hash64(fw_hash64(s->experiment_salt) ^ (uint64_t)unit_id);
    double x = (double)(h >> 11) * 0x1.0p-53 * total, acc = 0.0;
    uint32_t a = 0;
    while (a + 1 < s->n_arms && x >= (acc += s->arms[a].weight))
        a++;
    return a;
}

fw_err fw_assignment_init(fw_assignment *a, const fw_scenario *s, const fw_world *w)
{
    memset(a, 0, sizeof *a);
    uint32_t n = w->n_users;
    a->n_users = n;
    a->n_arms = s->n_arms;
    a->unit_of_user = malloc((size_t)n * sizeof *a->unit_of_user);
    a->arm_of_user = malloc(n ? n : 1);
    uint32_t *index = malloc((size_t)n * sizeof *index);   /* unit id (a user id) -> dense */
    a->unit_id = malloc((size_t)n * sizeof *a->unit_id);
    a->arm_of_unit = malloc(n ? n : 1);
    if (!a->unit_of_user || !a->arm_of_user || !index || !a->unit_id || !a->arm_of_unit) {
        free(index);
        fw_assignment_fini(a);
        return FW_ERR_NOMEM;
    }
    for (uint32_t u = 0; u < n; u++)
        index[u] = UINT32_MAX;
    for (uint32_t u = 0; u < n; u++) {
        uint32_t id = s->experiment_unit == FW_UNIT_CLUSTER ? top_creator(w, u) : u;
        if (index[id] == UINT32_MAX) {
            index[id] = a->n_units;
            a->unit_id[a->n_units] = id;
            a->arm_of_unit[a->n_units] = (uint8_t)arm_by_hash(s, id);
            a->units[a->arm_of_unit[a->n_units]]++;
            a->n_units++;
        }
        a->unit_of_user[u] = index[id];
        a->arm_of_user[u] = a->arm_of_unit[index[id]];
        a->users[a->arm_of_user[u]]++;
    }
    free(index);
    return FW_OK;
}

void fw_assignment_fini(fw_assignment *a)
{
    free(a->unit_of_user);
    free(a->unit_id);
    free(a->arm_of_unit);
    free(a->arm_of_user);
    memset(a, 0, sizeof *a);
}

fw_err fw_user_aggs_init(fw_user_aggs *g, uint32_t n_users)
{
    memset(g, 0, sizeof *g);
    g->n_users = n_users;
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++)
            if (!(g->v[p][m] = calloc(n_users ? n_users : 1, sizeof(uint32_t)))) {
                fw_user_aggs_fini(g);
                return FW_ERR_NOMEM;
            }
    return FW_OK;
}

void fw_user_aggs_fini(fw_user_aggs *g)
{
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++)
            free(g->v[p][m]);
    memset(g, 0, sizeof *g);
}

/* ---- analysis ----------------------------------------------------------------------- */

static double user_value(const fw_user_aggs *g, int period, fw_user_metric m, uint32_t u)
{
    return m == FW_UM_USERS ? 1.0 : (double)g->v[period][m][u];
}

/* Ratio moments of metric em per arm, summing users into units first (y, x scratch of
 * n_units each). */
static void ratio_moments(const fw_assignment *a, const fw_user_aggs *g, int em, double *y,
                          double *x, fw_stat_ratio_moments *mom)
{
    memset(y, 0, (size_t)a->n_units * sizeof *y);
    memset(x, 0, (size_t)a->n_units * sizeof *x);
    for (uint32_t u = 0; u < a->n_users; u++) {
        uint32_t k = a->unit_of_user[u];
        y[k] += user_value(g, 1, metric_num[em], u);
        x[k] += user_value(g, 1, metric_den[em], u);
    }
    memset(mom, 0, FW_MAX_ARMS * sizeof *mom);
    for (uint32_t k = 0; k < a->n_units; k++) {
        fw_stat_ratio_moments *m = &mom[a->arm_of_unit[k]];
        m->n += 1.0;
        m->sum_y += y[k];
        m->sum_x += x[k];
        m->sum_yy += y[k] * y[k];
        m->sum_xx += x[k] * x[k];
        m->sum_xy += x[k] * y[k];
    }
}

static void cuped_moments(const fw_assignment *a, const fw_user_aggs *g, int em,
                          fw_stat_cuped_moments *mom)
{
    memset(mom, 0, FW_MAX_ARMS * sizeof *mom);
    for (uint32_t u = 0; u < a->n_users; u++) {
        fw_stat_cuped_moments *m = &mom[a->arm_of_user[u]];
        double y = user_value(g, 1, metric_num[em], u), x = user_value(g, 0, metric_num[em], u);
        m->n += 1.0;
        m->sum_y += y;
        m->sum_x += x;
        m->sum_yy += y * y;
        m->sum_xx += x * x;
        m->sum_xy += x * y;
    }
}

fw_err fw_experiment_analyse(const fw_scenario *s, const fw_assignment *a, const fw_user_aggs *g,
                             int have_pre, uint32_t days, const fw_exp_table *prev,
                             fw_exp_table *out)
{
    double *y = malloc(((size_t)a->n_units + 1) * sizeof *y);
    double *x = malloc(((size_t)a->n_units + 1) * sizeof *x);
    if (!y || !x) {
        free(y);
        free(x);
        return FW_ERR_NOMEM;
    }
    double prev_msprt[FW_MAX_ARMS][FW_EM__COUNT];
    for (uint32_t arm = 0; arm < FW_MAX_ARMS; arm++)
        for (int m = 0; m < FW_EM__COUNT; m++)
            prev_msprt[arm][m] = prev ? prev->row[arm][m].p_msprt : 1.0;
    fw_exp_table t;
    memset(&t, 0, sizeof t);
    t.n_arms = a->n_arms;
    double alpha = s->experiment_alpha;
    int can_cuped = have_pre && s->experiment_unit == FW_UNIT_USER;
    t.have_pre = can_cuped;
    t.days = days;

    for (int m = 0; m < FW_EM__COUNT; m++) {
        fw_stat_ratio_moments rm[FW_MAX_ARMS];
        fw_stat_cuped_moments cm[FW_MAX_ARMS];
        ratio_moments(a, g, m, y, x, rm);
        int cuped_here = can_cuped && metric_den[m] == FW_UM_USERS;
        if (cuped_here)
            cuped_moments(a, g, m, cm);
        for (uint32_t arm = 1; arm < a->n_arms; arm++) {
            fw_exp_row *r = &t.row[arm][m];
            r->p_msprt = prev_msprt[arm][m];
            r->ok = fw_stat_ratio(&rm[0], &rm[arm], 1, alpha, &r->rel) == FW_OK &&
                    fw_stat_ratio(&rm[0], &rm[arm], 0, alpha, &r->abs) == FW_OK;
            if (!r->ok) {
                r->p = r->p_holm = r->p_bh = NAN;
                continue;
            }
            r->p = r->rel.p;
            if (cuped_here &&
                fw_stat_cuped(&cm[0], &cm[arm], 1, alpha, &r->cuped_rel, &r->theta) == FW_OK) {
                r->cuped = 1;
                r->p = r->cuped_rel.p;
            }
            /* One look a day: the always-valid p-value is the running minimum. */
            const fw_stat_result *primary = r->cuped ? &r->cuped_rel : &r->rel;
            double pm = fw_stat_msprt_p(primary->delta, primary->se, s->experiment_msprt_tau);
            if (isfinite(pm) && pm < r->p_msprt)
                r->p_msprt = pm;
        }
    }
    /* Multiple comparisons across an arm's metrics, over the tests that are defined. */
    for (uint32_t arm = 1; arm < a->n_arms; arm++) {
        double p[FW_EM__COUNT], adj[FW_EM__COUNT];
        int idx[FW_EM__COUNT], k = 0;
        for (int m = 0; m < FW_EM__COUNT; m++)
            if (t.row[arm][m].ok) {
                idx[k] = m;
                p[k++] = t.row[arm][m].p;
            }
        fw_stat_holm(p, (size_t)k, adj);
        for (int i = 0; i < k; i++)
            t.row[arm][idx[i]].p_holm = adj[i];
        fw_stat_bh(p, (size_t)k, adj);
        for (int i = 0; i < k; i++)
            t.row[arm][idx[i]].p_bh = adj[i];
    }
    double obs[FW_MAX_ARMS], wts[FW_MAX_ARMS];
    for (uint32_t arm = 0; arm < a->n_arms; arm++) {
        obs[arm] = (double)a->units[arm];
        wts[arm] = s->arms[arm].weight;
    }
    t.srm_chi2 = t.srm_p = NAN;
    if (a->n_arms > 1)
        fw_stat_srm(obs, wts, a->n_arms, &t.srm_chi2, &t.srm_p);
    free(y);
    free(x);
    *out = t;
    return FW_OK;
}

static void pct(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%+.2f%%", 100.0 * v);
    else
        snprintf(buf, n, "n/a");
}

void fw_experiment_print(const fw_scenario *s, const fw_assignment *a, const fw_exp_table *t,
                         FILE *f)
{
    if (!f || t->n_arms < 2)
        return;
    static const char *const unit_names[] = {"user", "cluster"};
    fprintf(f, "\nexperiment: unit %s, %u units, alpha %g, %s; SRM chi2 %.3f p %.4f%s\n",
            unit_names[s->experiment_unit], a->n_units, s->experiment_alpha,
            t->have_pre ? "CUPED on the pre-period" : "no CUPED", t->srm_chi2, t->srm_p,
            t->srm_p < 0.001 ? "  ** SAMPLE RATIO MISMATCH: do not trust these results **" : "");
    for (uint32_t arm = 1; arm < t->n_arms; arm++) {
        fprintf(f, "  %s vs %s (%llu vs %llu users, %u days)\n", s->arms[arm].name, s->arms[0].name,
                (unsigned long long)a->users[arm], (unsigned long long)a->users[0], t->days);
        fprintf(f, "  %-22s %10s %10s %9s %21s %8s %8s %8s  %s\n", "metric", "control", "treatment",
                "lift", "CI", "p", "p_holm", "p_seq", "flags");
        for (int m = 0; m < FW_EM__COUNT; m++) {
            const fw_exp_row *r = &t->row[arm][m];
            if (!r->ok) {
                fprintf(f, "  %-22s %10s\n", fw_experiment_metric_name[m], "n/a (no variance)");
                continue;
            }
            const fw_stat_result *p = r->cuped ? &r->cuped_rel : &r->rel;
            char lift[32], lo[32], hi[32], ci[80];
            pct(lift, sizeof lift, p->delta);
            pct(lo, sizeof lo, p->ci_lo);
            pct(hi, sizeof hi, p->ci_hi);
            snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
            fprintf(f, "  %-22s %10.4g %10.4g %9s %21s %8.4f %8.4f %8.4f  %s%s%s\n",
                    fw_experiment_metric_name[m], r->rel.control, r->rel.treatment, lift, ci, r->p,
                    r->p_holm, r->p_msprt, r->cuped ? "cuped " : "",
                    r->p_holm < s->experiment_alpha ? "significant " : "",
                    r->p_msprt < s->experiment_alpha ? "seq-significant" : "");
        }
    }
    fprintf(f, "  (lift = treatment / control - 1; p two-sided; p_holm adjusted over the metrics;\n"
               "   p_seq always valid under daily peeking (mSPRT); all in /experiment)\n");
}

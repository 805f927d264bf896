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

#include "experiment/experiment.h"
#include "model/rng.h"

#define NAME(name, ...) #name,
#define UNIT3(name, unit, doc) unit,
#define DOC3(name, unit, doc) doc,
const char *const fw_user_metric_name[FW_UM__COUNT] = {FW_USER_METRICS(NAME)};
const char *const fw_user_metric_unit[FW_UM__COUNT] = {FW_USER_METRICS(UNIT3)};
const char *const fw_user_metric_doc[FW_UM__COUNT] = {FW_USER_METRICS(DOC3)};
#define DOC4(name, num, den, side, doc) doc,
const char *const fw_experiment_metric_name[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(NAME)};
const char *const fw_experiment_metric_doc[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(DOC4)};
#undef NAME

#define NUM(name, num, den, side, doc) FW_UM_##num,
#define DEN(name, num, den, side, doc) FW_UM_##den,
#define SIDE(name, num, den, side, doc) #side[0] == 'C',
static const fw_user_metric metric_num[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(NUM)};
static const fw_user_metric metric_den[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(DEN)};
static const int metric_creator_side[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(SIDE)};

static const char *const unit_names[FW_UNIT__COUNT] = {
#define UNIT_NAME(constant, yaml) yaml,
    FW_EXPERIMENT_UNITS(UNIT_NAME)
#undef UNIT_NAME
};

const char *fw_experiment_unit_name(int unit)
{
    return unit >= 0 && unit < FW_UNIT__COUNT ? unit_names[unit] : "unknown";
}

int fw_experiment_metric_applies(const fw_scenario *s, int metric)
{
    return metric_creator_side[metric] == (s->experiment_unit == FW_UNIT_CREATOR);
}

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

/* Position of unit_id among the layer's arms, by the layer's salted hash and the arms'
 * weights (relative within the layer). */
static uint32_t position_by_hash(const fw_scenario *s, const fw_layer *L, uint64_t salt,
                                 uint32_t unit_id)
{
    double total = 0.0;
    for (uint32_t i = 0; i < L->n_arms; i++)
        total += s->arms[L->arm[i]].weight;
    uint64_t h = fw_hash64(fw_hash64(salt) ^ (uint64_t)unit_id);
    double x = (double)(h >> 11) * 0x1.0p-53 * total, acc = 0.0;
    uint32_t i = 0;
    while (i + 1 < L->n_arms && x >= (acc += s->arms[L->arm[i]].weight))
        i++;
    return i;
}

/* The first layer hashes with the experiment's salt; every other layer with the salt mixed
 * with its name (FNV-1a), so layers split units independently of each other. */
static uint64_t layer_salt(const fw_scenario *s, uint32_t l)
{
    if (l == 0)
        return s->experiment_salt;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)s->layers[l].name; *p; p++)
        h = (h ^ *p) * UINT64_C(0x100000001b3);
    return s->experiment_salt ^ h;
}

fw_err fw_assignment_init(fw_assignment *a, const fw_scenario *s, const fw_world *w)
{
    memset(a, 0, sizeof *a);
    uint32_t n = w->n_users, L = s->n_layers;
    a->n_users = n;
    a->n_arms = s->n_arms;
    a->n_layers = L;
    a->n_cells = 1;
    for (uint32_t l = 0; l < L; l++)
        a->n_cells *= s->layers[l].n_arms;
    if (L == 0 || a->n_cells > FW_MAX_CELLS)
        return FW_ERR_INVAL;
    for (uint32_t c = 0; c < a->n_cells; c++) {
        uint32_t rest = c;
        for (uint32_t l = 0; l < L; l++) {
            a->cell_arm[c][l] = (uint8_t)s->layers[l].arm[rest % s->layers[l].n_arms];
            rest /= s->layers[l].n_arms;
        }
    }
    for (uint32_t l = 0; l < L; l++)
        for (uint32_t i = 0; i < s->layers[l].n_arms; i++) {
            a->layer_of_arm[s->layers[l].arm[i]] = (uint8_t)l;
            a->control_of_arm[s->layers[l].arm[i]] = (uint8_t)s->layers[l].arm[0];
        }
    a->unit_of_user = malloc((size_t)n * sizeof *a->unit_of_user);
    a->unit_id = malloc((size_t)n * sizeof *a->unit_id);
    a->cell_of_user = malloc(n ? n : 1);
    uint32_t *index = malloc((size_t)n * sizeof *index);   /* unit id (a user id) -> dense */
    int ok = a->unit_of_user && a->unit_id && a->cell_of_user && index;
    for (uint32_t l = 0; l < L && ok; l++) {
        a->arm_of_unit[l] = malloc(n ? n : 1);
        a->arm_of_user[l] = malloc(n ? n : 1);
        ok = a->arm_of_unit[l] && a->arm_of_user[l];
    }
    if (!ok) {
        free(index);
        fw_assignment_fini(a);
        return FW_ERR_NOMEM;
    }
    for (uint32_t u = 0; u < n; u++)
        index[u] = UINT32_MAX;
    for (uint32_t u = 0; u < n; u++) {
        if (s->experiment_unit == FW_UNIT_CREATOR && w->creator_of[u] < 0) {
            /* Not a unit: views under every layer's control, counts in no test. */
            a->unit_of_user[u] = FW_NONE;
            for (uint32_t l = 0; l < L; l++) {
                a->arm_of_user[l][u] = (uint8_t)s->layers[l].arm[0];
                a->users[s->layers[l].arm[0]]++;
            }
            a->cell_of_user[u] = 0;
            continue;
        }
        uint32_t id = s->experiment_unit == FW_UNIT_CLUSTER ? top_creator(w, u) : u;
        if (index[id] == UINT32_MAX) {
            uint32_t k = a->n_units++;
            index[id] = k;
            a->unit_id[k] = id;
            for (uint32_t l = 0; l < L; l++) {
                const fw_layer *ly = &s->layers[l];
                uint32_t arm = ly->arm[position_by_hash(s, ly, layer_salt(s, l), id)];
                a->arm_of_unit[l][k] = (uint8_t)arm;
                a->units[arm]++;
            }
        }
        uint32_t k = index[id], cell = 0, radix = 1;
        a->unit_of_user[u] = k;
        for (uint32_t l = 0; l < L; l++) {
            uint32_t arm = a->arm_of_unit[l][k], pos = 0;
            while (s->layers[l].arm[pos] != arm)
                pos++;
            a->arm_of_user[l][u] = (uint8_t)arm;
            a->users[arm]++;
            cell += pos * radix;
            radix *= s->layers[l].n_arms;
        }
        a->cell_of_user[u] = (uint8_t)cell;
    }
    free(index);
    return FW_OK;
}

void fw_assignment_fini(fw_assignment *a)
{
    free(a->unit_of_user);
    free(a->unit_id);
    free(a->cell_of_user);
    for (uint32_t l = 0; l < FW_MAX_ARMS; l++) {
        free(a->arm_of_unit[l]);
        free(a->arm_of_user[l]);
    }
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
    /* Units are shared by every layer: sum once, then split by each layer's arms. */
    memset(y, 0, (size_t)a->n_units * sizeof *y);
    memset(x, 0, (size_t)a->n_units * sizeof *x);
    for (uint32_t u = 0; u < a->n_users; u++) {
        uint32_t k = a->unit_of_user[u];
        if (k == FW_NONE)
            continue;
        y[k] += user_value(g, 1, metric_num[em], u);
        x[k] += user_value(g, 1, metric_den[em], u);
    }
    memset(mom, 0, FW_MAX_ARMS * sizeof *mom);
    for (uint32_t l = 0; l < a->n_layers; l++)
        for (uint32_t k = 0; k < a->n_units; k++) {
            fw_stat_ratio_moments *m = &mom[a->arm_of_unit[l][k]];
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
        if (a->unit_of_user[u] == FW_NONE)
            continue;
        double y = user_value(g, 1, metric_num[em], u), x = user_value(g, 0, metric_num[em], u);
        for (uint32_t l = 0; l < a->n_layers; l++) {
            fw_stat_cuped_moments *m = &mom[a->arm_of_user[l][u]];
            m->n += 1.0;
            m->sum_y += y;
            m->sum_x += x;
            m->sum_yy += y * y;
            m->sum_xx += x * x;
            m->sum_xy += x * y;
        }
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
    int can_cuped = have_pre && s->experiment_unit != FW_UNIT_CLUSTER;   /* one person per unit */
    t.have_pre = can_cuped;
    t.days = days;

    for (int m = 0; m < FW_EM__COUNT; m++) {
        if (!fw_experiment_metric_applies(s, m)) {
            for (uint32_t arm = 0; arm < a->n_arms; arm++) {
                t.row[arm][m].p = t.row[arm][m].p_holm = t.row[arm][m].p_bh = NAN;
                t.row[arm][m].p_msprt = NAN;
            }
            continue;
        }
        fw_stat_ratio_moments rm[FW_MAX_ARMS];
        fw_stat_cuped_moments cm[FW_MAX_ARMS];
        ratio_moments(a, g, m, y, x, rm);
        int cuped_here = can_cuped && metric_den[m] == FW_UM_USERS;
        if (cuped_here)
            cuped_moments(a, g, m, cm);
        for (uint32_t arm = 0; arm < a->n_arms; arm++) {
            uint32_t ctl = a->control_of_arm[arm];
            if (arm == ctl)
                continue;
            fw_exp_row *r = &t.row[arm][m];
            r->p_msprt = prev_msprt[arm][m];
            r->ok = fw_stat_ratio(&rm[ctl], &rm[arm], 1, alpha, &r->rel) == FW_OK &&
                    fw_stat_ratio(&rm[ctl], &rm[arm], 0, alpha, &r->abs) == FW_OK;
            if (!r->ok) {
                r->p = r->p_holm = r->p_bh = NAN;
                continue;
            }
            r->p = r->rel.p;
            if (cuped_here &&
                fw_stat_cuped(&cm[ctl], &cm[arm], 1, alpha, &r->cuped_rel, &r->theta) == FW_OK) {
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
    for (uint32_t arm = 0; arm < a->n_arms; arm++) {
        if (arm == a->control_of_arm[arm])
            continue;
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
    for (uint32_t l = 0; l < FW_MAX_ARMS; l++)
        t.srm_chi2[l] = t.srm_p[l] = NAN;
    for (uint32_t l = 0; l < a->n_layers; l++) {
        const fw_layer *ly = &s->layers[l];
        double obs[FW_MAX_ARMS], wts[FW_MAX_ARMS];
        for (uint32_t i = 0; i < ly->n_arms; i++) {
            obs[i] = (double)a->units[ly->arm[i]];
            wts[i] = s->arms[ly->arm[i]].weight;
        }
        if (ly->n_arms > 1)
            fw_stat_srm(obs, wts, ly->n_arms, &t.srm_chi2[l], &t.srm_p[l]);
    }
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
    fprintf(f, "\nexperiment: unit %s, %u units, alpha %g, %s\n", fw_experiment_unit_name(s->experiment_unit),
            a->n_units, s->experiment_alpha, t->have_pre ? "CUPED on the pre-period" : "no CUPED");
    for (uint32_t l = 0; l < a->n_layers; l++)
        if (s->layers[l].n_arms > 1)
            fprintf(f, "  layer %s: SRM chi2 %.3f p %.4f%s\n", s->layers[l].name, t->srm_chi2[l],
                    t->srm_p[l],
                    t->srm_p[l] < 0.001 ? "  ** SAMPLE RATIO MISMATCH: do not trust these results **"
                                        : "");
    for (uint32_t arm = 0; arm < t->n_arms; arm++) {
        uint32_t ctl = a->control_of_arm[arm];
        if (arm == ctl)
            continue;
        int creators = s->experiment_unit == FW_UNIT_CREATOR;
        fprintf(f, "  %s vs %s (layer %s; %llu vs %llu %s, %u days)\n", s->arms[arm].name,
                s->arms[ctl].name, s->layers[a->layer_of_arm[arm]].name,
                (unsigned long long)(creators ? a->units[arm] : a->users[arm]),
                (unsigned long long)(creators ? a->units[ctl] : a->users[ctl]),
                creators ? "creators" : "users", t->days);
        fprintf(f, "  %-22s %10s %10s %9s %21s %8s %8s %8s  %s\n", "metric", "control", "treatment",
                "lift", "CI", "p", "p_holm", "p_seq", "flags");
        for (int m = 0; m < FW_EM__COUNT; m++) {
            const fw_exp_row *r = &t->row[arm][m];
            if (!fw_experiment_metric_applies(s, m))
                continue;
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

void fw_experiment_values(const fw_scenario *s, const fw_assignment *a, const fw_user_aggs *g,
                          double out[FW_EM__COUNT])
{
    for (int m = 0; m < FW_EM__COUNT; m++) {
        double num = 0.0, den = 0.0;
        for (uint32_t u = 0; u < a->n_users && fw_experiment_metric_applies(s, m); u++)
            if (a->unit_of_user[u] != FW_NONE) {
                num += user_value(g, 1, metric_num[m], u);
                den += user_value(g, 1, metric_den[m], u);
            }
        out[m] = den > 0.0 ? num / den : NAN;
    }
}

/* Assignment and analysis of A/B experiments.
 *
 * Invariants: every user belongs to exactly one unit and every unit to one arm; an arm's
 * users are the users of its units. Metrics are ratios of sums over units: for unit u,
 * y_u = sum of the numerator over its users and x_u = sum of the denominator (its user
 * count for per-user means), tested with the delta method (fw_stat_ratio), which for
 * one-user units and x = 1 is Welch's test on per-user values.
 *
 * What a look computes, per treatment arm and metric (the reasons are in stats.h/stats.c):
 * - the primary test is the absolute difference of the metric (fw_stat_ratio, relative 0),
 *   CUPED-adjusted (fw_stat_cuped, relative 0) when CUPED applies; its p is `p`, the one that
 *   flags, Holm, BH and the sequential test use;
 * - the lift and its interval come from fw_stat_lift on the same absolute result (log-ratio,
 *   never below -100%, NaN when the control is too sparse);
 * - the minimum detectable effect at 80% power from the primary test's standard error;
 * - the sequential p: the union-bound alpha spending of fw_stat_seq_p over the daily looks
 *   (look k = experiment-period day k, K = the experiment period's planned days).
 * Every test of a look is a function of fw_exp_table.mom, the look's sufficient statistics. */
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
#define UNIT5(name, num, den, side, unit, doc) unit,
#define DOC5(name, num, den, side, unit, doc) doc,
const char *const fw_experiment_metric_name[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(NAME)};
const char *const fw_experiment_metric_unit[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(UNIT5)};
const char *const fw_experiment_metric_doc[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(DOC5)};
#undef NAME

#define NUM(name, num, den, side, unit, doc) FW_UM_##num,
#define DEN(name, num, den, side, unit, doc) FW_UM_##den,
#define SIDE(name, num, den, side, unit, doc) #side[0] == 'C',
const fw_user_metric fw_experiment_metric_num[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(NUM)};
const fw_user_metric fw_experiment_metric_den[FW_EM__COUNT] = {FW_EXPERIMENT_METRICS(DEN)};
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
    for (uint64_t k = w->follow_off[u]; k < w->follow_off[u + 1]; k++) {
        uint32_t c = w->follow_dst[k];
        if (c == FW_NONE)   /* an edge an unfollow blanked (issue 18; assignment runs before any) */
            continue;
        uint32_t n = w->n_followers[c];
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
    a->n_buckets = fw_scenario_learners(s);
    a->unit_of_user = malloc((size_t)n * sizeof *a->unit_of_user);
    a->unit_id = malloc((size_t)n * sizeof *a->unit_id);
    a->cell_of_user = malloc(n ? n : 1);
    a->bucket_of_unit = calloc(n ? n : 1, 1);
    a->bucket_of_user = calloc(n ? n : 1, 1);
    uint32_t *index = malloc((size_t)n * sizeof *index);   /* unit id (a user id) -> dense */
    int ok = a->unit_of_user && a->unit_id && a->cell_of_user && a->bucket_of_unit && a->bucket_of_user && index;
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
    uint32_t dealt[FW_MAX_CELLS] = {0};   /* units of each cell dealt so far */
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
        int first = index[id] == UINT32_MAX;
        if (first) {
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
        if (first)   /* deal the cell's units into its learner groups in turn */
            a->bucket_of_unit[k] = (uint8_t)(dealt[cell]++ % a->n_buckets);
        a->bucket_of_user[u] = a->bucket_of_unit[k];
    }
    free(index);
    return FW_OK;
}

void fw_assignment_fini(fw_assignment *a)
{
    free(a->unit_of_user);
    free(a->unit_id);
    free(a->cell_of_user);
    free(a->bucket_of_unit);
    free(a->bucket_of_user);
    for (uint32_t l = 0; l < FW_MAX_ARMS; l++) {
        free(a->arm_of_unit[l]);
        free(a->arm_of_user[l]);
    }
    memset(a, 0, sizeof *a);
}

fw_err fw_user_aggs_init(fw_user_aggs *g, uint32_t n_users)
{
    return fw_user_aggs_init_pre(g, n_users, 1);
}

fw_err fw_user_aggs_init_pre(fw_user_aggs *g, uint32_t n_users, int with_pre)
{
    memset(g, 0, sizeof *g);
    g->n_users = n_users;
    g->no_pre = !with_pre;
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++) {
            g->v[p][m] = p == 0 && m > 0 && g->no_pre ? g->v[0][0] : calloc(n_users ? n_users : 1, sizeof(uint32_t));
            if (!g->v[p][m]) {
                fw_user_aggs_fini(g);
                return FW_ERR_NOMEM;
            }
        }
    return FW_OK;
}

void fw_user_aggs_fini(fw_user_aggs *g)
{
    for (int p = 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++)
            if (p == 1 || m == 0 || !g->no_pre)
                free(g->v[p][m]);
    memset(g, 0, sizeof *g);
}

/* Skipped: period 0's arrays when no_pre (one shared array of zeros, never written). */
void fw_aggs_snap(fw_user_aggs *a, fw_snap *s)
{
    fw_snap_same_u32(s, a->n_users, "users");
    fw_snap_same_u32(s, (uint32_t)a->no_pre, "a period before the experiment's (none: 1)");
    for (int p = a->no_pre ? 1 : 0; p < 2; p++)
        for (int m = 0; m < FW_UM__COUNT; m++)
            fw_snap_array(s, a->v[p][m], a->n_users, sizeof *a->v[p][m]);
}

/* ---- analysis ----------------------------------------------------------------------- */

static double user_value(const fw_user_aggs *g, int period, fw_user_metric m, uint32_t u)
{
    return m == FW_UM_USERS ? 1.0 : (double)g->v[period][m][u];
}

static void add_moments(fw_exp_moments *m, double y, double x, double pre)
{
    m->n += 1.0;
    m->sum_y += y;
    m->sum_x += x;
    m->sum_yy += y * y;
    m->sum_xx += x * x;
    m->sum_xy += x * y;
    m->sum_pre += pre;
    m->sum_pre_sq += pre * pre;
    m->sum_y_pre += y * pre;
}

/* The look's sufficient statistics of metric em per arm (mom[FW_MAX_ARMS]), summing users
 * into units first (y, x, pre: scratch of n_units each), then, with several learner groups
 * per arm, units into their (arm, group) (gy, gx, gpre, gn: scratch of n_arms * n_buckets). */
static void arm_moments(const fw_assignment *a, const fw_user_aggs *g, int em, double *y, double *x,
                        double *pre, double *gy, double *gx, double *gpre, double *gn, fw_exp_moments *mom)
{
    /* Units are shared by every layer: sum once, then split by each layer's arms. */
    memset(y, 0, (size_t)a->n_units * sizeof *y);
    memset(x, 0, (size_t)a->n_units * sizeof *x);
    memset(pre, 0, (size_t)a->n_units * sizeof *pre);
    for (uint32_t u = 0; u < a->n_users; u++) {
        uint32_t k = a->unit_of_user[u];
        if (k == FW_NONE)
            continue;
        y[k] += user_value(g, 1, fw_experiment_metric_num[em], u);
        x[k] += user_value(g, 1, fw_experiment_metric_den[em], u);
        pre[k] += user_value(g, 0, fw_experiment_metric_num[em], u);
    }
    memset(mom, 0, FW_MAX_ARMS * sizeof *mom);
    uint32_t B = a->n_buckets;
    if (B <= 1) {
        for (uint32_t l = 0; l < a->n_layers; l++)
            for (uint32_t k = 0; k < a->n_units; k++)
                add_moments(&mom[a->arm_of_unit[l][k]], y[k], x[k], pre[k]);
        return;
    }
    /* A layer's arm spans cells of other layers, so its group b holds the units of group b of
     * each of those cells: learners no other group of any arm of the layer uses. */
    size_t ng = (size_t)a->n_arms * B;
    for (uint32_t l = 0; l < a->n_layers; l++) {
        memset(gy, 0, ng * sizeof *gy);
        memset(gx, 0, ng * sizeof *gx);
        memset(gpre, 0, ng * sizeof *gpre);
        memset(gn, 0, ng * sizeof *gn);
        for (uint32_t k = 0; k < a->n_units; k++) {
            size_t i = (size_t)a->arm_of_unit[l][k] * B + a->bucket_of_unit[k];
            gy[i] += y[k];
            gx[i] += x[k];
            gpre[i] += pre[k];
            gn[i] += 1.0;
        }
        for (size_t i = 0; i < ng; i++)
            if (gn[i] > 0.0)
                add_moments(&mom[i / B], gy[i], gx[i], gpre[i]);
    }
}

static fw_stat_ratio_moments ratio_of(const fw_exp_moments *m)
{
    return (fw_stat_ratio_moments){m->n, m->sum_y, m->sum_x, m->sum_yy, m->sum_xx, m->sum_xy};
}

static fw_stat_cuped_moments cuped_of(const fw_exp_moments *m)
{
    return (fw_stat_cuped_moments){m->n, m->sum_y, m->sum_pre, m->sum_yy, m->sum_pre_sq, m->sum_y_pre};
}

/* A result whose estimates are known but whose test is not (a lift undefined for a sparse
 * control): the estimates kept, everything else NaN. */
static fw_stat_result undefined_from(const fw_stat_result *r)
{
    return (fw_stat_result){.control = r->control, .treatment = r->treatment, .delta = NAN, .se = NAN,
                            .ci_lo = NAN, .ci_hi = NAN, .p = NAN, .df = r->df,
                            .se_control = r->se_control, .se_treatment = r->se_treatment};
}

/* The tests of one treatment arm and metric from the two arms' sufficient statistics. */
static void test_row(const fw_exp_moments *ctl, const fw_exp_moments *trt, int cuped_here, double alpha,
                     fw_exp_row *r)
{
    fw_stat_ratio_moments rc = ratio_of(ctl), rt = ratio_of(trt);
    r->ok = fw_stat_ratio(&rc, &rt, 0, alpha, &r->abs) == FW_OK;
    if (!r->ok) {
        r->p = r->p_holm = r->p_bh = r->mde = r->mde_rel = r->theta = NAN;
        return;
    }
    if (fw_stat_lift(&r->abs, alpha, &r->rel) != FW_OK)
        r->rel = undefined_from(&r->abs);
    const fw_stat_result *primary = &r->abs;
    r->theta = NAN;
    if (cuped_here) {
        fw_stat_cuped_moments cc = cuped_of(ctl), ct = cuped_of(trt);
        if (fw_stat_cuped(&cc, &ct, 0, alpha, &r->cuped_abs, &r->theta) == FW_OK) {
            r->cuped = 1;
            if (fw_stat_lift(&r->cuped_abs, alpha, &r->cuped_rel) != FW_OK)
                r->cuped_rel = undefined_from(&r->cuped_abs);
            primary = &r->cuped_abs;
        }
    }
    r->p = primary->p;
    r->mde = fw_stat_mde(primary->se, primary->df, alpha, FW_EXPERIMENT_MDE_POWER);
    r->mde_rel = primary->control > 0 ? r->mde / primary->control : NAN;
}

fw_err fw_experiment_analyse(const fw_scenario *s, const fw_assignment *a, const fw_user_aggs *g,
                             int have_pre, uint32_t days, const fw_exp_table *prev,
                             fw_exp_table *out)
{
    size_t nu = (size_t)a->n_units + 1, ng = 4 * ((size_t)a->n_arms * (a->n_buckets ? a->n_buckets : 1) + 1);
    double *y = malloc(nu * sizeof *y), *x = malloc(nu * sizeof *x), *pre = malloc(nu * sizeof *pre);
    double *gs = malloc(ng * sizeof *gs);   /* the groups' scratch: four arrays */
    fw_exp_table *t = calloc(1, sizeof *t);   /* ~200 kB: not on a worker thread's stack */
    if (!y || !x || !pre || !gs || !t) {
        free(y);
        free(x);
        free(pre);
        free(gs);
        free(t);
        return FW_ERR_NOMEM;
    }
    ng /= 4;
    t->n_arms = a->n_arms;
    double alpha = s->experiment_alpha;
    /* CUPED on per-unit means needs one person per unit: not clusters, not learner groups. */
    int can_cuped = have_pre && s->experiment_unit != FW_UNIT_CLUSTER && a->n_buckets <= 1;
    t->have_pre = can_cuped;
    t->groups = a->n_buckets > 1 ? a->n_buckets : 1;
    t->days = days;
    t->planned = s->days > s->experiment_pre_days ? s->days - s->experiment_pre_days : 0;
    t->alpha = alpha;

    for (int m = 0; m < FW_EM__COUNT; m++) {
        if (!fw_experiment_metric_applies(s, m)) {
            for (uint32_t arm = 0; arm < a->n_arms; arm++) {
                fw_exp_row *r = &t->row[arm][m];
                r->p = r->p_holm = r->p_bh = r->p_seq = r->mde = r->mde_rel = r->theta = NAN;
            }
            continue;
        }
        fw_exp_moments mom[FW_MAX_ARMS];
        arm_moments(a, g, m, y, x, pre, gs, gs + ng, gs + 2 * ng, gs + 3 * ng, mom);
        for (uint32_t arm = 0; arm < a->n_arms; arm++)
            t->mom[arm][m] = mom[arm];
        int cuped_here = can_cuped && fw_experiment_metric_den[m] == FW_UM_USERS;
        for (uint32_t arm = 0; arm < a->n_arms; arm++) {
            uint32_t ctl = a->control_of_arm[arm];
            fw_exp_row *r = &t->row[arm][m];
            if (arm == ctl) {   /* not tested: a control row holds no test */
                r->p = r->p_holm = r->p_bh = r->p_seq = r->mde = r->mde_rel = r->theta = NAN;
                continue;
            }
            test_row(&mom[ctl], &mom[arm], cuped_here, alpha, r);
            double before = prev ? prev->row[arm][m].p_seq : 1.0;
            r->p_seq = fw_stat_seq_p(isnan(before) ? 1.0 : before, r->ok ? r->p : NAN, days, t->planned);
        }
    }
    /* Multiple comparisons across an arm's metrics, over the tests that are defined. */
    for (uint32_t arm = 0; arm < a->n_arms; arm++) {
        if (arm == a->control_of_arm[arm])
            continue;
        double p[FW_EM__COUNT], adj[FW_EM__COUNT];
        int idx[FW_EM__COUNT], k = 0;
        for (int m = 0; m < FW_EM__COUNT; m++)
            if (t->row[arm][m].ok) {
                idx[k] = m;
                p[k++] = t->row[arm][m].p;
            }
        fw_stat_holm(p, (size_t)k, adj);
        for (int i = 0; i < k; i++)
            t->row[arm][idx[i]].p_holm = adj[i];
        fw_stat_bh(p, (size_t)k, adj);
        for (int i = 0; i < k; i++)
            t->row[arm][idx[i]].p_bh = adj[i];
    }
    for (uint32_t l = 0; l < FW_MAX_ARMS; l++)
        t->srm_chi2[l] = t->srm_p[l] = NAN;
    for (uint32_t l = 0; l < a->n_layers; l++) {
        const fw_layer *ly = &s->layers[l];
        double obs[FW_MAX_ARMS], wts[FW_MAX_ARMS];
        for (uint32_t i = 0; i < ly->n_arms; i++) {
            obs[i] = (double)a->units[ly->arm[i]];
            wts[i] = s->arms[ly->arm[i]].weight;
        }
        if (ly->n_arms > 1)
            fw_stat_srm(obs, wts, ly->n_arms, &t->srm_chi2[l], &t->srm_p[l]);
    }
    free(y);
    free(x);
    free(pre);
    free(gs);
    *out = *t;
    free(t);
    return FW_OK;
}

/* An int as 32 bits (the flags of a row). */
static void snap_int(fw_snap *s, int *v)
{
    int32_t x = *v;
    fw_snap_i32(s, &x);
    *v = x;
}

/* Moved whole: plain doubles, no padding (a snapshot compares byte for byte), so a field
 * added to either struct travels without a new transfer, and one of another type trips
 * these. */
_Static_assert(sizeof(fw_stat_result) == 10 * sizeof(double), "fw_stat_result is snapshot as its doubles");
_Static_assert(sizeof(fw_exp_moments) == 9 * sizeof(double), "fw_exp_moments is snapshot as its doubles");

/* Every field, the rows of every arm slot (those past n_arms are zero, as analysed): nothing
 * is fixed at create, the table being a look's result. Rows go field by field, their ints
 * leaving padding behind. */
void fw_exp_table_snap(fw_exp_table *t, fw_snap *s)
{
    fw_snap_u32(s, &t->n_arms);
    if (fw_snap_loading(s) && !fw_snap_failed(s) && t->n_arms > FW_MAX_ARMS)
        fw_snap_fail(s, "an experiment table of %u arms (at most %d)", t->n_arms, FW_MAX_ARMS);
    snap_int(s, &t->have_pre);
    fw_snap_u32(s, &t->groups);
    fw_snap_u32(s, &t->days);
    fw_snap_u32(s, &t->planned);
    fw_snap_f64(s, &t->alpha);
    fw_snap_array(s, t->srm_chi2, FW_MAX_ARMS, sizeof *t->srm_chi2);
    fw_snap_array(s, t->srm_p, FW_MAX_ARMS, sizeof *t->srm_p);
    for (uint32_t a = 0; a < FW_MAX_ARMS; a++)
        for (int m = 0; m < FW_EM__COUNT; m++) {
            fw_exp_row *r = &t->row[a][m];
            snap_int(s, &r->ok);
            fw_snap_array(s, &r->abs, 1, sizeof r->abs);
            fw_snap_array(s, &r->rel, 1, sizeof r->rel);
            snap_int(s, &r->cuped);
            fw_snap_array(s, &r->cuped_abs, 1, sizeof r->cuped_abs);
            fw_snap_array(s, &r->cuped_rel, 1, sizeof r->cuped_rel);
            fw_snap_f64(s, &r->theta);
            fw_snap_f64(s, &r->mde);
            fw_snap_f64(s, &r->mde_rel);
            fw_snap_f64(s, &r->p);
            fw_snap_f64(s, &r->p_holm);
            fw_snap_f64(s, &r->p_bh);
            fw_snap_f64(s, &r->p_seq);
        }
    fw_snap_array(s, t->mom, (size_t)FW_MAX_ARMS * FW_EM__COUNT, sizeof t->mom[0][0]);
}

void fw_experiment_pct(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%+.2f%%", 100.0 * v);
    else
        snprintf(buf, n, "n/a");
}

/* A value to 4 significant digits, "n/a" when undefined. */
static void num(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.4g", v);
    else
        snprintf(buf, n, "n/a");
}

/* A p-value to 4 decimals, "n/a" when undefined (never "nan"). */
static void pval(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.4f", v);
    else
        snprintf(buf, n, "n/a");
}

void fw_experiment_print(const fw_scenario *s, const fw_assignment *a, const fw_exp_table *t,
                         FILE *f)
{
    if (!f || t->n_arms < 2)
        return;
    double alpha = s->experiment_alpha;
    fprintf(f, "\nexperiment: unit %s, %u units, alpha %g, %s; look %u of %u planned daily looks\n",
            fw_experiment_unit_name(s->experiment_unit), a->n_units, alpha,
            t->have_pre ? "CUPED on the pre-period" : "no CUPED", t->days, t->planned);
    if (t->groups > 1)
        fprintf(f, "  tests over %u learner groups per arm (each with its own learned state), as clusters: t with\n"
                   "   Welch df, so each learner's random path is in the standard errors (no CUPED on groups)\n",
                t->groups);
    /* The SRM test is undefined when the layer has no units (fw_stat_srm fails): n/a. */
    for (uint32_t l = 0; l < a->n_layers; l++) {
        if (s->layers[l].n_arms < 2)
            continue;
        if (isfinite(t->srm_chi2[l]) && isfinite(t->srm_p[l]))
            fprintf(f, "  layer %s: SRM chi2 %.3f p %.4f%s\n", s->layers[l].name, t->srm_chi2[l], t->srm_p[l],
                    t->srm_p[l] < 0.001 ? "  ** SAMPLE RATIO MISMATCH: do not trust these results **" : "");
        else
            fprintf(f, "  layer %s: SRM n/a (no units to test)\n", s->layers[l].name);
    }
    char ci_head[32];
    snprintf(ci_head, sizeof ci_head, "%g%% CI", 100 * (1 - alpha));
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
        fprintf(f, "  %-23s %-19s %10s %10s %10s %10s %10s %9s %21s %8s %7s %7s %7s  %s\n", "metric", "units",
                "control", "treatment", "cuped_ctl", "cuped_trt", "diff", "lift", ci_head, "MDE", "p", "p_holm",
                "p_seq", "flags");
        for (int m = 0; m < FW_EM__COUNT; m++) {
            const fw_exp_row *r = &t->row[arm][m];
            if (!fw_experiment_metric_applies(s, m))
                continue;
            if (!r->ok) {
                fprintf(f, "  %-23s %-19s %10s\n", fw_experiment_metric_name[m], fw_experiment_metric_unit[m],
                        "n/a (no variance)");
                continue;
            }
            const fw_stat_result *d = r->cuped ? &r->cuped_abs : &r->abs;
            const fw_stat_result *l = r->cuped ? &r->cuped_rel : &r->rel;
            char cc[32], ct[32], diff[32], lift[32], lo[32], hi[32], ci[80], mde[32], p[3][16], vc[32], vt[32];
            if (r->cuped) {
                num(cc, sizeof cc, r->cuped_abs.control);
                num(ct, sizeof ct, r->cuped_abs.treatment);
            } else {
                snprintf(cc, sizeof cc, "-");
                snprintf(ct, sizeof ct, "-");
            }
            if (isfinite(d->delta))
                snprintf(diff, sizeof diff, "%+.4g", d->delta);
            else
                snprintf(diff, sizeof diff, "n/a");
            num(vc, sizeof vc, r->abs.control);
            num(vt, sizeof vt, r->abs.treatment);
            fw_experiment_pct(lift, sizeof lift, l->delta);
            fw_experiment_pct(lo, sizeof lo, l->ci_lo);
            fw_experiment_pct(hi, sizeof hi, l->ci_hi);
            if (isfinite(l->ci_lo))
                snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
            else
                snprintf(ci, sizeof ci, "n/a");
            if (isfinite(r->mde_rel))
                snprintf(mde, sizeof mde, "%.2f%%", 100 * r->mde_rel);
            else
                num(mde, sizeof mde, r->mde);
            pval(p[0], sizeof p[0], r->p);
            pval(p[1], sizeof p[1], r->p_holm);
            pval(p[2], sizeof p[2], r->p_seq);
            fprintf(f, "  %-23s %-19s %10s %10s %10s %10s %10s %9s %21s %8s %7s %7s %7s  %s%s%s\n",
                    fw_experiment_metric_name[m], fw_experiment_metric_unit[m], vc, vt,
                    cc, ct, diff, lift, ci, mde, p[0], p[1], p[2], r->cuped ? "cuped " : "",
                    r->p_holm < alpha ? "significant " : "", r->p_seq < alpha ? "seq-significant" : "");
        }
    }
    fprintf(f, "  (control, treatment: the arms' estimates; cuped_ctl, cuped_trt: CUPED-adjusted, where applied;\n"
               "   diff: treatment - control (CUPED-adjusted where applied), the primary test, whose two-sided p is p;\n"
               "   lift: treatment / control - 1 with its log-ratio interval, n/a when the control is too sparse;\n"
               "   MDE: the |diff| the test detects with 80%% power, as %% of control; p_holm: Holm over the\n"
               "   metrics; p_seq: sequential test over the daily looks, valid however often one looks\n"
               "   (union-bound alpha spending); flags at alpha; all in /experiment, per look in /experiment/days)\n");
    if (s->experiment_isolation == FW_ISOLATION_PER_ARM && t->groups <= 1 && s->experiment_unit != FW_UNIT_CREATOR)
        fprintf(f, "  caution (isolation per_arm, learners_per_arm 1): each arm's models learn from its own users\n"
                   "   only, and the path each arm's learning takes is a difference between the arms that these\n"
                   "   per-user standard errors do not include (A/A runs of scenarios/aa.yaml: var(z) up to 4.4 for\n"
                   "   ad_ctr, 2.7 for product views, instead of 1). learners_per_arm 0 (auto) or above 1 puts it\n"
                   "   in the tests (README: \"Isolation and the standard errors\").\n");
}

void fw_experiment_values(const fw_scenario *s, const fw_assignment *a, const fw_user_aggs *g,
                          double out[FW_EM__COUNT])
{
    for (int m = 0; m < FW_EM__COUNT; m++) {
        double num = 0.0, den = 0.0;
        for (uint32_t u = 0; u < a->n_users && fw_experiment_metric_applies(s, m); u++)
            if (a->unit_of_user[u] != FW_NONE) {
                num += user_value(g, 1, fw_experiment_metric_num[m], u);
                den += user_value(g, 1, fw_experiment_metric_den[m], u);
            }
        out[m] = den > 0.0 ? num / den : NAN;
    }
}

/* The HDF5 writer of result files. Only code in sim/io/ includes hdf5.h (h5util, recorder,
 * results, bench_file); the HDF5 helpers it writes with are io/h5util.h's.
 *
 * Layout (DESIGN.md "Results"):
 *   /                       provenance attributes
 *   /days/day               int32 [days], dimension scale of every per-day dataset
 *   /days/<arm>/<metric>    uint64 counters and float64 rates [days], units + description
 *   /arms                   attributes per arm: weights and users assigned
 *   /world                  attributes summarising the generated world
 *   /latency/bin_lower_ns, /latency/bin_upper_ns   int64 [bins], the histogram layout
 *   /latency/<stage>/counts uint64 [days, bins]; p50 p90 p99 p999 max mean count [days]
 *   /users/<arm>/{user_id, unit_id}, /users/<arm>/{pre,exp}/<metric>   per-user counts
 *   /experiment/metric, /experiment/<arm>/<field>[metric]   tests against the first arm
 * Every dataset is chunked, deflated and extendible along days, with dimension labels. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

#include "io/h5util.h"
#include "io/recorder.h"

/* Percentiles stored per stage and day, in the order of stat_names in write_file. */
static const double pcts[] = {50.0, 90.0, 99.0, 99.9};
#define N_PCTS 4

/* A global series group: width int64 values per day (the shop's, ads' or market's books). */
typedef struct day_series {
    int64_t *v;     /* [cap * width] */
    uint32_t n, cap;
} day_series;

struct fw_recorder {
    fw_rec_info info;
    char *path, *partial, *tmp;
    char start_time[64];
    uint32_t n_days, cap_days;
    uint64_t *counters;     /* [cap_days * n_arms * FW_DC__COUNT] */
    int32_t n_bins;
    int64_t *bin_lower, *bin_upper;
    uint64_t *lat_counts;   /* [cap_days * FW_STAGE__COUNT * n_bins] */
    double *lat_stats;      /* [cap_days * FW_STAGE__COUNT * (N_PCTS + 3)] p.., max, mean, count */
    uint64_t *work;         /* [cap_days * FW_WORK__COUNT] */
    fw_model_stats *model;  /* [cap_model * FW_TASK__COUNT], days recorded with a recommender */
    uint32_t n_model, cap_model;
    day_series shop, ads, market;   /* the global books per day: /shop, /ads, /market */
    uint32_t n_tasks;       /* borrowed: the tasks' table */
    const int64_t *task_cols;
    uint32_t n_ad_brands;   /* borrowed */
    const int64_t *ad_spend, *ad_gmv;
    uint32_t n_brands;      /* borrowed: per-brand sales [n_arms * n_brands] */
    const int64_t *brand_units, *brand_revenue;
    const fw_assignment *asg;   /* borrowed */
    const fw_user_aggs *aggs;   /* borrowed */
    uint32_t pre_days;
    int have_exp;
    fw_exp_table exp;
    const char *exp_unit;
    double exp_alpha;
    uint32_t n_creators;        /* borrowed: creators and follower counts */
    const uint32_t *creator_user, *n_followers;
    uint32_t n_reps;            /* replicates, borrowed */
    const uint64_t *rep_seeds;
    const fw_exp_table *reps;
};

#define N_STATS (N_PCTS + 3)

static char *dup_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    return s;
}

static void iso_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

fw_recorder *fw_recorder_create(const char *path, const fw_rec_info *info)
{
    fw_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->info = *info;
    r->path = strdup(path);
    r->partial = dup_printf("%s.partial", path);
    r->tmp = dup_printf("%s.partial.tmp", path);
    if (!r->path || !r->partial || !r->tmp) {
        fw_recorder_destroy(r);
        return NULL;
    }
    iso_now(r->start_time, sizeof r->start_time);
    return r;
}

void fw_recorder_destroy(fw_recorder *r)
{
    if (!r)
        return;
    free(r->path);
    free(r->partial);
    free(r->tmp);
    free(r->counters);
    free(r->bin_lower);
    free(r->bin_upper);
    free(r->lat_counts);
    free(r->lat_stats);
    free(r->work);
    free(r->model);
    free(r->shop.v);
    free(r->ads.v);
    free(r->market.v);
    free(r);
}

void fw_recorder_set_users(fw_recorder *r, const fw_assignment *a, const fw_user_aggs *g,
                           uint32_t pre_days)
{
    r->asg = a;
    r->aggs = g;
    r->pre_days = pre_days;
}

void fw_recorder_set_experiment(fw_recorder *r, const fw_exp_table *t, const char *unit,
                                double alpha)
{
    r->exp = *t;
    r->have_exp = 1;
    r->exp_unit = unit;
    r->exp_alpha = alpha;
}

void fw_recorder_set_followers(fw_recorder *r, uint32_t n, const uint32_t *creator_user,
                               const uint32_t *n_followers)
{
    r->n_creators = n;
    r->creator_user = creator_user;
    r->n_followers = n_followers;
}

void fw_recorder_set_replicates(fw_recorder *r, uint32_t k, const uint64_t *seeds,
                                const fw_exp_table *tables)
{
    r->n_reps = k;
    r->rep_seeds = seeds;
    r->reps = tables;
}

const char *fw_recorder_path(const fw_recorder *r) { return r->path; }
const char *fw_recorder_partial_path(const fw_recorder *r) { return r->partial; }

fw_err fw_recorder_add_model(fw_recorder *r, const fw_model_stats *stats)
{
    if (r->n_model == r->cap_model) {
        uint32_t cap = r->cap_model ? 2 * r->cap_model : 16;
        fw_model_stats *m = realloc(r->model, (size_t)cap * FW_TASK__COUNT * sizeof *m);
        if (!m)
            return FW_ERR_NOMEM;
        r->model = m;
        r->cap_model = cap;
    }
    memcpy(&r->model[(size_t)r->n_model * FW_TASK__COUNT], stats, FW_TASK__COUNT * sizeof *stats);
    r->n_model++;
    return FW_OK;
}

/* Names, units and descriptions of the global series and the task table, from their lists. */
#define TBL_NAME(name, unit, doc) #name,
#define TBL_UNIT(name, unit, doc) unit,
#define TBL_DOC(name, unit, doc) doc,
#define TABLES(prefix, LIST, N)                                                                   \
    static const char *const prefix##_name[N] = {LIST(TBL_NAME)};                                 \
    static const char *const prefix##_unit[N] = {LIST(TBL_UNIT)};                                 \
    static const char *const prefix##_doc[N] = {LIST(TBL_DOC)};
TABLES(shop_series, FW_SHOP_DAY_SERIES, FW_SS__COUNT)
TABLES(ads_series, FW_ADS_DAY_SERIES, FW_AS__COUNT)
TABLES(market_series, FW_MARKET_DAY_SERIES, FW_MS__COUNT)
TABLES(task_field, FW_MARKET_TASK_FIELDS, FW_MF__COUNT)
#undef TABLES

static fw_err series_push(day_series *d, const int64_t *v, int width)
{
    if (d->n == d->cap) {
        uint32_t cap = d->cap ? 2 * d->cap : 16;
        int64_t *m = realloc(d->v, (size_t)cap * width * sizeof *m);
        if (!m)
            return FW_ERR_NOMEM;
        d->v = m;
        d->cap = cap;
    }
    memcpy(&d->v[(size_t)d->n * width], v, (size_t)width * sizeof *v);
    d->n++;
    return FW_OK;
}

fw_err fw_recorder_add_shop(fw_recorder *r, const int64_t *v) { return series_push(&r->shop, v, FW_SS__COUNT); }

fw_err fw_recorder_add_market(fw_recorder *r, const int64_t *v) { return series_push(&r->market, v, FW_MS__COUNT); }

void fw_recorder_set_market_tasks(fw_recorder *r, uint32_t n, const int64_t *cols)
{
    r->n_tasks = n;
    r->task_cols = cols;
}


fw_err fw_recorder_add_ads(fw_recorder *r, const int64_t *v) { return series_push(&r->ads, v, FW_AS__COUNT); }

void fw_recorder_set_ad_brands(fw_recorder *r, uint32_t n_brands, const int64_t *spend_cents,
                               const int64_t *gmv_cents)
{
    r->n_ad_brands = n_brands;
    r->ad_spend = spend_cents;
    r->ad_gmv = gmv_cents;
}


void fw_recorder_set_brands(fw_recorder *r, uint32_t n_brands, const int64_t *units,
                            const int64_t *revenue_cents)
{
    r->n_brands = n_brands;
    r->brand_units = units;
    r->brand_revenue = revenue_cents;
}


fw_err fw_recorder_add_day(fw_recorder *r, const uint64_t *counters, const fw_hist *lat,
                           const uint64_t *work)
{
    size_t per_day = (size_t)r->info.n_arms * FW_DC__COUNT;
    if (r->n_bins == 0) {
        r->n_bins = lat[0].n_counts;
        r->bin_lower = malloc((size_t)r->n_bins * sizeof *r->bin_lower);
        r->bin_upper = malloc((size_t)r->n_bins * sizeof *r->bin_upper);
        if (!r->bin_lower || !r->bin_upper)
            return FW_ERR_NOMEM;
        for (int32_t i = 0; i < r->n_bins; i++) {
            r->bin_lower[i] = fw_hist_bin_lower(&lat[0], i);
            r->bin_upper[i] = fw_hist_bin_upper(&lat[0], i);
        }
    }
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        if (lat[s].n_counts != r->n_bins)
            return FW_ERR_INVAL;
    if (r->n_days == r->cap_days) {
        uint32_t cap = r->cap_days ? 2 * r->cap_days : 16;
        uint64_t *c = realloc(r->counters, (size_t)cap * per_day * sizeof *c);
        if (!c)
            return FW_ERR_NOMEM;
        r->counters = c;
        uint64_t *lc = realloc(r->lat_counts, (size_t)cap * FW_STAGE__COUNT * r->n_bins * sizeof *lc);
        if (!lc)
            return FW_ERR_NOMEM;
        r->lat_counts = lc;
        double *ls = realloc(r->lat_stats, (size_t)cap * FW_STAGE__COUNT * N_STATS * sizeof *ls);
        if (!ls)
            return FW_ERR_NOMEM;
        r->lat_stats = ls;
        uint64_t *wk = realloc(r->work, (size_t)cap * FW_WORK__COUNT * sizeof *wk);
        if (!wk)
            return FW_ERR_NOMEM;
        r->work = wk;
        r->cap_days = cap;
    }
    uint32_t d = r->n_days;
    memcpy(&r->counters[d * per_day], counters, per_day * sizeof *counters);
    memcpy(&r->work[(size_t)d * FW_WORK__COUNT], work, FW_WORK__COUNT * sizeof *work);
    for (int s = 0; s < FW_STAGE__COUNT; s++) {
        memcpy(&r->lat_counts[((size_t)d * FW_STAGE__COUNT + s) * r->n_bins], lat[s].counts,
               (size_t)r->n_bins * sizeof(uint64_t));
        double *st = &r->lat_stats[((size_t)d * FW_STAGE__COUNT + s) * N_STATS];
        for (int p = 0; p < N_PCTS; p++)
            st[p] = (double)fw_hist_percentile(&lat[s], pcts[p]);
        st[N_PCTS] = lat[s].total ? (double)lat[s].max : 0.0;
        st[N_PCTS + 1] = fw_hist_mean(&lat[s]);
        st[N_PCTS + 2] = (double)lat[s].total;
    }
    r->n_days++;
    return FW_OK;
}

/* Writes a day_series as parent/days/<name>[day] (col: scratch of at least d->n values). */
static int write_series(hid_t parent, const char *doc, const day_series *d, int width,
                        const char *const *name, const char *const *unit, const char *const *docs,
                        unsigned z, int64_t *col)
{
    hid_t g = fw_h5_group(parent, "days", doc);
    if (g < 0)
        return -1;
    int rc = 0;
    for (int k = 0; k < width && rc == 0; k++) {
        for (uint32_t i = 0; i < d->n; i++)
            col[i] = d->v[(size_t)i * width + k];
        rc = fw_h5_write_1d(g, name[k], H5T_STD_I64LE, H5T_NATIVE_INT64, d->n, col, z, unit[k], docs[k], -1,
                            "day");
    }
    H5Gclose(g);
    return rc;
}

/* /users/<arm>/: the users of each arm, their units, and their counts per period. */
static int write_users(fw_recorder *r, hid_t f)
{
    const fw_assignment *a = r->asg;
    const fw_user_aggs *g = r->aggs;
    unsigned z = r->info.compression;
    int rc = -1;
    hid_t gu = -1, ga = -1, gp = -1;
    uint32_t *ids = malloc(((size_t)a->n_users + 1) * sizeof *ids);
    uint32_t *col = malloc(((size_t)a->n_users + 1) * sizeof *col);
    if (!ids || !col)
        goto done;
    if ((gu = fw_h5_group(f, "users", "per-user counts of the pre-period (pre/) and the experiment "
                                      "period (exp/), by arm: the raw material of /experiment")) < 0 ||
        fw_h5_attr_i64(gu, "pre_days", r->pre_days) < 0)
        goto done;
    for (uint32_t arm = 0; arm < a->n_arms; arm++) {
        hsize_t n = 0;
        const uint8_t *arm_of = a->arm_of_user[a->layer_of_arm[arm]];
        for (uint32_t u = 0; u < a->n_users; u++)
            if (arm_of[u] == arm)
                ids[n++] = u;
        if ((ga = fw_h5_group(gu, r->info.arm_names[arm], NULL)) < 0)
            goto done;
        if (fw_h5_write_1d(ga, "user_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, n, ids, z, "1", "user id", -1,
                           "user") < 0)
            goto done;
        for (hsize_t k = 0; k < n; k++) {
            uint32_t unit = a->unit_of_user[ids[k]];
            col[k] = unit == FW_NONE ? FW_NONE : a->unit_id[unit];
        }
        if (fw_h5_write_1d(ga, "unit_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, n, col, z, "1",
                           "randomisation unit (the user, the top creator of the user's cluster, or "
                           "4294967295 for users who are no unit: non-creators in creator experiments)",
                           -1, "user") < 0)
            goto done;
        static const char *const periods[2] = {"pre", "exp"};
        for (int p = 0; p < 2; p++) {
            if ((gp = fw_h5_group(ga, periods[p], p ? "experiment period" : "pre-period")) < 0)
                goto done;
            for (int m = 0; m < FW_UM__COUNT; m++) {
                for (hsize_t k = 0; k < n; k++)
                    col[k] = g->v[p][m][ids[k]];
                if (fw_h5_write_1d(gp, fw_user_metric_name[m], H5T_STD_U32LE, H5T_NATIVE_UINT32, n, col, z,
                                   fw_user_metric_unit[m], fw_user_metric_doc[m], -1, "user") < 0)
                    goto done;
            }
            H5Gclose(gp);
            gp = -1;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    if (gp >= 0)
        H5Gclose(gp);
    if (ga >= 0)
        H5Gclose(ga);
    if (gu >= 0)
        H5Gclose(gu);
    free(ids);
    free(col);
    return rc;
}

/* /experiment: one dataset per field and treatment arm, indexed by /experiment/metric. */
static int write_experiment(fw_recorder *r, hid_t f)
{
    const fw_exp_table *t = &r->exp;
    unsigned z = r->info.compression;
    hsize_t n = FW_EM__COUNT;
    int rc = -1;
    hid_t ge = -1, ga = -1, ds = -1;
    if ((ge = fw_h5_group(f, "experiment", "each treatment arm against the first arm, per metric; "
                                           "relative lifts by the delta method, Welch df")) < 0 ||
        fw_h5_attr_str(ge, "unit", r->exp_unit) < 0 || fw_h5_attr_f64(ge, "alpha", r->exp_alpha) < 0 ||
        fw_h5_attr_f64(ge, "srm_chi2", t->srm_chi2[0]) < 0 || fw_h5_attr_f64(ge, "srm_p", t->srm_p[0]) < 0 ||
        fw_h5_attr_i64(ge, "days", t->days) < 0 || fw_h5_attr_i64(ge, "cuped", t->have_pre) < 0)
        goto done;
    /* The metric names, a dimension scale of every field. */
    if (fw_h5_write_strings(ge, "metric", fw_experiment_metric_name, n, NULL, NULL) < 0 ||
        (ds = H5Dopen2(ge, "metric", H5P_DEFAULT)) < 0 || H5DSset_scale(ds, "metric") < 0 ||
        fw_h5_attr_str(ds, "description", "the metrics tested, in the order of every field's rows") < 0)
        goto done;
    enum { N_FIELDS = 22 };
    static const char *const fields[N_FIELDS] = {
        "control", "treatment", "lift", "lift_se", "lift_ci_lo", "lift_ci_hi", "lift_p",
        "delta", "delta_se", "delta_ci_lo", "delta_ci_hi", "delta_p", "cuped", "cuped_lift",
        "cuped_ci_lo", "cuped_ci_hi", "cuped_p", "cuped_theta", "p", "p_holm", "p_bh", "p_msprt"};
    static const char *const docs[N_FIELDS] = {
        "control estimate (mean per user or ratio of sums)", "treatment estimate",
        "relative lift treatment / control - 1", "standard error of the lift",
        "lower CI bound of the lift", "upper CI bound of the lift", "two-sided p of the lift",
        "absolute difference treatment - control", "standard error of the difference",
        "lower CI bound of the difference", "upper CI bound of the difference",
        "two-sided p of the difference", "1 when CUPED was applied (pre-period covariate)",
        "CUPED-adjusted relative lift", "lower CI bound of the CUPED lift",
        "upper CI bound of the CUPED lift", "two-sided p of the CUPED lift",
        "CUPED coefficient theta (pooled)", "primary p: CUPED's when applied, else lift_p",
        "p Holm-adjusted over the arm's metrics", "p Benjamini-Hochberg-adjusted",
        "always-valid p (mSPRT running minimum over daily looks)"};
    double col[FW_EM__COUNT];
    for (uint32_t arm = 0; arm < t->n_arms; arm++) {
        uint32_t ctl = r->asg->control_of_arm[arm];
        if (arm == ctl)
            continue;
        if ((ga = fw_h5_group(ge, r->info.arm_names[arm], NULL)) < 0 ||
            fw_h5_attr_str(ga, "control", r->info.arm_names[ctl]) < 0 ||
            fw_h5_attr_str(ga, "layer", r->info.arm_layers[arm]) < 0 ||
            fw_h5_attr_f64(ga, "srm_chi2", t->srm_chi2[r->asg->layer_of_arm[arm]]) < 0 ||
            fw_h5_attr_f64(ga, "srm_p", t->srm_p[r->asg->layer_of_arm[arm]]) < 0)
            goto done;
        for (int k = 0; k < N_FIELDS; k++) {
            for (int m = 0; m < FW_EM__COUNT; m++) {
                const fw_exp_row *w = &t->row[arm][m];
                const fw_stat_result *c = &w->cuped_rel;
                double v[N_FIELDS] = {
                    w->rel.control, w->rel.treatment, w->rel.delta, w->rel.se, w->rel.ci_lo,
                    w->rel.ci_hi, w->rel.p, w->abs.delta, w->abs.se, w->abs.ci_lo, w->abs.ci_hi,
                    w->abs.p, w->cuped, w->cuped ? c->delta : NAN, w->cuped ? c->ci_lo : NAN,
                    w->cuped ? c->ci_hi : NAN, w->cuped ? c->p : NAN, w->cuped ? w->theta : NAN,
                    w->p, w->p_holm, w->p_bh, w->p_msprt};
                col[m] = w->ok || k == 12 ? v[k] : NAN;
            }
            hid_t d = fw_h5_dataset(ga, fields[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, &n, z, col,
                                    "1", docs[k], (const char *const[]){"metric"});
            if (d < 0)
                goto done;
            herr_t e = H5DSattach_scale(d, ds, 0);
            H5Dclose(d);
            if (e < 0)
                goto done;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    if (ga >= 0)
        H5Gclose(ga);
    if (ds >= 0)
        H5Dclose(ds);
    if (ge >= 0)
        H5Gclose(ge);
    return rc;
}

/* /replicates: each replicate's tests, [replicate, metric] per field and treatment arm. */
static int write_replicates(fw_recorder *r, hid_t f)
{
    uint32_t K = r->n_reps, A = r->info.n_arms;
    unsigned z = r->info.compression;
    int rc = -1;
    hid_t gr = -1, ga = -1;
    enum { N_FIELDS = 9 };
    static const char *const fields[N_FIELDS] = {"lift", "lift_se", "lift_ci_lo", "lift_ci_hi",
                                                 "cuped_lift", "cuped_ci_lo", "cuped_ci_hi", "p",
                                                 "p_msprt"};
    static const char *const docs[N_FIELDS] = {
        "relative lift", "standard error of the lift", "lower CI bound of the lift",
        "upper CI bound of the lift", "CUPED-adjusted lift (NaN without CUPED)",
        "lower CI bound of the CUPED lift", "upper CI bound of the CUPED lift",
        "primary p (CUPED's when applied)", "always-valid p (mSPRT, daily looks)"};
    double *buf = malloc(((size_t)K * FW_EM__COUNT + 1) * sizeof *buf);
    if (!buf)
        return -1;
    if ((gr = fw_h5_group(f, "replicates",
                          "the experiment rerun with other seeds: per replicate and metric, the tests "
                          "of /experiment (replicate 0 is this file's run)")) < 0 ||
        fw_h5_write_1d(gr, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, K, r->rep_seeds, z, "1",
                       "seed of each replicate", -1, "replicate") < 0)
        goto done;
    for (uint32_t k = 0; k < K; k++)
        buf[k] = r->reps[k].srm_p[0];
    if (fw_h5_write_1d(gr, "srm_p", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, K, buf, z, "1",
                       "sample ratio mismatch p of each replicate (first layer)", -1, "replicate") < 0)
        goto done;
    for (uint32_t arm = 0; arm < A; arm++) {
        uint32_t ctl = r->asg->control_of_arm[arm];
        if (arm == ctl)
            continue;
        if ((ga = fw_h5_group(gr, r->info.arm_names[arm], NULL)) < 0 ||
            fw_h5_attr_str(ga, "control", r->info.arm_names[ctl]) < 0)
            goto done;
        for (int fi = 0; fi < N_FIELDS; fi++) {
            for (uint32_t k = 0; k < K; k++)
                for (int m = 0; m < FW_EM__COUNT; m++) {
                    const fw_exp_row *w = &r->reps[k].row[arm][m];
                    const fw_stat_result *c = &w->cuped_rel;
                    double v[N_FIELDS] = {w->rel.delta, w->rel.se, w->rel.ci_lo, w->rel.ci_hi,
                                          w->cuped ? c->delta : NAN, w->cuped ? c->ci_lo : NAN,
                                          w->cuped ? c->ci_hi : NAN, w->p, w->p_msprt};
                    buf[(size_t)k * FW_EM__COUNT + m] = w->ok ? v[fi] : NAN;
                }
            hsize_t dims[2] = {K, FW_EM__COUNT};
            const char *labels[2] = {"replicate", "metric"};
            hid_t d = fw_h5_dataset(ga, fields[fi], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, dims, z,
                                    buf, "1", docs[fi], labels);
            if (d < 0)
                goto done;
            H5Dclose(d);
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    if (ga >= 0)
        H5Gclose(ga);
    if (gr >= 0)
        H5Gclose(gr);
    free(buf);
    return rc;
}

static int write_file(fw_recorder *r, const char *status, double wall_s, double rss_mb)
{
    const fw_rec_info *in = &r->info;
    uint32_t D = r->n_days, A = in->n_arms;
    unsigned z = in->compression;
    size_t per_day = (size_t)A * FW_DC__COUNT;
    hid_t f = -1, g = -1, ga = -1, day_ds = -1, bin_ds = -1, gs = -1;
    int rc = -1;
    char end_time[64];
    double *col = malloc(((size_t)D + 1) * sizeof *col);
    uint64_t *ucol = malloc(((size_t)D + 1) * sizeof *ucol);
    int32_t *days = malloc(((size_t)D + 1) * sizeof *days);
    if (!col || !ucol || !days)
        goto done;

    if ((f = H5Fcreate(r->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto done;
    /* /world */
    if ((g = H5Gcreate2(f, "world", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
        fw_h5_attr_u64(g, "n_users", in->n_users) < 0 || fw_h5_attr_u64(g, "n_creators", in->n_creators) < 0 ||
        fw_h5_attr_u64(g, "n_notes_initial", in->n_notes_initial) < 0 ||
        fw_h5_attr_u64(g, "n_follow_edges", in->n_follow_edges) < 0 ||
        fw_h5_attr_u64(g, "n_brands", in->n_brands) < 0 || fw_h5_attr_u64(g, "n_products", in->n_products) < 0 ||
        fw_h5_attr_f64(g, "expected_dau_mau", in->expected_dau_mau) < 0 ||
        fw_h5_attr_f64(g, "follower_gini", in->follower_gini) < 0 ||
        fw_h5_attr_f64(g, "top1pct_creator_follower_share", in->top1pct_follower_share) < 0 ||
        fw_h5_attr_f64(g, "top10pct_creator_note_share", in->top10pct_creator_note_share) < 0)
        goto done;
    if (r->creator_user) {
        uint32_t *fol = malloc(((size_t)r->n_creators + 1) * sizeof *fol);
        if (!fol)
            goto done;
        for (uint32_t c = 0; c < r->n_creators; c++)
            fol[c] = r->n_followers[r->creator_user[c]];
        int e = fw_h5_write_1d(g, "creator_followers", H5T_STD_U32LE, H5T_NATIVE_UINT32, r->n_creators,
                               fol, z, "users", "followers of each creator as of the last finished day",
                               -1, "creator");
        free(fol);
        if (e < 0)
            goto done;
    }
    H5Gclose(g);
    g = -1;

    /* /arms */
    if ((g = H5Gcreate2(f, "arms", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto done;
    for (uint32_t a = 0; a < A; a++) {
        if ((ga = H5Gcreate2(g, in->arm_names[a], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
            fw_h5_attr_f64(ga, "weight", in->arm_weights[a]) < 0 ||
            fw_h5_attr_str(ga, "layer", in->arm_layers[a]) < 0 ||
            fw_h5_attr_u64(ga, "users", in->arm_users[a]) < 0)
            goto done;
        H5Gclose(ga);
        ga = -1;
    }
    H5Gclose(g);
    g = -1;

    /* /days */
    if ((g = H5Gcreate2(f, "days", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto done;
    for (uint32_t d = 0; d < D; d++)
        days[d] = (int32_t)d;
    if (fw_h5_write_1d(g, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, D, days, z, "day",
                       "simulated day index (0 = first simulated day)", -1, "day") < 0)
        goto done;
    if ((day_ds = H5Dopen2(g, "day", H5P_DEFAULT)) < 0 || H5DSset_scale(day_ds, "day") < 0)
        goto done;
    for (uint32_t a = 0; a < A; a++) {
        if ((ga = H5Gcreate2(g, in->arm_names[a], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
            goto done;
        for (int c = 0; c < FW_DC__COUNT; c++) {
            for (uint32_t d = 0; d < D; d++)
                ucol[d] = r->counters[d * per_day + (size_t)a * FW_DC__COUNT + c];
            if (fw_h5_write_1d(ga, fw_day_counter_name[c], H5T_STD_U64LE, H5T_NATIVE_UINT64, D, ucol, z,
                               fw_day_counter_unit[c], fw_day_counter_doc[c], day_ds, "day") < 0)
                goto done;
        }
        for (int k = 0; k < FW_DR__COUNT; k++) {
            for (uint32_t d = 0; d < D; d++) {
                double rates[FW_DR__COUNT];
                fw_metrics_rates(&r->counters[d * per_day + (size_t)a * FW_DC__COUNT], rates);
                col[d] = rates[k];
            }
            if (fw_h5_write_1d(ga, fw_day_rate_name[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, D, col, z,
                               fw_day_rate_unit[k], fw_day_rate_doc[k], day_ds, "day") < 0)
                goto done;
        }
        H5Gclose(ga);
        ga = -1;
    }

    /* /work: the engine's work per day -- deterministic, unlike its latency. */
    if ((gs = fw_h5_group(f, "work", "work the engine did per day, counted (deterministic: "
                                     "compare exactly across runs and builds)")) < 0)
        goto done;
    for (int k = 0; k < FW_WORK__COUNT; k++) {
        for (uint32_t d = 0; d < D; d++)
            ucol[d] = r->work[(size_t)d * FW_WORK__COUNT + k];
        if (fw_h5_write_1d(gs, fw_work_name(k), H5T_STD_U64LE, H5T_NATIVE_UINT64, D, ucol, z, "count",
                           fw_work_doc(k), -1, "day") < 0)
            goto done;
    }
    H5Gclose(gs);
    gs = -1;

    /* /model: the recommender's progressive validation per task and day (deterministic). */
    if (r->n_model > 0) {
        if ((gs = fw_h5_group(f, "model",
                              "the recommender's ranking models per day: each training sample predicted "
                              "before it is learned from (progressive validation); weights undo negative "
                              "sampling")) < 0)
            goto done;
        uint32_t M = r->n_model;
        for (int t = 0; t < FW_TASK__COUNT; t++) {
            if ((ga = fw_h5_group(gs, fw_rec_task_name(t), fw_rec_task_doc(t))) < 0)
                goto done;
            for (uint32_t d = 0; d < M; d++)
                ucol[d] = r->model[(size_t)d * FW_TASK__COUNT + t].samples;
            if (fw_h5_write_1d(ga, "samples", H5T_STD_U64LE, H5T_NATIVE_UINT64, M, ucol, z, "samples",
                               "training samples of the day", -1, "day") < 0)
                goto done;
            static const char *const names[3] = {"log_loss", "predicted", "observed"};
            static const char *const docs[3] = {
                "mean log loss of the predictions (weighted)",
                "mean predicted probability (calibration: compare with observed)",
                "observed rate of the label"};
            for (int k = 0; k < 3; k++) {
                for (uint32_t d = 0; d < M; d++) {
                    const fw_model_stats *ms = &r->model[(size_t)d * FW_TASK__COUNT + t];
                    double num = k == 0 ? ms->log_loss : k == 1 ? ms->predicted : ms->observed;
                    col[d] = ms->weight > 0.0 ? num / ms->weight : NAN;
                }
                if (fw_h5_write_1d(ga, names[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, M, col, z, "1", docs[k], -1,
                                   "day") < 0)
                    goto done;
            }
            H5Gclose(ga);
            ga = -1;
        }
        H5Gclose(gs);
        gs = -1;
    }

    /* /shop: the books per day and per-brand sales (deterministic). */
    if (r->shop.n > 0) {
        if ((gs = fw_h5_group(f, "shop", "the shop's books (global: every arm buys from the same stock) "
                                         "and per-brand sales per arm")) < 0 ||
            write_series(gs, "the shop's books at each day's end", &r->shop, FW_SS__COUNT, shop_series_name,
                         shop_series_unit, shop_series_doc, z, (int64_t *)ucol) < 0)
            goto done;
        if (r->n_brands > 0 && r->brand_units && r->brand_revenue) {
            hsize_t dims[2] = {r->info.n_arms, r->n_brands};
            hsize_t chunk[2] = {1, r->n_brands < 4096 ? r->n_brands : 4096};
            const char *labels[2] = {"arm", "brand"};
            /* Rows are the scenario's arms in its order, named by the attribute "arms". */
            size_t len = 1;
            for (uint32_t a = 0; a < r->info.n_arms; a++)
                len += strlen(r->info.arm_names[a]) + 1;
            char *names = calloc(len, 1);
            if (!names)
                goto done;
            for (uint32_t a = 0; a < r->info.n_arms; a++) {
                strcat(names, r->info.arm_names[a]);
                if (a + 1 < r->info.n_arms)
                    strcat(names, "\n");
            }
            static const char *const bname[2] = {"brand_units", "brand_revenue_cents"};
            static const char *const bunit[2] = {"units", "cents"};
            static const char *const bdoc[2] = {
                "net units sold to date per arm (row; the arms attribute names them) and brand",
                "net revenue (payments minus refunds) to date per arm (row) and brand"};
            for (int k = 0; k < 2; k++) {
                hid_t ds = fw_h5_dataset(gs, bname[k], H5T_STD_I64LE, H5T_NATIVE_INT64, 2, dims, chunk, z,
                                         k ? r->brand_revenue : r->brand_units, bunit[k], bdoc[k], labels);
                int bad = ds < 0 || fw_h5_attr_str(ds, "arms", names) < 0;
                if (ds >= 0)
                    H5Dclose(ds);
                if (bad) {
                    free(names);
                    goto done;
                }
            }
            free(names);
        }
        H5Gclose(gs);
        gs = -1;
    }

    /* /ads: the books per day and per-brand spend and attributed GMV (deterministic). */
    if (r->ads.n > 0) {
        if ((gs = fw_h5_group(f, "ads", "the ads' books (global: campaigns serve every arm) and per-brand "
                                        "spend and attributed GMV")) < 0 ||
            write_series(gs, "the ads' books at each day's end", &r->ads, FW_AS__COUNT, ads_series_name,
                         ads_series_unit, ads_series_doc, z, (int64_t *)ucol) < 0)
            goto done;
        if (r->n_ad_brands && r->ad_spend && r->ad_gmv &&
            (fw_h5_write_1d(gs, "brand_spend_cents", H5T_STD_I64LE, H5T_NATIVE_INT64, r->n_ad_brands,
                            r->ad_spend, z, "cents", "ad spend to date per brand", -1, "brand") < 0 ||
             fw_h5_write_1d(gs, "brand_attributed_gmv_cents", H5T_STD_I64LE, H5T_NATIVE_INT64, r->n_ad_brands,
                            r->ad_gmv, z, "cents",
                            "GMV of the orders attributed to the brand's ads, to date (ROAS = this / spend)",
                            -1, "brand") < 0))
            goto done;
        H5Gclose(gs);
        gs = -1;
    }

    /* /market: the marketplace per day and its tasks (deterministic). */
    if (r->market.n > 0) {
        if ((gs = fw_h5_group(f, "market", "the brand-creator marketplace (global)")) < 0 ||
            write_series(gs, "the marketplace at each day's end", &r->market, FW_MS__COUNT, market_series_name,
                         market_series_unit, market_series_doc, z, (int64_t *)ucol) < 0)
            goto done;
        if ((ga = fw_h5_group(gs, "tasks", "every task posted, as of the last day's end")) < 0)
            goto done;
        for (int k = 0; k < FW_MF__COUNT && r->n_tasks > 0 && r->task_cols; k++)
            if (fw_h5_write_1d(ga, task_field_name[k], H5T_STD_I64LE, H5T_NATIVE_INT64, r->n_tasks,
                               r->task_cols ? r->task_cols + (size_t)k * r->n_tasks : NULL, z,
                               task_field_unit[k], task_field_doc[k], -1, "task") < 0)
                goto done;
        H5Gclose(ga);
        ga = -1;
        H5Gclose(gs);
        gs = -1;
    }

    /* Deterministic groups before /latency, whose compressed sizes vary from run to run and
     * would move these datasets (and the object references of their dimension scales). */
    if ((r->asg && write_users(r, f) < 0) || (r->asg && r->have_exp && write_experiment(r, f) < 0) ||
        (r->asg && r->n_reps > 1 && write_replicates(r, f) < 0))
        goto done;

    /* /latency */
    if ((gs = fw_h5_group(f, "latency",
                          "measured engine latency (CLOCK_MONOTONIC) per stage and day; log-linear "
                          "histograms, not deterministic")) < 0)
        goto done;
    /* Its own day scale: attaching /days/day here would put references to these measured,
     * run-dependent datasets into the deterministic part of the file. */
    H5Dclose(day_ds);
    day_ds = -1;
    if (fw_h5_write_1d(gs, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, D, days, z, "day",
                       "simulated day index", -1, "day") < 0 ||
        (day_ds = H5Dopen2(gs, "day", H5P_DEFAULT)) < 0 || H5DSset_scale(day_ds, "day") < 0)
        goto done;
    if (r->n_bins > 0) {
        hsize_t nb = (hsize_t)r->n_bins;
        hsize_t chunk = nb;
        const char *bl[1] = {"bin"};
        hid_t ds = fw_h5_dataset(gs, "bin_lower_ns", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &nb, &chunk, z,
                                 r->bin_lower, "ns", "inclusive lower edge of each histogram bin", bl);
        if (ds < 0 || H5DSset_scale(ds, "bin_lower_ns") < 0) {
            if (ds >= 0)
                H5Dclose(ds);
            goto done;
        }
        bin_ds = ds;
        if (fw_h5_write_1d(gs, "bin_upper_ns", H5T_STD_I64LE, H5T_NATIVE_INT64, nb, r->bin_upper, z, "ns",
                           "exclusive upper edge of each histogram bin", -1, "bin") < 0)
            goto done;
    }
    for (int s = 0; s < FW_STAGE__COUNT; s++) {
        if ((ga = fw_h5_group(gs, fw_stage_name(s), fw_stage_doc(s))) < 0)
            goto done;
        if (r->n_bins > 0) {
            uint64_t *counts = malloc(((size_t)D + 1) * r->n_bins * sizeof *counts);
            if (!counts)
                goto done;
            for (uint32_t d = 0; d < D; d++)
                memcpy(&counts[(size_t)d * r->n_bins],
                       &r->lat_counts[((size_t)d * FW_STAGE__COUNT + s) * r->n_bins],
                       (size_t)r->n_bins * sizeof *counts);
            hsize_t dims[2] = {D, (hsize_t)r->n_bins}, chunk[2] = {1, (hsize_t)r->n_bins};
            const char *labels[2] = {"day", "bin"};
            hid_t ds = fw_h5_dataset(ga, "counts", H5T_STD_U64LE, H5T_NATIVE_UINT64, 2, dims, chunk,
                                     z ? z : 1, counts, "calls", "calls per latency bin per day", labels);
            free(counts);
            if (ds < 0)
                goto done;
            herr_t e1 = D > 0 ? H5DSattach_scale(ds, day_ds, 0) : 0;
            herr_t e2 = H5DSattach_scale(ds, bin_ds, 1);
            H5Dclose(ds);
            if (e1 < 0 || e2 < 0)
                goto done;
        }
        static const char *const stat_names[N_STATS] = {"p50", "p90", "p99", "p999", "max", "mean", "count"};
        static const char *const stat_docs[N_STATS] = {
            "median latency", "90th percentile latency", "99th percentile latency",
            "99.9th percentile latency", "largest latency", "mean latency", "calls timed"};
        for (int k = 0; k < N_STATS; k++) {
            for (uint32_t d = 0; d < D; d++)
                col[d] = r->lat_stats[((size_t)d * FW_STAGE__COUNT + s) * N_STATS + k];
            if (fw_h5_write_1d(ga, stat_names[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, D, col, z,
                               k == N_STATS - 1 ? "calls" : "ns", stat_docs[k], day_ds, "day") < 0)
                goto done;
        }
        H5Gclose(ga);
        ga = -1;
    }
    /* Provenance last: measured values (times, threads) vary between runs, and writing them
     * after every dataset keeps the deterministic datasets' layout identical. */
    iso_now(end_time, sizeof end_time);
    if (fw_h5_attr_str(f, "flywheel_version", in->version) < 0 ||
        fw_h5_attr_str(f, "git_revision", in->git_revision) < 0 ||
        fw_h5_attr_str(f, "scenario_name", in->scenario_name) < 0 ||
        fw_h5_attr_str(f, "scenario_path", in->scenario_path) < 0 ||
        fw_h5_attr_str(f, "scenario_text", in->scenario_text) < 0 ||
        fw_h5_attr_str(f, "scenario_resolved", in->scenario_resolved) < 0 ||
        fw_h5_attr_str(f, "overrides", in->overrides) < 0 || fw_h5_attr_u64(f, "seed", in->seed) < 0 ||
        fw_h5_attr_i64(f, "threads", in->threads) < 0 || fw_h5_attr_str(f, "start_time", r->start_time) < 0 ||
        fw_h5_attr_str(f, "end_time", end_time) < 0 || fw_h5_attr_str(f, "status", status) < 0 ||
        fw_h5_attr_i64(f, "days_planned", in->days_planned) < 0 ||
        fw_h5_attr_i64(f, "days_completed", D) < 0 || fw_h5_attr_i64(f, "ticks_per_day", in->ticks_per_day) < 0 ||
        fw_h5_attr_f64(f, "wall_seconds", wall_s) < 0 || fw_h5_attr_f64(f, "peak_rss_mib", rss_mb) < 0 ||
        fw_h5_attr_f64(f, "generation_seconds", in->generation_s) < 0 ||
        fw_h5_attr_f64(f, "generation_peak_rss_mib", in->generation_peak_rss_mb) < 0)
        goto done;

    rc = 0;
done:
    if (bin_ds >= 0)
        H5Dclose(bin_ds);
    if (day_ds >= 0)
        H5Dclose(day_ds);
    if (ga >= 0)
        H5Gclose(ga);
    if (g >= 0)
        H5Gclose(g);
    if (gs >= 0)
        H5Gclose(gs);
    if (f >= 0 && H5Fclose(f) < 0)
        rc = -1;
    free(col);
    free(ucol);
    free(days);
    return rc;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

fw_err fw_recorder_write(fw_recorder *r, const char *status, double wall_s, double peak_rss_mb,
                         char *errbuf, size_t errlen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);  /* we report failures ourselves, with the path */
    int complete = strcmp(status, "complete") == 0;
    if (write_file(r, status, wall_s, peak_rss_mb) < 0) {
        int e = errno;
        unlink(r->tmp);
        snprintf(errbuf, errlen, "cannot write result file %s: %s", r->tmp,
                 e ? strerror(e) : "HDF5 error");
        return FW_ERR_IO;
    }
    if (sync_file(r->tmp) < 0 || rename(r->tmp, r->partial) < 0) {
        snprintf(errbuf, errlen, "cannot move %s to %s: %s", r->tmp, r->partial, strerror(errno));
        unlink(r->tmp);
        return FW_ERR_IO;
    }
    if (complete && rename(r->partial, r->path) < 0) {
        snprintf(errbuf, errlen, "cannot move %s to %s: %s", r->partial, r->path, strerror(errno));
        return FW_ERR_IO;
    }
    return FW_OK;
}

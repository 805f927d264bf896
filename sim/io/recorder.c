/* The HDF5 writer of result files. Only code in sim/io/ includes hdf5.h (h5util, recorder,
 * results, bench_file); the HDF5 helpers it writes with are io/h5util.h's.
 *
 * Layout (DESIGN.md "Results"):
 *   /                       provenance attributes
 *   /world                  attributes summarising the generated world
 *   /arms                   attributes per arm: weights and users assigned
 *   /days/day               int32 [days], dimension scale of every per-day dataset
 *   /days/<arm>/<metric>    uint64 counters and float64 rates [days], units + description
 *   /work/<counter>         uint64 [days]: the engine's work
 *   ...                     what the parts describe: groups, day series, tables
 *   /users/<arm>/{user_id, unit_id}, /users/<arm>/{pre,exp}/<metric>   per-user counts
 *   /experiment/metric, /experiment/<arm>/<field>[metric]   tests against the first arm
 *   /replicates/...         with replicates
 *   /latency/bin_lower_ns, /latency/bin_upper_ns   int64 [bins], the histogram layout
 *   /latency/<stage>/counts uint64 [days, bins]; p50 p90 p99 p999 max mean count [days]
 * Every dataset is chunked, deflated and extendible along days, with dimension labels.
 * write_file is the sequence of section writers in `sections`, deterministic ones first. */
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

/* Percentiles stored per stage and day, in the order of stat_names in write_latency. */
static const double pcts[] = {50.0, 90.0, 99.0, 99.9};
#define N_PCTS 4
#define N_STATS (N_PCTS + 3)

/* A registered group: its path, description, and the top-level group it lies in. */
typedef struct rec_group {
    char *path;
    const char *doc;
    uint32_t root;          /* index of its top-level group (itself when top-level) */
} rec_group;

/* A registered day series: n_cols columns of one type, one row a day. */
typedef struct rec_series {
    uint32_t group;
    fw_rec_type type;
    uint32_t n_cols;
    const fw_counter_desc *cols;
    unsigned char *rows;    /* [cap_rows * n_cols * element size] */
    uint32_t n_rows, cap_rows;
} rec_series;

/* A registered table. */
typedef struct rec_table {
    uint32_t group;
    const char *name;       /* points into path */
    char *path;
    fw_rec_table t;
} rec_table;

struct fw_recorder {
    fw_rec_info info;
    char *path, *partial, *tmp;
    char start_time[64];
    uint32_t n_days, cap_days;
    uint64_t *counters;     /* [cap_days * n_arms * n_counters] */
    int32_t n_bins;
    int64_t *bin_lower, *bin_upper;
    uint64_t *lat_counts;   /* [cap_days * FW_STAGE__COUNT * n_bins] */
    double *lat_stats;      /* [cap_days * FW_STAGE__COUNT * N_STATS] p.., max, mean, count */
    uint64_t *work;         /* [cap_days * FW_WORK__COUNT] */
    rec_group *group;       /* registered, parents before children */
    uint32_t n_group, cap_group;
    rec_series *series;
    uint32_t n_series, cap_series;
    rec_table *table;
    uint32_t n_table, cap_table;
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
    uint32_t cf_days;           /* counterfactual values, borrowed: [arm][cf_days][metric] */
    const double *cf;
};

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
    for (uint32_t k = 0; k < r->n_group; k++)
        free(r->group[k].path);
    for (uint32_t k = 0; k < r->n_series; k++)
        free(r->series[k].rows);
    for (uint32_t k = 0; k < r->n_table; k++)
        free(r->table[k].path);
    free(r->group);
    free(r->series);
    free(r->table);
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

void fw_recorder_set_counterfactual(fw_recorder *r, uint32_t days, const double *cf)
{
    r->cf_days = days;
    r->cf = cf;
}

const char *fw_recorder_path(const fw_recorder *r) { return r->path; }
const char *fw_recorder_partial_path(const fw_recorder *r) { return r->partial; }

/* ---- what the parts describe ------------------------------------------------------------ */

static size_t type_size(fw_rec_type t) { return t == FW_REC_U32 ? 4 : 8; }

static hid_t file_type(fw_rec_type t)
{
    switch (t) {
    case FW_REC_I64: return H5T_STD_I64LE;
    case FW_REC_U64: return H5T_STD_U64LE;
    case FW_REC_U32: return H5T_STD_U32LE;
    default: return H5T_IEEE_F64LE;
    }
}

static hid_t mem_type(fw_rec_type t)
{
    switch (t) {
    case FW_REC_I64: return H5T_NATIVE_INT64;
    case FW_REC_U64: return H5T_NATIVE_UINT64;
    case FW_REC_U32: return H5T_NATIVE_UINT32;
    default: return H5T_NATIVE_DOUBLE;
    }
}

static int grow_array(void **v, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    uint32_t c = *cap ? 2 * *cap : 8;
    while (c < need)
        c *= 2;
    void *p = realloc(*v, (size_t)c * size);
    if (!p)
        return -1;
    *v = p;
    *cap = c;
    return 0;
}

/* The index of the group at path[0..len), registering it (and its parents) when new; or
 * UINT32_MAX when out of memory. */
static uint32_t group_at(fw_recorder *r, const char *path, size_t len)
{
    for (uint32_t k = 0; k < r->n_group; k++)
        if (strlen(r->group[k].path) == len && strncmp(r->group[k].path, path, len) == 0)
            return k;
    const char *slash = memrchr(path, '/', len);
    uint32_t root = r->n_group;
    if (slash) {
        uint32_t parent = group_at(r, path, (size_t)(slash - path));
        if (parent == UINT32_MAX)
            return UINT32_MAX;
        root = r->group[parent].root;
    }
    char *copy = strndup(path, len);
    if (!copy || grow_array((void **)&r->group, &r->cap_group, r->n_group + 1, sizeof *r->group)) {
        free(copy);
        return UINT32_MAX;
    }
    r->group[r->n_group] = (rec_group){.path = copy, .doc = NULL, .root = root};
    return r->n_group++;
}

fw_err fw_recorder_group(fw_recorder *r, const char *path, const char *doc)
{
    uint32_t g = group_at(r, path, strlen(path));
    if (g == UINT32_MAX)
        return FW_ERR_NOMEM;
    if (doc)
        r->group[g].doc = doc;
    return FW_OK;
}

fw_err fw_recorder_series(fw_recorder *r, const char *path, const char *doc, fw_rec_type type, uint32_t n,
                          const fw_counter_desc *cols, uint32_t *id)
{
    if (fw_recorder_group(r, path, doc) != FW_OK ||
        grow_array((void **)&r->series, &r->cap_series, r->n_series + 1, sizeof *r->series))
        return FW_ERR_NOMEM;
    r->series[r->n_series] = (rec_series){.group = group_at(r, path, strlen(path)), .type = type,
                                          .n_cols = n, .cols = cols};
    *id = r->n_series++;
    return FW_OK;
}

fw_err fw_recorder_push(fw_recorder *r, uint32_t id, const void *row)
{
    if (id >= r->n_series)
        return FW_ERR_INVAL;
    rec_series *s = &r->series[id];
    size_t width = (size_t)s->n_cols * type_size(s->type);
    if (grow_array((void **)&s->rows, &s->cap_rows, s->n_rows + 1, width))
        return FW_ERR_NOMEM;
    memcpy(s->rows + (size_t)s->n_rows * width, row, width);
    s->n_rows++;
    return FW_OK;
}

fw_err fw_recorder_table(fw_recorder *r, const fw_rec_table *t)
{
    const char *slash = strrchr(t->path, '/');
    if (!slash)
        return FW_ERR_INVAL;   /* a table lives in a group */
    uint32_t g = group_at(r, t->path, (size_t)(slash - t->path));
    char *copy = strdup(t->path);
    if (g == UINT32_MAX || !copy ||
        grow_array((void **)&r->table, &r->cap_table, r->n_table + 1, sizeof *r->table)) {
        free(copy);
        return FW_ERR_NOMEM;
    }
    r->table[r->n_table] = (rec_table){.group = g, .name = copy + (slash - t->path) + 1, .path = copy, .t = *t};
    r->table[r->n_table++].t.path = copy;   /* the caller's string may not outlive the call */
    return FW_OK;
}

fw_err fw_recorder_add_day(fw_recorder *r, const uint64_t *counters, const fw_hist *lat,
                           const uint64_t *work)
{
    size_t per_day = (size_t)r->info.n_arms * r->info.n_counters;
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
        uint64_t *c = realloc(r->counters, (size_t)cap * per_day * sizeof *c + 1);
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

/* ---- the sections of a file ------------------------------------------------------------------ */

/* What a write carries from section to section. */
typedef struct wctx {
    hid_t f;
    hid_t day_ds;           /* /days/day (or /latency/day), a dimension scale */
    const char *status;
    double wall_s, rss_mb;
    double *col;            /* scratch [n_days + 1] */
    uint64_t *ucol;
    int32_t *days;          /* 0 .. n_days - 1 */
} wctx;

/* /world: the generated world's summary and the creators' follower counts. */
static int write_world(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    hid_t g = H5Gcreate2(w->f, "world", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    int rc = -1;
    if (g < 0 || fw_h5_attr_u64(g, "n_users", in->n_users) < 0 ||
        fw_h5_attr_u64(g, "n_creators", in->n_creators) < 0 ||
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
        int e = fw_h5_write_1d(g, "creator_followers", H5T_STD_U32LE, H5T_NATIVE_UINT32, r->n_creators, fol,
                               in->compression, "users", "followers of each creator as of the last finished day",
                               -1, "creator");
        free(fol);
        if (e < 0)
            goto done;
    }
    rc = 0;
done:
    if (g >= 0)
        H5Gclose(g);
    return rc;
}

/* /arms: each arm's weight, layer and users. */
static int write_arms(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    hid_t g = H5Gcreate2(w->f, "arms", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), ga = -1;
    int rc = -1;
    if (g < 0)
        return -1;
    for (uint32_t a = 0; a < in->n_arms; a++) {
        if ((ga = H5Gcreate2(g, in->arm_names[a], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
            fw_h5_attr_f64(ga, "weight", in->arm_weights[a]) < 0 || fw_h5_attr_str(ga, "layer", in->arm_layers[a]) < 0 ||
            fw_h5_attr_u64(ga, "users", in->arm_users[a]) < 0)
            goto done;
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    if (ga >= 0)
        H5Gclose(ga);
    H5Gclose(g);
    return rc;
}

/* /days: the day index (a dimension scale) and every arm's counters and rates. */
static int write_days(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    uint32_t D = r->n_days, C = in->n_counters;
    unsigned z = in->compression;
    size_t per_day = (size_t)in->n_arms * C;
    hid_t g = H5Gcreate2(w->f, "days", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), ga = -1;
    int rc = -1;
    if (g < 0)
        return -1;
    if (fw_h5_write_1d(g, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, D, w->days, z, "day",
                       "simulated day index (0 = first simulated day)", -1, "day") < 0 ||
        (w->day_ds = H5Dopen2(g, "day", H5P_DEFAULT)) < 0 || H5DSset_scale(w->day_ds, "day") < 0)
        goto done;
    for (uint32_t a = 0; a < in->n_arms; a++) {
        if ((ga = H5Gcreate2(g, in->arm_names[a], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
            goto done;
        for (uint32_t c = 0; c < C; c++) {
            for (uint32_t d = 0; d < D; d++)
                w->ucol[d] = r->counters[d * per_day + (size_t)a * C + c];
            if (fw_h5_write_1d(ga, in->counters[c].name, H5T_STD_U64LE, H5T_NATIVE_UINT64, D, w->ucol, z,
                               in->counters[c].unit, in->counters[c].doc, w->day_ds, "day") < 0)
                goto done;
        }
        for (uint32_t k = 0; k < in->n_rates; k++) {
            const fw_rec_rate *rt = &in->rates[k];
            for (uint32_t d = 0; d < D; d++) {
                const uint64_t *row = &r->counters[d * per_day + (size_t)a * C];
                w->col[d] = row[rt->den] ? (rt->scale) * (double)row[rt->num] / (double)row[rt->den] : NAN;
            }
            if (fw_h5_write_1d(ga, rt->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, D, w->col, z, rt->unit, rt->doc,
                               w->day_ds, "day") < 0)
                goto done;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    if (ga >= 0)
        H5Gclose(ga);
    H5Gclose(g);
    return rc;
}

/* /work: the engine's work per day -- deterministic, unlike its latency. */
static int write_work(fw_recorder *r, wctx *w)
{
    hid_t g = fw_h5_group(w->f, "work", "work the engine did per day, counted (deterministic: "
                                        "compare exactly across runs and builds)");
    if (g < 0)
        return -1;
    int rc = 0;
    for (int k = 0; k < FW_WORK__COUNT && rc == 0; k++) {
        for (uint32_t d = 0; d < r->n_days; d++)
            w->ucol[d] = r->work[(size_t)d * FW_WORK__COUNT + k];
        rc = fw_h5_write_1d(g, fw_work_name(k), H5T_STD_U64LE, H5T_NATIVE_UINT64, r->n_days, w->ucol,
                            r->info.compression, "count", fw_work_doc(k), -1, "day");
    }
    H5Gclose(g);
    return rc;
}

/* Whether the top-level group root is written: it has a day series with a day, or none. */
static int root_live(const fw_recorder *r, uint32_t root)
{
    int has_series = 0;
    for (uint32_t k = 0; k < r->n_series; k++)
        if (r->group[r->series[k].group].root == root) {
            if (r->series[k].n_rows > 0)
                return 1;
            has_series = 1;
        }
    return !has_series;
}

/* What the parts described: groups (parents first), day series, tables. */
static int write_items(fw_recorder *r, wctx *w)
{
    unsigned z = r->info.compression;
    for (uint32_t k = 0; k < r->n_group; k++) {
        const rec_group *g = &r->group[k];
        if (!root_live(r, g->root))
            continue;
        hid_t h = fw_h5_group(w->f, g->path, g->doc);
        if (h < 0)
            return -1;
        H5Gclose(h);
    }
    for (uint32_t k = 0; k < r->n_series; k++) {
        const rec_series *s = &r->series[k];
        if (!root_live(r, r->group[s->group].root))
            continue;
        hid_t g = H5Gopen2(w->f, r->group[s->group].path, H5P_DEFAULT);
        size_t es = type_size(s->type);
        unsigned char *col = malloc((s->n_rows + 1) * es);
        int rc = g < 0 || !col ? -1 : 0;
        for (uint32_t c = 0; c < s->n_cols && rc == 0; c++) {
            for (uint32_t d = 0; d < s->n_rows; d++)
                memcpy(col + d * es, s->rows + ((size_t)d * s->n_cols + c) * es, es);
            rc = fw_h5_write_1d(g, s->cols[c].name, file_type(s->type), mem_type(s->type), s->n_rows, col, z,
                                s->cols[c].unit, s->cols[c].doc, -1, "day");
        }
        free(col);
        if (g >= 0)
            H5Gclose(g);
        if (rc < 0)
            return -1;
    }
    for (uint32_t k = 0; k < r->n_table; k++) {
        const rec_table *tb = &r->table[k];
        const fw_rec_table *t = &tb->t;
        uint32_t rows = *t->rows;
        if (!root_live(r, r->group[tb->group].root) || rows == 0 || !*t->data)
            continue;
        hid_t g = H5Gopen2(w->f, r->group[tb->group].path, H5P_DEFAULT);
        if (g < 0)
            return -1;
        int rc;
        if (t->cols == 0) {
            rc = fw_h5_write_1d(g, tb->name, file_type(t->type), mem_type(t->type), rows, *t->data, z, t->unit,
                                t->doc, -1, t->labels[0]);
        } else {
            hsize_t dims[2] = {rows, t->cols}, chunk[2] = {1, t->cols < 4096 ? t->cols : 4096};
            hid_t ds = fw_h5_dataset(g, tb->name, file_type(t->type), mem_type(t->type), 2, dims, chunk, z,
                                     *t->data, t->unit, t->doc, t->labels);
            rc = ds < 0 || (t->attr_name && fw_h5_attr_str(ds, t->attr_name, *t->attr_value) < 0) ? -1 : 0;
            if (ds >= 0)
                H5Dclose(ds);
        }
        H5Gclose(g);
        if (rc < 0)
            return -1;
    }
    return 0;
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
    FW_H5_CLOSE(gp, ga, gu);
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
    FW_H5_CLOSE(ga, ds, ge);
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
    FW_H5_CLOSE(ga, gr);
    free(buf);
    return rc;
}


/* The counterfactual: every arm's values per experiment day, and per treatment arm the
 * global treatment effect and the A/B estimate's bias at the day /experiment has reached. */
static int write_counterfactual(fw_recorder *r, hid_t f)
{
    const fw_exp_table *t = &r->exp;
    uint32_t A = r->info.n_arms, E = r->cf_days, d = t->days;
    unsigned z = r->info.compression;
    hsize_t n = FW_EM__COUNT;
    int rc = -1;
    hid_t ge = -1, gc = -1, ga = -1, ds = -1;
    if ((ge = H5Gopen2(f, "experiment", H5P_DEFAULT)) < 0 || (ds = H5Dopen2(ge, "metric", H5P_DEFAULT)) < 0 ||
        (gc = fw_h5_group(ge, "counterfactual",
                          "the same world and seed run with everyone on one arm (a layer's control: "
                          "everyone on every layer's control), unrecorded")) < 0 ||
        fw_h5_attr_i64(gc, "days", d) < 0)
        goto done;
    hsize_t dims[3] = {A, E, FW_EM__COUNT};
    if (fw_h5_write_fixed(gc, "value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dims, r->cf,
                          "metric's own",
                          "[arm, experiment day, metric]: each metric over every unit after that many "
                          "experiment days, with everyone on the arm") < 0)
        goto done;
    static const char *const fields[4] = {"gte", "gte_abs", "bias", "bias_abs"};
    static const char *const units[4] = {"1", "metric's own", "1", "metric's own"};
    static const char *const docs[4] = {
        "global treatment effect: the metric with everyone on the arm / with everyone on the control - 1",
        "global treatment effect as a difference: everyone on the arm - everyone on the control",
        "bias of the A/B lift: lift - gte (same experiment days)",
        "bias of the A/B difference: delta - gte_abs (same experiment days)"};
    for (uint32_t arm = 0; arm < A; arm++) {
        uint32_t ctl = r->asg->control_of_arm[arm];
        if (arm == ctl)
            continue;
        const double *vt = &r->cf[((size_t)arm * E + d - 1) * FW_EM__COUNT];
        const double *vc = &r->cf[((size_t)ctl * E + d - 1) * FW_EM__COUNT];
        if ((ga = H5Gopen2(ge, r->info.arm_names[arm], H5P_DEFAULT)) < 0)
            goto done;
        for (int k = 0; k < 4; k++) {
            double col[FW_EM__COUNT];
            for (int m = 0; m < FW_EM__COUNT; m++) {
                const fw_exp_row *w = &t->row[arm][m];
                double gte = vt[m] / vc[m] - 1.0, gte_abs = vt[m] - vc[m];
                double v[4] = {gte, gte_abs, w->ok ? w->rel.delta - gte : NAN, w->ok ? w->abs.delta - gte_abs : NAN};
                col[m] = v[k];
            }
            hid_t dd = fw_h5_dataset(ga, fields[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, &n, z, col, units[k],
                                     docs[k], (const char *const[]){"metric"});
            if (dd < 0)
                goto done;
            herr_t e = H5DSattach_scale(dd, ds, 0);
            H5Dclose(dd);
            if (e < 0)
                goto done;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    FW_H5_CLOSE(ga, gc, ds, ge);
    return rc;
}

static int write_users_section(fw_recorder *r, wctx *w) { return r->asg ? write_users(r, w->f) : 0; }

static int write_experiment_section(fw_recorder *r, wctx *w)
{
    return r->asg && r->have_exp ? write_experiment(r, w->f) : 0;
}

static int write_counterfactual_section(fw_recorder *r, wctx *w)
{
    return r->asg && r->have_exp && r->cf && r->exp.days > 0 && r->exp.days <= r->cf_days
               ? write_counterfactual(r, w->f)
               : 0;
}

static int write_replicates_section(fw_recorder *r, wctx *w)
{
    return r->asg && r->n_reps > 1 ? write_replicates(r, w->f) : 0;
}

/* /latency: measured, so written after every deterministic dataset, whose place in the file
 * (and the object references of their dimension scales) the varying compressed sizes here
 * would otherwise move. */
static int write_latency(fw_recorder *r, wctx *w)
{
    uint32_t D = r->n_days;
    unsigned z = r->info.compression;
    hid_t gs = -1, ga = -1, bin_ds = -1;
    int rc = -1;
    if ((gs = fw_h5_group(w->f, "latency",
                          "measured engine latency (CLOCK_MONOTONIC) per stage and day; log-linear "
                          "histograms, not deterministic")) < 0)
        goto done;
    /* Its own day scale: attaching /days/day here would put references to these measured,
     * run-dependent datasets into the deterministic part of the file. */
    if (w->day_ds >= 0)
        H5Dclose(w->day_ds);
    w->day_ds = -1;
    if (fw_h5_write_1d(gs, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, D, w->days, z, "day", "simulated day index", -1,
                       "day") < 0 ||
        (w->day_ds = H5Dopen2(gs, "day", H5P_DEFAULT)) < 0 || H5DSset_scale(w->day_ds, "day") < 0)
        goto done;
    if (r->n_bins > 0) {
        hsize_t nb = (hsize_t)r->n_bins;
        hsize_t chunk = nb;
        const char *bl[1] = {"bin"};
        bin_ds = fw_h5_dataset(gs, "bin_lower_ns", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &nb, &chunk, z, r->bin_lower,
                               "ns", "inclusive lower edge of each histogram bin", bl);
        if (bin_ds < 0 || H5DSset_scale(bin_ds, "bin_lower_ns") < 0 ||
            fw_h5_write_1d(gs, "bin_upper_ns", H5T_STD_I64LE, H5T_NATIVE_INT64, nb, r->bin_upper, z, "ns",
                           "exclusive upper edge of each histogram bin", -1, "bin") < 0)
            goto done;
    }
    static const char *const stat_names[N_STATS] = {"p50", "p90", "p99", "p999", "max", "mean", "count"};
    static const char *const stat_docs[N_STATS] = {
        "median latency", "90th percentile latency", "99th percentile latency",
        "99.9th percentile latency", "largest latency", "mean latency", "calls timed"};
    for (int s = 0; s < FW_STAGE__COUNT; s++) {
        if ((ga = fw_h5_group(gs, fw_stage_name(s), fw_stage_doc(s))) < 0)
            goto done;
        if (r->n_bins > 0) {
            uint64_t *counts = malloc(((size_t)D + 1) * r->n_bins * sizeof *counts);
            if (!counts)
                goto done;
            for (uint32_t d = 0; d < D; d++)
                memcpy(&counts[(size_t)d * r->n_bins], &r->lat_counts[((size_t)d * FW_STAGE__COUNT + s) * r->n_bins],
                       (size_t)r->n_bins * sizeof *counts);
            hsize_t dims[2] = {D, (hsize_t)r->n_bins}, chunk[2] = {1, (hsize_t)r->n_bins};
            const char *labels[2] = {"day", "bin"};
            hid_t ds = fw_h5_dataset(ga, "counts", H5T_STD_U64LE, H5T_NATIVE_UINT64, 2, dims, chunk, z ? z : 1,
                                     counts, "calls", "calls per latency bin per day", labels);
            free(counts);
            if (ds < 0)
                goto done;
            herr_t e1 = D > 0 ? H5DSattach_scale(ds, w->day_ds, 0) : 0;
            herr_t e2 = H5DSattach_scale(ds, bin_ds, 1);
            H5Dclose(ds);
            if (e1 < 0 || e2 < 0)
                goto done;
        }
        for (int k = 0; k < N_STATS; k++) {
            for (uint32_t d = 0; d < D; d++)
                w->col[d] = r->lat_stats[((size_t)d * FW_STAGE__COUNT + s) * N_STATS + k];
            if (fw_h5_write_1d(ga, stat_names[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, D, w->col, z,
                               k == N_STATS - 1 ? "calls" : "ns", stat_docs[k], w->day_ds, "day") < 0)
                goto done;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    FW_H5_CLOSE(bin_ds, ga, gs);
    return rc;
}

/* Provenance last: measured values (times, threads) vary between runs, and writing them
 * after every dataset keeps the deterministic datasets' layout identical. */
static int write_provenance(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    hid_t f = w->f;
    char end_time[64];
    iso_now(end_time, sizeof end_time);
    if (fw_h5_attr_str(f, "flywheel_version", in->version) < 0 ||
        fw_h5_attr_str(f, "git_revision", in->git_revision) < 0 ||
        fw_h5_attr_str(f, "scenario_name", in->scenario_name) < 0 ||
        fw_h5_attr_str(f, "scenario_path", in->scenario_path) < 0 ||
        fw_h5_attr_str(f, "scenario_text", in->scenario_text) < 0 ||
        fw_h5_attr_str(f, "scenario_resolved", in->scenario_resolved) < 0 ||
        fw_h5_attr_str(f, "overrides", in->overrides) < 0 || fw_h5_attr_u64(f, "seed", in->seed) < 0 ||
        fw_h5_attr_i64(f, "threads", in->threads) < 0 || fw_h5_attr_str(f, "start_time", r->start_time) < 0 ||
        fw_h5_attr_str(f, "end_time", end_time) < 0 || fw_h5_attr_str(f, "status", w->status) < 0 ||
        fw_h5_attr_i64(f, "days_planned", in->days_planned) < 0 ||
        fw_h5_attr_i64(f, "days_completed", r->n_days) < 0 ||
        fw_h5_attr_i64(f, "ticks_per_day", in->ticks_per_day) < 0 ||
        fw_h5_attr_f64(f, "wall_seconds", w->wall_s) < 0 || fw_h5_attr_f64(f, "peak_rss_mib", w->rss_mb) < 0 ||
        fw_h5_attr_f64(f, "generation_seconds", in->generation_s) < 0 ||
        fw_h5_attr_f64(f, "generation_peak_rss_mib", in->generation_peak_rss_mb) < 0)
        return -1;
    return 0;
}

/* The file, section by section: the deterministic ones first (their layout must not depend on
 * measured values), /latency and the provenance attributes last. */
typedef int (*section_writer)(fw_recorder *r, wctx *w);
static const section_writer sections[] = {
    write_world, write_arms, write_days, write_work, write_items, write_users_section,
    write_experiment_section, write_counterfactual_section, write_replicates_section, write_latency,
    write_provenance,
};

static int write_file(fw_recorder *r, const char *status, double wall_s, double rss_mb)
{
    uint32_t D = r->n_days;
    wctx w = {.f = -1, .day_ds = -1, .status = status, .wall_s = wall_s, .rss_mb = rss_mb,
              .col = malloc(((size_t)D + 1) * sizeof *w.col), .ucol = malloc(((size_t)D + 1) * sizeof *w.ucol),
              .days = malloc(((size_t)D + 1) * sizeof *w.days)};
    int rc = -1;
    if (!w.col || !w.ucol || !w.days || (w.f = H5Fcreate(r->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto done;
    for (uint32_t d = 0; d < D; d++)
        w.days[d] = (int32_t)d;
    for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++)
        if (sections[k](r, &w) < 0)
            goto done;
    rc = 0;
done:
    if (w.day_ds >= 0)
        H5Dclose(w.day_ds);
    if (w.f >= 0 && H5Fclose(w.f) < 0)
        rc = -1;
    free(w.col);
    free(w.ucol);
    free(w.days);
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

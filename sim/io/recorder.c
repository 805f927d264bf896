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
 *   /experiment/metric, /experiment/units, /experiment/<arm>/<field>[metric]   tests against
 *                           each layer's control, at the latest look
 *   /experiment/days/{look, day, alpha_spent}[look], /experiment/days/<arm>/<stat>[look, metric]
 *                           every look's sufficient statistics (every arm) and p, p_seq
 *   /replicates/...         with replicates
 *   /latency/bin_lower_ns, /latency/bin_upper_ns   int64 [bins], the histogram layout
 *   /latency/<stage>/counts uint64 [days, bins]; p50 p90 p99 p999 max mean count [days]
 * Every dataset is chunked, deflated and extendible along days, with dimension labels.
 * write_file is the sequence of section writers in `sections`, deterministic ones first. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>
#ifdef FW_HAVE_MPI
#include <mpi.h>
#ifndef H5_HAVE_PARALLEL
#error "FW_MPI needs a parallel HDF5 (the top CMakeLists.txt checks HDF5_IS_PARALLEL)"
#endif
#endif

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

/* Rows of a chunked dataset that only grows (a log's column; a latency stage's days): its
 * full chunks as stored in the file (filtered: shuffled, deflated, checksummed), one after
 * the other in z, and the rows after them, not yet a full chunk or not yet written. A write
 * copies the stored chunks as they are and filters only the rest, so that its cost does not
 * grow with the rows already written. Pointer-free, so that a snapshot moves the chunks'
 * index and bytes as they are. */
typedef struct rec_chunk {
    uint64_t size;          /* its bytes in z, after those of the chunks before it */
    uint64_t mask;          /* the filters skipped (H5Dread_chunk's mask; 64 bits: no padding) */
} rec_chunk;

typedef struct rec_logcol {
    rec_chunk *frozen;
    uint32_t n_frozen, cap_frozen;
    unsigned char *z;       /* [z_len] the frozen chunks' bytes, grown to the byte */
    size_t z_len, z_cap;
    unsigned char *tail;    /* [tail_cap rows] */
    size_t tail_rows, tail_cap;
    /* The first in_img frozen chunks (z's first z_in_img bytes) are in the kept in-memory file
     * (r->img) already: its next write copies only the others. 0 for a new file. */
    uint32_t in_img;
    size_t z_in_img;
} rec_logcol;

/* A registered log (fw_recorder_log). */
typedef struct rec_log {
    uint32_t group;
    uint32_t n_cols;
    const fw_rec_col *cols;
    rec_logcol *col;        /* [n_cols] */
    uint64_t n_rows;
} rec_log;

/* A registered table. */
typedef struct rec_table {
    uint32_t group;
    const char *name;       /* points into path */
    char *path;
    fw_rec_table t;
} rec_table;

struct fw_recorder {
    fw_rec_info info;
    char *path, *partial, *tmp, *prev;
    int prev_kept;              /* the complete write moved an earlier result at path to prev */
    char start_time[64];
    uint32_t n_days, cap_days;
    uint64_t *counters;     /* [cap_days * n_arms * n_counters] */
    int32_t n_bins;
    int64_t *bin_lower, *bin_upper;
    /* Per stage, one row of n_bins counts a day, chunks of one row: after a single process's
     * write every finished day is held as stored (a few KiB, where the row is 31 KiB), and
     * the next write filters only the new days. Rewriting every day's rows through deflate
     * made each write cost as much as all the days before it (a 200-day run spent most of its
     * time there) and a snapshot carry every raw row. */
    rec_logcol lat[FW_STAGE__COUNT];
    double *lat_stats;      /* [cap_days * FW_STAGE__COUNT * N_STATS] p.., max, mean, count */
    uint64_t *work;         /* [cap_days * FW_WORK__COUNT] */
    rec_group *group;       /* registered, parents before children */
    uint32_t n_group, cap_group;
    rec_series *series;
    uint32_t n_series, cap_series;
    rec_table *table;
    uint32_t n_table, cap_table;
    rec_log *log;
    uint32_t n_log, cap_log;
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
    /* Each arm's overrides: as written (the scenario's strings, borrowed) and as resolved
     * (each key and the value the arm's configuration holds for it; owned). */
    uint32_t arm_n_set[FW_MAX_ARMS];
    char *const *arm_set[FW_MAX_ARMS];
    char **arm_key[FW_MAX_ARMS], **arm_value[FW_MAX_ARMS];
    /* The experiment's looks, look k at index k - 1: [look][arm][metric]. */
    uint32_t n_looks, cap_looks;
    fw_exp_moments *look_mom;
    double *look_p, *look_seq;
    int exp_nomem;              /* a look was lost to memory: the next write fails */
    uint32_t cf_days;           /* counterfactual values, borrowed: [arm][cf_days][metric] */
    const double *cf;
    /* Several ranks (fw_recorder_set_parallel): this rank, how many, its users [user_lo,
     * user_hi), and what the last write cost (fw_recorder_writers). */
    int par_rank, par_size;
    uint32_t user_lo, user_hi;
    uint64_t last_raw;          /* rank 0: bytes of data all ranks handed HDF5 in the last write */
    char writers[256];
    int no_latency;             /* this write leaves /latency out (fw_recorder_fail, for room) */
    /* One process: the in-memory file of the last write, kept open for the next one, which
     * writes into it what changed (-1: none; the next write builds a new one). A write that
     * fails closes it: nothing is built on a file a failure may have left half-written. */
    hid_t img;
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

/* ---- the arms' overrides, resolved ------------------------------------------------------ */

/* The value that the YAML text `yaml` (as fw_scenario_write_yaml writes it: two spaces a
 * level, one "name: value" or "section:" a line) gives the dotted key, as a new string; NULL
 * when the key is not there or memory runs out. */
static char *yaml_value(const char *yaml, const char *key)
{
    enum { DEPTH = 8 };
    const char *sec[DEPTH];     /* the section names open at each depth (into yaml) */
    size_t sec_len[DEPTH], n_open = 0;
    for (const char *line = yaml; *line;) {
        const char *end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        size_t indent = 0;
        while (line + indent < end && line[indent] == ' ')
            indent++;
        const char *name = line + indent, *colon = memchr(name, ':', (size_t)(end - name));
        size_t depth = indent / 2;
        if (colon && depth < DEPTH && *name != '-' && *name != '#') {
            const char *val = colon + 1;
            while (val < end && *val == ' ')
                val++;
            if (val == end || strncmp(val, "{}", 2) == 0) {
                sec[depth] = name;
                sec_len[depth] = (size_t)(colon - name);
                n_open = depth + 1;
            } else if (depth <= n_open) {
                /* key == sec[0] "." ... sec[depth - 1] "." name ? */
                const char *k = key;
                int match = 1;
                for (size_t d = 0; d < depth && match; d++) {
                    match = strncmp(k, sec[d], sec_len[d]) == 0 && k[sec_len[d]] == '.';
                    k += match ? sec_len[d] + 1 : 0;
                }
                if (match && strlen(k) == (size_t)(colon - name) && strncmp(k, name, (size_t)(colon - name)) == 0)
                    return strndup(val, (size_t)(end - val));
            }
        }
        line = *end ? end + 1 : end;
    }
    return NULL;
}

/* Resolves every arm's overrides of s: the key of each "key=value" as written, and the value
 * the arm's resolved configuration holds for it, as `flywheel defaults` writes values (the
 * scenario written as YAML with the arm's configuration as its base, then looked up). -1 when
 * memory runs out. */
static int resolve_overrides(fw_recorder *r, const fw_scenario *s)
{
    uint32_t n_arms = r->info.n_arms < s->n_arms ? r->info.n_arms : s->n_arms;
    for (uint32_t a = 0; a < n_arms && a < FW_MAX_ARMS; a++) {
        const fw_arm *arm = &s->arms[a];
        uint32_t n = arm->n_set;
        r->arm_set[a] = arm->set;
        if (n == 0)
            continue;
        r->arm_key[a] = calloc(n, sizeof *r->arm_key[a]);
        r->arm_value[a] = calloc(n, sizeof *r->arm_value[a]);
        if (!r->arm_key[a] || !r->arm_value[a])
            return -1;
        r->arm_n_set[a] = n;
        fw_scenario as_base = *s;   /* shallow, read-only: only written out */
        as_base.behaviour = arm->behaviour;
        as_base.engine = arm->engine;
        char *yaml = NULL;
        size_t len = 0;
        FILE *mem = open_memstream(&yaml, &len);
        if (!mem)
            return -1;
        fw_err e = fw_scenario_write_yaml(&as_base, mem, 0);
        if (fclose(mem) != 0 || e != FW_OK || !yaml) {
            free(yaml);
            return -1;
        }
        for (uint32_t k = 0; k < n; k++) {
            const char *eq = strchr(arm->set[k], '=');
            r->arm_key[a][k] = eq ? strndup(arm->set[k], (size_t)(eq - arm->set[k])) : strdup(arm->set[k]);
            if (!r->arm_key[a][k]) {
                free(yaml);
                return -1;
            }
            r->arm_value[a][k] = yaml_value(yaml, r->arm_key[a][k]);
            if (!r->arm_value[a][k] && !(r->arm_value[a][k] = strdup(""))) {
                free(yaml);
                return -1;
            }
        }
        free(yaml);
    }
    return 0;
}

fw_recorder *fw_recorder_create(const char *path, const fw_rec_info *info)
{
    fw_recorder *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->info = *info;
    r->img = -1;
    r->path = strdup(path);
    r->partial = dup_printf("%s.partial", path);
    r->tmp = dup_printf("%s.partial.tmp", path);
    size_t len = strlen(path);
    r->prev = len > 3 && strcmp(path + len - 3, ".h5") == 0 ? dup_printf("%.*s.prev.h5", (int)(len - 3), path)
                                                             : dup_printf("%s.prev", path);
    if (!r->path || !r->partial || !r->tmp || !r->prev) {
        fw_recorder_destroy(r);
        return NULL;
    }
    iso_now(r->start_time, sizeof r->start_time);
    if (info->scenario && resolve_overrides(r, info->scenario) < 0) {
        fw_recorder_destroy(r);
        return NULL;
    }
    return r;
}

void fw_recorder_destroy(fw_recorder *r)
{
    if (!r)
        return;
    if (r->img >= 0)
        H5Fclose(r->img);
    free(r->path);
    free(r->partial);
    free(r->tmp);
    free(r->prev);
    free(r->counters);
    free(r->bin_lower);
    free(r->bin_upper);
    for (int s = 0; s < FW_STAGE__COUNT; s++) {
        free(r->lat[s].frozen);
        free(r->lat[s].z);
        free(r->lat[s].tail);
    }
    free(r->lat_stats);
    free(r->work);
    for (uint32_t k = 0; k < r->n_group; k++)
        free(r->group[k].path);
    for (uint32_t k = 0; k < r->n_series; k++)
        free(r->series[k].rows);
    for (uint32_t k = 0; k < r->n_table; k++)
        free(r->table[k].path);
    for (uint32_t k = 0; k < r->n_log; k++) {
        for (uint32_t c = 0; r->log[k].col && c < r->log[k].n_cols; c++) {
            rec_logcol *lc = &r->log[k].col[c];
            free(lc->frozen);
            free(lc->z);
            free(lc->tail);
        }
        free(r->log[k].col);
    }
    free(r->log);
    for (uint32_t a = 0; a < FW_MAX_ARMS; a++) {
        for (uint32_t k = 0; k < r->arm_n_set[a]; k++) {
            free(r->arm_key[a] ? r->arm_key[a][k] : NULL);
            free(r->arm_value[a] ? r->arm_value[a][k] : NULL);
        }
        free(r->arm_key[a]);
        free(r->arm_value[a]);
    }
    free(r->look_mom);
    free(r->look_p);
    free(r->look_seq);
    free(r->group);
    free(r->series);
    free(r->table);
    free(r);
}

void fw_recorder_set_parallel(fw_recorder *r, int rank, int size, uint32_t user_lo, uint32_t user_hi)
{
    r->par_rank = rank;
    r->par_size = size;
    r->user_lo = user_lo;
    r->user_hi = user_hi;
}

const char *fw_recorder_writers(const fw_recorder *r) { return r->writers; }

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
    /* Look t->days goes at index t->days - 1; a gap (a look never set) stays zero. */
    uint32_t look = t->days, A = r->info.n_arms;
    if (look == 0 || A == 0 || A > FW_MAX_ARMS)
        return;
    size_t per = (size_t)A * FW_EM__COUNT;
    if (look > r->cap_looks) {
        uint32_t cap = r->cap_looks ? 2 * r->cap_looks : 16;
        while (cap < look)
            cap *= 2;
        fw_exp_moments *m = realloc(r->look_mom, (size_t)cap * per * sizeof *m);
        if (m)
            r->look_mom = m;
        double *p = realloc(r->look_p, (size_t)cap * per * sizeof *p);
        if (p)
            r->look_p = p;
        double *q = realloc(r->look_seq, (size_t)cap * per * sizeof *q);
        if (q)
            r->look_seq = q;
        if (!m || !p || !q) {
            r->exp_nomem = 1;
            return;
        }
        memset(r->look_mom + (size_t)r->cap_looks * per, 0, (size_t)(cap - r->cap_looks) * per * sizeof *m);
        for (size_t i = (size_t)r->cap_looks * per; i < (size_t)cap * per; i++)
            r->look_p[i] = r->look_seq[i] = NAN;
        r->cap_looks = cap;
    }
    for (uint32_t a = 0; a < A; a++)
        for (int m = 0; m < FW_EM__COUNT; m++) {
            size_t i = ((size_t)(look - 1) * A + a) * FW_EM__COUNT + (size_t)m;
            const fw_exp_row *w = &t->row[a][m];
            r->look_mom[i] = t->mom[a][m];
            r->look_p[i] = w->ok ? w->p : NAN;
            r->look_seq[i] = w->p_seq;
        }
    if (look > r->n_looks)
        r->n_looks = look;
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
const char *fw_recorder_prev_path(const fw_recorder *r) { return r->prev_kept ? r->prev : NULL; }

/* ---- what the parts describe ------------------------------------------------------------ */

static size_t type_size(fw_rec_type t)
{
    switch (t) {
    case FW_REC_U8: return 1;
    case FW_REC_U16: return 2;
    case FW_REC_U32: case FW_REC_I32: case FW_REC_F32: return 4;
    default: return 8;
    }
}

static hid_t file_type(fw_rec_type t)
{
    switch (t) {
    case FW_REC_I64: return H5T_STD_I64LE;
    case FW_REC_U64: return H5T_STD_U64LE;
    case FW_REC_U32: return H5T_STD_U32LE;
    case FW_REC_U8: return H5T_STD_U8LE;
    case FW_REC_U16: return H5T_STD_U16LE;
    case FW_REC_I32: return H5T_STD_I32LE;
    case FW_REC_F32: return H5T_IEEE_F32LE;
    default: return H5T_IEEE_F64LE;
    }
}

static hid_t mem_type(fw_rec_type t)
{
    switch (t) {
    case FW_REC_I64: return H5T_NATIVE_INT64;
    case FW_REC_U64: return H5T_NATIVE_UINT64;
    case FW_REC_U32: return H5T_NATIVE_UINT32;
    case FW_REC_U8: return H5T_NATIVE_UINT8;
    case FW_REC_U16: return H5T_NATIVE_UINT16;
    case FW_REC_I32: return H5T_NATIVE_INT32;
    case FW_REC_F32: return H5T_NATIVE_FLOAT;
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
    size_t row = (size_t)r->n_bins * sizeof(uint64_t);
    for (int s = 0; s < FW_STAGE__COUNT; s++) {
        if (lat[s].n_counts != r->n_bins)
            return FW_ERR_INVAL;
        rec_logcol *lc = &r->lat[s];
        if (lc->tail_rows == lc->tail_cap) {   /* a few days' rows: a write freezes them */
            size_t cap = lc->tail_cap ? 2 * lc->tail_cap : 4;
            unsigned char *t = realloc(lc->tail, cap * row);
            if (!t)
                return FW_ERR_NOMEM;
            lc->tail = t;
            lc->tail_cap = cap;
        }
    }
    if (r->n_days == r->cap_days) {
        uint32_t cap = r->cap_days ? 2 * r->cap_days : 16;
        uint64_t *c = realloc(r->counters, (size_t)cap * per_day * sizeof *c + 1);
        if (!c)
            return FW_ERR_NOMEM;
        r->counters = c;
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
        rec_logcol *lc = &r->lat[s];
        memcpy(lc->tail + lc->tail_rows++ * row, lat[s].counts, row);
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
/* ---- logs ------------------------------------------------------------------------------- */

fw_err fw_recorder_log(fw_recorder *r, const char *path, const char *doc, uint32_t n, const fw_rec_col *cols,
                       uint32_t *id)
{
    if (n == 0)
        return FW_ERR_INVAL;
    if (fw_recorder_group(r, path, doc) != FW_OK ||
        grow_array((void **)&r->log, &r->cap_log, r->n_log + 1, sizeof *r->log))
        return FW_ERR_NOMEM;
    rec_logcol *col = calloc(n, sizeof *col);
    if (!col)
        return FW_ERR_NOMEM;
    r->log[r->n_log] = (rec_log){.group = group_at(r, path, strlen(path)), .n_cols = n, .cols = cols, .col = col};
    *id = r->n_log++;
    return FW_OK;
}

fw_err fw_recorder_log_append(fw_recorder *r, uint32_t id, size_t n, const void *const *col)
{
    if (id >= r->n_log)
        return FW_ERR_INVAL;
    rec_log *l = &r->log[id];
    if (r->par_size > 1 && r->par_rank > 0) {
        l->n_rows += n;   /* rank 0 alone writes the logs (write_logs): the others keep no rows */
        return FW_OK;
    }
    /* Room in every column first, so that a failure appends nothing. */
    for (uint32_t c = 0; c < l->n_cols; c++) {
        rec_logcol *lc = &l->col[c];
        size_t need = lc->tail_rows + n, es = type_size(l->cols[c].type);
        if (need <= lc->tail_cap)
            continue;
        size_t cap = lc->tail_cap ? lc->tail_cap : 1024;
        while (cap < need)
            cap *= 2;
        unsigned char *t = realloc(lc->tail, cap * es);
        if (!t)
            return FW_ERR_NOMEM;
        lc->tail = t;
        lc->tail_cap = cap;
    }
    for (uint32_t c = 0; c < l->n_cols && n > 0; c++) {
        rec_logcol *lc = &l->col[c];
        size_t es = type_size(l->cols[c].type);
        memcpy(lc->tail + lc->tail_rows * es, col[c], n * es);
        lc->tail_rows += n;
    }
    l->n_rows += n;
    return FW_OK;
}

uint64_t fw_recorder_log_rows(const fw_recorder *r, uint32_t id) { return id < r->n_log ? r->log[id].n_rows : 0; }

uint64_t fw_recorder_log_bytes(const fw_recorder *r)
{
    uint64_t b = 0;
    for (uint32_t k = 0; k < r->n_log; k++)
        for (uint32_t c = 0; c < r->log[k].n_cols; c++) {
            const rec_logcol *lc = &r->log[k].col[c];
            b += lc->tail_cap * type_size(r->log[k].cols[c].type) + lc->z_cap;
        }
    return b;
}

/* ---- the snapshot (issue 21) ------------------------------------------------------------ */

/* Loading, and nothing failed so far: what was read may be checked. */
static int loaded(const fw_snap *s) { return fw_snap_loading(s) && !fw_snap_failed(s); }

/* An array of n_days rows of per values of size bytes, its capacity *cap values (the days'
 * capacity times per): the reader grows it to the snapshot's days (n_days, read before). */
static void snap_days(fw_snap *s, void **p, size_t *cap, uint32_t n_days, size_t per, size_t size, uint32_t max_days)
{
    size_t n = (size_t)n_days * per;
    fw_snap_vec(s, p, &n, cap, size, (size_t)max_days * per);
    if (loaded(s) && n != (size_t)n_days * per)
        fw_snap_fail(s, "%zu values for %u days of %zu", n, n_days, per);
}

/* An int as 32 bits. */
static void snap_int(fw_snap *s, int *v)
{
    int32_t x = *v;
    fw_snap_i32(s, &x);
    *v = x;
}

/* The n_rows rows of es bytes of lc, chunks of C rows, checked when read: the chunks' sizes
 * add up to the bytes held, and the rows held are n_rows (a snapshot is one process's, which
 * keeps every row). */
static void snap_rows(uint64_t n_rows, uint64_t C, rec_logcol *lc, size_t es, fw_snap *s)
{
    uint64_t max_chunks = n_rows / C;
    fw_snap_vec32(s, (void **)&lc->frozen, &lc->n_frozen, &lc->cap_frozen, sizeof *lc->frozen,
                  max_chunks < UINT32_MAX ? (uint32_t)max_chunks : UINT32_MAX);
    /* A chunk stored is at most twice its rows' bytes (deflate's worst case adds 5 bytes per
     * 16 KiB block; a filter that fails is skipped, the mask says which). */
    fw_snap_vec(s, (void **)&lc->z, &lc->z_len, &lc->z_cap, 1, (size_t)lc->n_frozen * 2 * C * es);
    fw_snap_vec(s, (void **)&lc->tail, &lc->tail_rows, &lc->tail_cap, es,
                n_rows < SIZE_MAX ? (size_t)n_rows : SIZE_MAX);
    if (!loaded(s))
        return;
    size_t left = lc->z_len;
    for (uint32_t j = 0; j < lc->n_frozen; j++) {
        if (lc->frozen[j].size == 0 || lc->frozen[j].size > left || lc->frozen[j].mask > UINT32_MAX) {
            fw_snap_fail(s, "a stored chunk of %llu bytes, filter mask %llx (%zu bytes left)",
                         (unsigned long long)lc->frozen[j].size, (unsigned long long)lc->frozen[j].mask, left);
            return;
        }
        left -= lc->frozen[j].size;
    }
    uint64_t held = (uint64_t)lc->n_frozen * C + lc->tail_rows;
    if (left != 0 || held != n_rows)
        fw_snap_fail(s, "a log column or latency stage holds %llu rows in %zu bytes of %llu rows and %zu bytes",
                     (unsigned long long)held, lc->z_len - left, (unsigned long long)n_rows, lc->z_len);
}

/* Transferred: the days (counters and work; their latency and its bins last, in a section of
 * their own), every day series' rows, every log's rows (frozen chunks as stored, then the
 * tail), the latest experiment table, its unit and alpha, the looks, a look lost to memory.
 * Skipped, fixed at create or by the driver's setters before the first day: info, the
 * paths, the arms' overrides, the ranks, the users, followers, replicates and counterfactual
 * (borrowed: their owners restore them); the groups, series and logs the parts described
 * (their counts checked) and their tables (the parts' arrays, read at every write).
 * Skipped, measured by this process: start_time (a root attribute: when the resuming
 * process started, as a re-simulating resume had it); last_raw and writers (the last
 * write's cost, rewritten by the next). prev_kept: set by the complete write alone.
 * Capacities: the reader's are what it allocated (the days' and the looks' then equal the
 * counts: the next day grows them as usual). */
void fw_recorder_snap(fw_recorder *r, fw_snap *s)
{
    const fw_rec_info *in = &r->info;
    size_t per_day = (size_t)in->n_arms * in->n_counters, per_stat = (size_t)FW_STAGE__COUNT * N_STATS;
    size_t cap_counters = r->cap_days * per_day, cap_work = (size_t)r->cap_days * FW_WORK__COUNT,
           cap_stats = r->cap_days * per_stat;
    if (fw_snap_loading(s) && r->img >= 0) {   /* what it held is not what is loaded */
        H5Fclose(r->img);
        r->img = -1;
    }
    fw_snap_u32(s, &r->n_days);
    if (loaded(s) && r->n_days > in->days_planned)
        fw_snap_fail(s, "%u days recorded, the run plans %u", r->n_days, in->days_planned);
    snap_days(s, (void **)&r->counters, &cap_counters, r->n_days, per_day, sizeof *r->counters, in->days_planned);
    snap_days(s, (void **)&r->work, &cap_work, r->n_days, FW_WORK__COUNT, sizeof *r->work, in->days_planned);

    fw_snap_same_u32(s, r->n_group, "the recorder's groups");
    fw_snap_same_u32(s, r->n_series, "the recorder's day series");
    fw_snap_same_u32(s, r->n_table, "the recorder's tables");
    fw_snap_same_u32(s, r->n_log, "the recorder's logs");
    for (uint32_t k = 0; k < r->n_series; k++) {
        rec_series *se = &r->series[k];
        fw_snap_same_u32(s, se->n_cols, "a day series' columns");
        fw_snap_same_u32(s, se->type, "a day series' type");
        fw_snap_vec32(s, (void **)&se->rows, &se->n_rows, &se->cap_rows, (size_t)se->n_cols * type_size(se->type),
                      in->days_planned);
    }
    for (uint32_t k = 0; k < r->n_log; k++) {
        rec_log *l = &r->log[k];
        fw_snap_same_u32(s, l->n_cols, "a log's columns");
        fw_snap_u64(s, &l->n_rows);
        for (uint32_t c = 0; c < l->n_cols; c++)
            snap_rows(l->n_rows, FW_REC_LOG_CHUNK, &l->col[c], type_size(l->cols[c].type), s);
    }

    /* The experiment: its unit as the index of its name (the string is the experiment
     * module's), none before the first look. */
    snap_int(s, &r->have_exp);
    fw_exp_table_snap(&r->exp, s);
    uint32_t unit = FW_UNIT__COUNT;
    for (uint32_t u = 0; u < FW_UNIT__COUNT && r->exp_unit; u++)
        if (strcmp(r->exp_unit, fw_experiment_unit_name((int)u)) == 0)
            unit = u;
    if (!fw_snap_loading(s) && r->have_exp && unit == FW_UNIT__COUNT)
        fw_snap_fail(s, "the experiment's unit \"%s\" is none of flywheel's (a bug in flywheel)", r->exp_unit);
    fw_snap_index(s, &unit, FW_UNIT__COUNT + 1, FW_UNIT__COUNT + 1);   /* FW_UNIT__COUNT: none */
    if (loaded(s)) {
        if ((r->have_exp && unit == FW_UNIT__COUNT) || r->exp.n_arms > in->n_arms)
            fw_snap_fail(s, "an experiment %s unit over %u arms (the run has %u)",
                         unit < FW_UNIT__COUNT ? "with a" : "without", r->exp.n_arms, in->n_arms);
        else
            r->exp_unit = unit < FW_UNIT__COUNT ? fw_experiment_unit_name((int)unit) : NULL;
    }
    fw_snap_f64(s, &r->exp_alpha);
    size_t per_look = (size_t)in->n_arms * FW_EM__COUNT;
    size_t cap_mom = r->cap_looks * per_look, cap_p = cap_mom, cap_seq = cap_mom;
    fw_snap_u32(s, &r->n_looks);
    if (loaded(s) && r->n_looks > in->days_planned)
        fw_snap_fail(s, "%u looks recorded, the run plans %u days", r->n_looks, in->days_planned);
    snap_days(s, (void **)&r->look_mom, &cap_mom, r->n_looks, per_look, sizeof *r->look_mom, in->days_planned);
    snap_days(s, (void **)&r->look_p, &cap_p, r->n_looks, per_look, sizeof *r->look_p, in->days_planned);
    snap_days(s, (void **)&r->look_seq, &cap_seq, r->n_looks, per_look, sizeof *r->look_seq, in->days_planned);
    if (loaded(s))
        r->cap_looks = r->n_looks;
    snap_int(s, &r->exp_nomem);

    /* The latency histograms, and their bins (known from the first day on): measured, so in
     * a section of their own, the one that differs between two runs of the same days. */
    fw_snap_section(s, "rec_latency");
    size_t n_lower = (size_t)r->n_bins, n_upper = (size_t)r->n_bins;
    fw_snap_vec(s, (void **)&r->bin_lower, &n_lower, NULL, sizeof *r->bin_lower, INT32_MAX);
    fw_snap_vec(s, (void **)&r->bin_upper, &n_upper, NULL, sizeof *r->bin_upper, INT32_MAX);
    if (loaded(s)) {
        if (n_lower != n_upper || (n_lower == 0) != (r->n_days == 0))
            fw_snap_fail(s, "%zu and %zu latency bins for %u days", n_lower, n_upper, r->n_days);
        else
            r->n_bins = (int32_t)n_lower;
    }
    for (int st = 0; st < FW_STAGE__COUNT && r->n_bins > 0 && !fw_snap_failed(s); st++)
        snap_rows(r->n_days, 1, &r->lat[st], (size_t)r->n_bins * sizeof(uint64_t), s);
    snap_days(s, (void **)&r->lat_stats, &cap_stats, r->n_days, per_stat, sizeof *r->lat_stats, in->days_planned);
    if (loaded(s))
        r->cap_days = r->n_days;
}

/* Writes lc's rows into ds (rank 1: rows of one element; rank 2: rows of width elements;
 * chunks of C rows, the first at row 0): the stored chunks as they are (those the file does not
 * hold yet), the tail through the filters. -1 on failure. */
static int put_rows(hid_t ds, hid_t mtype, const rec_logcol *lc, int rank, hsize_t C, hsize_t width)
{
    const unsigned char *z = lc->z + lc->z_in_img;
    for (uint32_t j = lc->in_img; j < lc->n_frozen; z += lc->frozen[j++].size) {
        hsize_t off[2] = {(hsize_t)j * C, 0};
        if (H5Dwrite_chunk(ds, H5P_DEFAULT, (uint32_t)lc->frozen[j].mask, off, lc->frozen[j].size, z) < 0)
            return -1;
    }
    if (lc->tail_rows == 0)
        return 0;
    hsize_t at[2] = {(hsize_t)lc->n_frozen * C, 0}, n[2] = {lc->tail_rows, width};
    hid_t fs = -1, ms = -1;
    int rc = (fs = H5Dget_space(ds)) < 0 || H5Sselect_hyperslab(fs, H5S_SELECT_SET, at, NULL, n, NULL) < 0 ||
                     (ms = H5Screate_simple(rank, n, NULL)) < 0 || H5Dwrite(ds, mtype, ms, fs, H5P_DEFAULT, lc->tail) < 0
                 ? -1 : 0;
    if (FW_H5_CLOSE(ms, fs) < 0)
        rc = -1;
    return rc;
}

/* After put_rows: the tail's full chunks, read back filtered from the in-memory file, join
 * the stored ones and leave the tail, whose room shrinks to what is left, but no less than
 * min_cap rows. -1 on failure (what was stored stays valid: the same rows, filtered). */
static int freeze_rows(hid_t ds, rec_logcol *lc, size_t es, hsize_t C, size_t min_cap)
{
    size_t full = lc->tail_rows / C;
    if (full == 0)
        return 0;
    if (H5Dflush(ds) < 0)
        return -1;
    if (lc->n_frozen + full > lc->cap_frozen &&
        grow_array((void **)&lc->frozen, &lc->cap_frozen, lc->n_frozen + (uint32_t)full, sizeof *lc->frozen))
        return -1;
    /* The new chunks' sizes first (in the index's free room), so that z grows once. */
    size_t add = 0;
    hsize_t at = (hsize_t)lc->n_frozen * C;
    for (size_t j = 0; j < full; j++) {
        hsize_t off[2] = {at + j * C, 0}, size = 0;
        if (H5Dget_chunk_storage_size(ds, off, &size) < 0 || size == 0)
            return -1;
        lc->frozen[lc->n_frozen + j].size = size;
        add += size;
    }
    if (lc->z_len + add > lc->z_cap) {
        unsigned char *grown = realloc(lc->z, lc->z_len + add);
        if (!grown)
            return -1;
        lc->z = grown;
        lc->z_cap = lc->z_len + add;
    }
    size_t done = 0;
    for (; done < full; done++) {
        hsize_t off[2] = {at + done * C, 0};
        uint32_t mask = 0;
        rec_chunk *ch = &lc->frozen[lc->n_frozen];
        if (H5Dread_chunk(ds, H5P_DEFAULT, off, &mask, lc->z + lc->z_len) < 0)
            break;
        ch->mask = mask;
        lc->z_len += ch->size;
        lc->n_frozen++;
    }
    /* The frozen rows leave the tail (those of a failed read stay). */
    lc->tail_rows -= done * C;
    memmove(lc->tail, lc->tail + done * C * es, lc->tail_rows * es);
    if (done < full)
        return -1;
    size_t cap = lc->tail_rows > min_cap ? lc->tail_rows : min_cap;
    unsigned char *t = cap < lc->tail_cap ? realloc(lc->tail, cap * es) : NULL;
    if (t) {
        lc->tail = t;
        lc->tail_cap = cap;
    }
    return 0;
}

/* Every frozen chunk of lc is in the file now. */
static void in_file(rec_logcol *lc)
{
    lc->in_img = lc->n_frozen;
    lc->z_in_img = lc->z_len;
}

/* A new file holds no chunk yet. */
static void none_in_file(fw_recorder *r)
{
    for (int s = 0; s < FW_STAGE__COUNT; s++)
        r->lat[s].in_img = 0, r->lat[s].z_in_img = 0;
    for (uint32_t k = 0; k < r->n_log; k++)
        for (uint32_t c = 0; r->log[k].col && c < r->log[k].n_cols; c++)
            r->log[k].col[c].in_img = 0, r->log[k].col[c].z_in_img = 0;
}

/* Writes one column of a log into group g, then freezes the tail's full chunks, so that the
 * next write copies them. -1 on failure. */
static int write_log_col(fw_recorder *r, hid_t g, const rec_log *l, uint32_t c)
{
    const fw_rec_col *cd = &l->cols[c];
    rec_logcol *lc = &l->col[c];
    hsize_t C = FW_REC_LOG_CHUNK, rows = l->n_rows;
    const char *labels[1] = {"row"};
    hid_t ds = fw_h5_dataset(g, cd->name, file_type(cd->type), mem_type(cd->type), 1, &rows, &C, r->info.compression,
                             NULL, cd->unit, cd->doc, labels);
    if (ds < 0)
        return -1;
    /* What stays uncompressed is less than a chunk: a day's room is given back. */
    int rc = put_rows(ds, mem_type(cd->type), lc, 1, C, 1) < 0 || freeze_rows(ds, lc, type_size(cd->type), C, 1024) < 0
                 ? -1 : 0;
    if (rc == 0)
        in_file(lc);
    if (H5Dclose(ds) < 0)
        rc = -1;
    return rc;
}

/* Every log into file f. On several ranks rank 0 alone calls this, on the file it reopens
 * after the collective close (finish_alone): logs copy compressed chunks as they are
 * (H5Dwrite_chunk) and read them back, which MPI-IO does not do, and rank 0's recorder holds
 * every row (every rank's log content is the same, computed on replicated state; the other
 * ranks keep none, fw_recorder_log_append). Their groups exist: the collective phase made
 * every group. */
static int write_logs(fw_recorder *r, hid_t f)
{
    for (uint32_t k = 0; k < r->n_log; k++) {
        const rec_log *l = &r->log[k];
        hid_t g = H5Gopen2(f, r->group[l->group].path, H5P_DEFAULT);
        if (g < 0)
            return -1;
        int rc = 0;
        for (uint32_t c = 0; c < l->n_cols && rc == 0; c++)
            rc = write_log_col(r, g, l, c);
        if (H5Gclose(g) < 0)
            rc = -1;
        if (rc < 0)
            return -1;
    }
    return 0;
}

typedef struct wctx {
    hid_t f;
    hid_t day_ds;           /* /days/day (or /latency/day), a dimension scale */
    const char *status;
    double wall_s, rss_mb;
    double *col;            /* scratch [n_days + 1] */
    uint64_t *ucol;
    int32_t *days;          /* 0 .. n_days - 1 */
} wctx;

/* Rows [lo, hi) of n this rank writes of an entity table (creators, a part's table): an even
 * block per rank, as users; all of them in one process. */
static void entity_rows(const fw_recorder *r, hsize_t n, hsize_t *lo, hsize_t *hi)
{
    int size = r->par_size > 1 ? r->par_size : 1;
    *lo = n * (hsize_t)r->par_rank / (hsize_t)size;
    *hi = size == 1 ? n : n * (hsize_t)(r->par_rank + 1) / (hsize_t)size;
}

/* A column of n rows of which this rank writes rows [lo, hi) (v: all n): in one process the
 * dataset fw_h5_write_1d has always written. */
static int write_col(const fw_recorder *r, hid_t g, const char *name, hid_t ft, hid_t mt, hsize_t n, hsize_t lo,
                     hsize_t hi, const void *v, const char *unit, const char *doc, const char *label)
{
    if (r->par_size <= 1)
        return fw_h5_write_1d(g, name, ft, mt, n, v, r->info.compression, unit, doc, -1, label);
    return fw_h5_write_1d_rows(g, name, ft, mt, n, lo, hi - lo, v, r->info.compression, unit, doc, label);
}

/* /world: the generated world's summary and the creators' follower counts. */
static int write_world(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    hid_t g = fw_h5_group(w->f, "world", NULL);
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
        hsize_t lo, hi;
        entity_rows(r, r->n_creators, &lo, &hi);
        int e = write_col(r, g, "creator_followers", H5T_STD_U32LE, H5T_NATIVE_UINT32, r->n_creators, lo, hi, fol,
                          "users", "followers of each creator as of the last finished day", "creator");
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

/* /arms: each arm's weight, layer and users, and its overrides (set, key, value). */
static int write_arms(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    hid_t g = fw_h5_group(w->f, "arms", NULL), ga = -1;
    int rc = -1;
    if (g < 0)
        return -1;
    for (uint32_t a = 0; a < in->n_arms; a++) {
        if ((ga = fw_h5_group(g, in->arm_names[a], NULL)) < 0 ||
            fw_h5_attr_f64(ga, "weight", in->arm_weights[a]) < 0 || fw_h5_attr_str(ga, "layer", in->arm_layers[a]) < 0 ||
            fw_h5_attr_u64(ga, "users", in->arm_users[a]) < 0)
            goto done;
        /* The overrides, as written and as resolved (empty for an arm that sets nothing). */
        hsize_t n = a < FW_MAX_ARMS ? r->arm_n_set[a] : 0;
        if (in->scenario &&
            (fw_h5_write_strings(ga, "set", (const char *const *)r->arm_set[a], n, NULL,
                                 "the arm's overrides as written in the scenario (key.path=value), in order") < 0 ||
             fw_h5_write_strings(ga, "key", (const char *const *)r->arm_key[a], n, NULL,
                                 "the key each override sets") < 0 ||
             fw_h5_write_strings(ga, "value", (const char *const *)r->arm_value[a], n, NULL,
                                 "the value the arm's resolved configuration holds for that key, as "
                                 "`flywheel defaults` writes it") < 0))
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
    uint32_t D = r->n_days, C = in->n_counters, P = in->days_planned;
    unsigned z = in->compression;
    size_t per_day = (size_t)in->n_arms * C;
    hid_t g = fw_h5_group(w->f, "days", NULL), ga = -1;
    int rc = -1;
    if (g < 0)
        return -1;
    if (fw_h5_write_series(g, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, D, P, w->days, z, "day",
                       "simulated day index (0 = first simulated day)", -1, "day") < 0 ||
        (w->day_ds = H5Dopen2(g, "day", H5P_DEFAULT)) < 0 || fw_h5_make_scale(w->day_ds, "day") < 0)
        goto done;
    for (uint32_t a = 0; a < in->n_arms; a++) {
        if ((ga = fw_h5_group(g, in->arm_names[a], NULL)) < 0)
            goto done;
        for (uint32_t c = 0; c < C; c++) {
            for (uint32_t d = 0; d < D; d++)
                w->ucol[d] = r->counters[d * per_day + (size_t)a * C + c];
            if (fw_h5_write_series(ga, in->counters[c].name, H5T_STD_U64LE, H5T_NATIVE_UINT64, D, P, w->ucol, z,
                               in->counters[c].unit, in->counters[c].doc, w->day_ds, "day") < 0)
                goto done;
        }
        for (uint32_t k = 0; k < in->n_rates; k++) {
            const fw_rec_rate *rt = &in->rates[k];
            for (uint32_t d = 0; d < D; d++) {
                const uint64_t *row = &r->counters[d * per_day + (size_t)a * C];
                w->col[d] = row[rt->den] ? (rt->scale) * (double)row[rt->num] / (double)row[rt->den] : NAN;
            }
            if (fw_h5_write_series(ga, rt->name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, D, P, w->col, z, rt->unit, rt->doc,
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
        rc = fw_h5_write_series(g, fw_work_name(k), H5T_STD_U64LE, H5T_NATIVE_UINT64, r->n_days,
                                r->info.days_planned, w->ucol,
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
            rc = fw_h5_write_series(g, s->cols[c].name, file_type(s->type), mem_type(s->type), s->n_rows,
                                    r->info.days_planned, col, z,
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
        int rc, par = r->par_size > 1;
        hsize_t lo, hi;
        entity_rows(r, rows, &lo, &hi);
        if (t->cols == 0) {
            rc = write_col(r, g, tb->name, file_type(t->type), mem_type(t->type), rows, lo, hi, *t->data, t->unit,
                           t->doc, t->labels[0]);
        } else {
            hsize_t dims[2] = {rows, t->cols}, chunk[2] = {1, t->cols < 4096 ? t->cols : 4096};
            hid_t ds = fw_h5_dataset(g, tb->name, file_type(t->type), mem_type(t->type), 2, dims, chunk, z,
                                     par ? NULL : *t->data, t->unit, t->doc, t->labels);
            rc = ds < 0 || (t->attr_name && fw_h5_attr_str(ds, t->attr_name, *t->attr_value) < 0) ? -1 : 0;
            if (rc == 0 && par &&
                fw_h5_write_rows(ds, mem_type(t->type), lo, hi - lo,
                                 (const unsigned char *)*t->data + lo * t->cols * type_size(t->type)) < 0)
                rc = -1;
            if (ds >= 0)
                H5Dclose(ds);
        }
        H5Gclose(g);
        if (rc < 0)
            return -1;
    }
    return r->par_size > 1 ? 0 : write_logs(r, w->f);   /* several ranks: finish_alone */
}

/* The first of ids[0..n) (ascending) that is >= u. */
static hsize_t first_at_least(const uint32_t *ids, hsize_t n, uint32_t u)
{
    hsize_t lo = 0, hi = n;
    while (lo < hi) {
        hsize_t mid = lo + (hi - lo) / 2;
        if (ids[mid] < u)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* /users/<arm>/: the users of each arm, their units, and their counts per period. On several
 * ranks each writes the rows of its own users (ids ascend, so they are one block). */
static int write_users(fw_recorder *r, hid_t f)
{
    const fw_assignment *a = r->asg;
    const fw_user_aggs *g = r->aggs;
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
        hsize_t lo = 0, hi = n;
        if (r->par_size > 1) {
            lo = first_at_least(ids, n, r->user_lo);
            hi = first_at_least(ids, n, r->user_hi);
        }
        if ((ga = fw_h5_group(gu, r->info.arm_names[arm], NULL)) < 0)
            goto done;
        if (write_col(r, ga, "user_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, n, lo, hi, ids, "1", "user id", "user") < 0)
            goto done;
        for (hsize_t k = 0; k < n; k++) {
            uint32_t unit = a->unit_of_user[ids[k]];
            col[k] = unit == FW_NONE ? FW_NONE : a->unit_id[unit];
        }
        if (write_col(r, ga, "unit_id", H5T_STD_U32LE, H5T_NATIVE_UINT32, n, lo, hi, col, "1",
                      "randomisation unit (the user, the top creator of the user's cluster, or "
                      "4294967295 for users who are no unit: non-creators in creator experiments)",
                      "user") < 0)
            goto done;
        static const char *const periods[2] = {"pre", "exp"};
        for (int p = 0; p < 2; p++) {
            if ((gp = fw_h5_group(ga, periods[p], p ? "experiment period" : "pre-period")) < 0)
                goto done;
            for (int m = 0; m < FW_UM__COUNT; m++) {
                for (hsize_t k = 0; k < n; k++)
                    col[k] = g->v[p][m][ids[k]];
                if (write_col(r, gp, fw_user_metric_name[m], H5T_STD_U32LE, H5T_NATIVE_UINT32, n, lo, hi, col,
                              fw_user_metric_unit[m], fw_user_metric_doc[m], "user") < 0)
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

/* ---- /experiment and /replicates ------------------------------------------------------- */

/* What a field's values are in: the metric's own unit (one per row: a string-array "units"
 * attribute, as /experiment/units), or one unit for the whole dataset. */
typedef enum unit_kind { U_METRIC, U_FRACTION, U_PROB, U_FLAG, U_RATIO, U_LOG, U_DF } unit_kind;

static const char *const unit_text[] = {
    [U_FRACTION] = "fraction", [U_PROB] = "probability", [U_FLAG] = "boolean",
    [U_RATIO] = "ratio", [U_LOG] = "natural log", [U_DF] = "degrees of freedom"};

/* A field of /experiment/<arm> (and, when rep, of /replicates/<arm>): a double at offset `at`
 * in fw_exp_row (NaN unless the row has CUPED when cuped), or a special value (at = SPECIAL_*). */
typedef struct exp_field {
    const char *name;
    size_t at;
    unit_kind unit;
    int cuped, rep;
    const char *doc;
} exp_field;

#define SPECIAL_CUPED ((size_t)-1)   /* the CUPED flag */
#define SPECIAL_DF ((size_t)-2)      /* the primary test's df */
#define AT(member) offsetof(fw_exp_row, member)

static const exp_field exp_fields[] = {
    {"control", AT(abs.control), U_METRIC, 0, 0, "control arm's estimate: mean per unit, or ratio of sums"},
    {"treatment", AT(abs.treatment), U_METRIC, 0, 0, "treatment arm's estimate"},
    {"delta", AT(abs.delta), U_METRIC, 0, 1, "absolute difference treatment - control (delta method), without CUPED"},
    {"delta_se", AT(abs.se), U_METRIC, 0, 1, "standard error of the difference"},
    {"delta_ci_lo", AT(abs.ci_lo), U_METRIC, 0, 0, "lower bound of the difference's interval (Welch t)"},
    {"delta_ci_hi", AT(abs.ci_hi), U_METRIC, 0, 0, "upper bound of the difference's interval"},
    {"delta_p", AT(abs.p), U_PROB, 0, 0, "two-sided p of the difference without CUPED (Welch-Satterthwaite t)"},
    {"lift", AT(rel.delta), U_FRACTION, 0, 1,
     "relative lift treatment / control - 1; NaN when the control is too sparse (its estimate within "
     "t(1 - alpha/2, df) standard errors of 0) or an estimate is not positive"},
    {"lift_ci_lo", AT(rel.ci_lo), U_FRACTION, 0, 1, "lower bound of the lift's log-ratio interval (never below -1)"},
    {"lift_ci_hi", AT(rel.ci_hi), U_FRACTION, 0, 1, "upper bound of the lift's log-ratio interval"},
    {"lift_se_log", AT(rel.se), U_LOG, 0, 0, "standard error of log(treatment / control) (delta method)"},
    {"cuped", SPECIAL_CUPED, U_FLAG, 0, 0, "1 when CUPED was applied (pre-period covariate)"},
    {"cuped_theta", AT(theta), U_RATIO, 1, 0, "CUPED coefficient theta (pooled over both arms)"},
    {"cuped_control", AT(cuped_abs.control), U_METRIC, 1, 0, "control's CUPED-adjusted mean"},
    {"cuped_treatment", AT(cuped_abs.treatment), U_METRIC, 1, 0, "treatment's CUPED-adjusted mean"},
    {"cuped_delta", AT(cuped_abs.delta), U_METRIC, 1, 1, "CUPED-adjusted difference treatment - control"},
    {"cuped_delta_se", AT(cuped_abs.se), U_METRIC, 1, 1, "standard error of the CUPED-adjusted difference"},
    {"cuped_delta_ci_lo", AT(cuped_abs.ci_lo), U_METRIC, 1, 0, "lower bound of the CUPED-adjusted difference's interval"},
    {"cuped_delta_ci_hi", AT(cuped_abs.ci_hi), U_METRIC, 1, 0, "upper bound of the CUPED-adjusted difference's interval"},
    {"cuped_p", AT(cuped_abs.p), U_PROB, 1, 0, "two-sided p of the CUPED-adjusted difference"},
    {"cuped_lift", AT(cuped_rel.delta), U_FRACTION, 1, 1, "CUPED-adjusted lift (of the adjusted means), NaN as lift"},
    {"cuped_ci_lo", AT(cuped_rel.ci_lo), U_FRACTION, 1, 1, "lower bound of the CUPED lift's log-ratio interval"},
    {"cuped_ci_hi", AT(cuped_rel.ci_hi), U_FRACTION, 1, 1, "upper bound of the CUPED lift's log-ratio interval"},
    {"df", SPECIAL_DF, U_DF, 0, 0, "Welch-Satterthwaite degrees of freedom of the primary test"},
    {"mde", AT(mde), U_METRIC, 0, 1, "minimum detectable |difference| of the primary test at 80% power, two-sided at alpha"},
    {"mde_rel", AT(mde_rel), U_FRACTION, 0, 0, "mde as a fraction of the control's (CUPED-adjusted, where applied) estimate"},
    {"p", AT(p), U_PROB, 0, 1, "primary p: of the absolute difference, CUPED-adjusted when cuped (what flags, Holm, BH and p_seq use)"},
    {"p_holm", AT(p_holm), U_PROB, 0, 1, "p Holm-adjusted over the arm's metrics"},
    {"p_bh", AT(p_bh), U_PROB, 0, 0, "p Benjamini-Hochberg-adjusted over the arm's metrics"},
    {"p_seq", AT(p_seq), U_PROB, 0, 1,
     "sequential p over the daily looks: min over looks k of p_k / w_k, w_k the look's share of alpha "
     "(union-bound spending; /experiment/days/alpha_spent); valid under any number of looks up to the plan"},
};
#define N_EXP_FIELDS (sizeof exp_fields / sizeof exp_fields[0])

static double field_value(const fw_exp_row *w, const exp_field *fd)
{
    if (fd->at == SPECIAL_CUPED)
        return w->cuped;
    if (!w->ok || (fd->cuped && !w->cuped))
        return NAN;
    if (fd->at == SPECIAL_DF)
        return w->cuped ? w->cuped_abs.df : w->abs.df;
    double v;
    memcpy(&v, (const char *)w + fd->at, sizeof v);
    return v;
}

/* The "units" attribute of a per-metric dataset: one string, or one per metric. */
static int set_units(hid_t d, unit_kind u)
{
    return u == U_METRIC ? fw_h5_attr_strings(d, "units", fw_experiment_metric_unit, FW_EM__COUNT)
                         : fw_h5_attr_str(d, "units", unit_text[u]);
}

/* The sufficient statistics stored per look: name, which member, unit (of the numerator y,
 * the denominator x or the unit count), description. */
typedef struct look_stat {
    const char *name;
    size_t at;
    const char *unit;   /* "y", "x", "yy", "xx", "xy", "n": built per metric by look_units */
    const char *doc;
} look_stat;

static const look_stat look_stats[] = {
    {"n", offsetof(fw_exp_moments, n), "n", "randomisation units in the arm"},
    {"sum_y", offsetof(fw_exp_moments, sum_y), "y", "sum over units of the metric's numerator y"},
    {"sum_x", offsetof(fw_exp_moments, sum_x), "x", "sum over units of the metric's denominator x (users in the unit for per-unit means)"},
    {"sum_yy", offsetof(fw_exp_moments, sum_yy), "yy", "sum of y^2"},
    {"sum_xx", offsetof(fw_exp_moments, sum_xx), "xx", "sum of x^2"},
    {"sum_xy", offsetof(fw_exp_moments, sum_xy), "xy", "sum of x y"},
    {"sum_pre", offsetof(fw_exp_moments, sum_pre), "y", "sum of the numerator in the pre-period, z (CUPED's covariate)"},
    {"sum_pre_sq", offsetof(fw_exp_moments, sum_pre_sq), "yy", "sum of z^2"},
    {"sum_y_pre", offsetof(fw_exp_moments, sum_y_pre), "yy", "sum of y z"},
};
#define N_LOOK_STATS (sizeof look_stats / sizeof look_stats[0])

static const char *part_unit(fw_user_metric m)
{
    return m == FW_UM_USERS ? "users" : fw_user_metric_unit[m];
}

/* The per-metric units of look statistic `kind` into buf (n_metric strings in one buffer). */
static void look_units(const char *kind, const char *unit_name, char (*buf)[64], const char **v)
{
    for (int m = 0; m < FW_EM__COUNT; m++) {
        const char *y = part_unit(fw_experiment_metric_num[m]), *x = part_unit(fw_experiment_metric_den[m]);
        if (!strcmp(kind, "n"))
            snprintf(buf[m], 64, "%ss", unit_name);
        else if (!strcmp(kind, "y"))
            snprintf(buf[m], 64, "%s", y);
        else if (!strcmp(kind, "x"))
            snprintf(buf[m], 64, "%s", x);
        else if (!strcmp(kind, "yy"))
            snprintf(buf[m], 64, "%s^2", y);
        else if (!strcmp(kind, "xx"))
            snprintf(buf[m], 64, "%s^2", x);
        else
            snprintf(buf[m], 64, "%s*%s", x, y);
        v[m] = buf[m];
    }
}

/* A [rows, metric] float64 dataset name in g from rows x FW_EM__COUNT values. */
static hid_t metric_table(fw_recorder *r, hid_t g, const char *name, const char *row_label, hsize_t rows,
                          hsize_t cap, const double *v, const char *doc)
{
    hsize_t dims[2] = {rows, FW_EM__COUNT}, chunk[2] = {rows > cap ? rows : cap ? cap : 1, FW_EM__COUNT};
    const char *labels[2] = {row_label, "metric"};
    return fw_h5_dataset(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, chunk, r->info.compression, v,
                         NULL, doc, labels);
}

/* /experiment/days: every look's sufficient statistics per arm (controls too) and metric, and
 * the treatment arms' p and sequential p, so that every p-value can be recomputed. */
static int write_looks(fw_recorder *r, hid_t ge)
{
    uint32_t L = r->n_looks, A = r->info.n_arms, P = r->exp.planned;
    unsigned z = r->info.compression;
    int rc = -1;
    hid_t gd = -1, ga = -1, d = -1;
    double *buf = malloc(((size_t)L * FW_EM__COUNT + 1) * sizeof *buf);
    int32_t *look = malloc(((size_t)L + 1) * sizeof *look), *day = malloc(((size_t)L + 1) * sizeof *day);
    double *spent = malloc(((size_t)L + 1) * sizeof *spent);
    char ubuf[FW_EM__COUNT][64];
    const char *units[FW_EM__COUNT];
    if (!buf || !look || !day || !spent)
        goto done;
    for (uint32_t k = 0; k < L; k++) {
        look[k] = (int32_t)(k + 1);
        day[k] = (int32_t)(r->pre_days + k);
        spent[k] = r->exp_alpha * fw_stat_seq_share(k + 1, r->exp.planned);
    }
    if ((gd = fw_h5_group(ge, "days",
                          "the experiment's daily looks: look k is the k-th day of the experiment period. Per arm "
                          "and metric, the look's sufficient statistics over the arm's randomisation units "
                          "(every test of the look is a function of them; see the README), and per treatment "
                          "arm the look's primary p and the sequential p")) < 0 ||
        fw_h5_attr_i64(gd, "planned_looks", r->exp.planned) < 0 ||
        fw_h5_attr_str(gd, "sequential_design",
                       "union-bound (Bonferroni) alpha spending: look k of K may reject when p_k <= alpha w_k, "
                       "w_k = 1/(4(K-1)) before the last planned look and 3/4 at it (Haybittle-Peto shares); "
                       "P(any false rejection) <= alpha for any correlation between looks") < 0 ||
        fw_h5_write_series(gd, "look", H5T_STD_I32LE, H5T_NATIVE_INT32, L, P, look, z, "look",
                       "look number (experiment-period day, from 1)", -1, "look") < 0 ||
        fw_h5_write_series(gd, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, L, P, day, z, "day",
                       "simulated day index of the look (the day whose end it follows)", -1, "look") < 0 ||
        fw_h5_write_series(gd, "alpha_spent", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, L, P, spent, z, "probability",
                       "alpha w_k: the look rejects a metric when its p <= this", -1, "look") < 0)
        goto done;
    for (uint32_t a = 0; a < A; a++) {
        int treated = r->asg && r->asg->control_of_arm[a] != a;
        if ((ga = fw_h5_group(gd, r->info.arm_names[a], NULL)) < 0)
            goto done;
        for (size_t s = 0; s < N_LOOK_STATS; s++) {
            for (uint32_t k = 0; k < L; k++)
                for (int m = 0; m < FW_EM__COUNT; m++) {
                    const fw_exp_moments *mo = &r->look_mom[((size_t)k * A + a) * FW_EM__COUNT + (size_t)m];
                    memcpy(&buf[(size_t)k * FW_EM__COUNT + (size_t)m], (const char *)mo + look_stats[s].at,
                           sizeof(double));
                }
            look_units(look_stats[s].unit, r->exp_unit ? r->exp_unit : "unit", ubuf, units);
            if ((d = metric_table(r, ga, look_stats[s].name, "look", L, P, buf, look_stats[s].doc)) < 0 ||
                fw_h5_attr_strings(d, "units", units, FW_EM__COUNT) < 0)
                goto done;
            H5Dclose(d);
            d = -1;
        }
        for (int which = 0; treated && which < 2; which++) {
            const double *src = which ? r->look_seq : r->look_p;
            for (uint32_t k = 0; k < L; k++)
                memcpy(&buf[(size_t)k * FW_EM__COUNT], &src[((size_t)k * A + a) * FW_EM__COUNT],
                       FW_EM__COUNT * sizeof *buf);
            if ((d = metric_table(r, ga, which ? "p_seq" : "p", "look", L, P, buf,
                                  which ? "sequential p after the look" : "the look's primary p")) < 0 ||
                set_units(d, U_PROB) < 0)
                goto done;
            H5Dclose(d);
            d = -1;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    FW_H5_CLOSE(d, ga, gd);
    free(buf);
    free(look);
    free(day);
    free(spent);
    return rc;
}

/* /experiment: one dataset per field and treatment arm, indexed by /experiment/metric, and
 * the looks under /experiment/days. */
static int write_experiment(fw_recorder *r, hid_t f)
{
    const fw_exp_table *t = &r->exp;
    unsigned z = r->info.compression;
    hsize_t n = FW_EM__COUNT;
    int rc = -1;
    hid_t ge = -1, ga = -1, ds = -1, d = -1;
    if ((ge = fw_h5_group(f, "experiment",
                          "each treatment arm against its layer's control, per metric, at the latest look: the "
                          "primary test is the absolute difference (CUPED-adjusted where applied; delta method, "
                          "Welch-Satterthwaite df), the lift has a log-ratio interval")) < 0 ||
        fw_h5_attr_str(ge, "unit", r->exp_unit) < 0 || fw_h5_attr_f64(ge, "alpha", r->exp_alpha) < 0 ||
        fw_h5_attr_f64(ge, "srm_chi2", t->srm_chi2[0]) < 0 || fw_h5_attr_f64(ge, "srm_p", t->srm_p[0]) < 0 ||
        fw_h5_attr_i64(ge, "days", t->days) < 0 || fw_h5_attr_i64(ge, "planned_looks", t->planned) < 0 ||
        fw_h5_attr_i64(ge, "cuped", t->have_pre) < 0 ||
        fw_h5_attr_f64(ge, "mde_power", FW_EXPERIMENT_MDE_POWER) < 0)
        goto done;
    /* Only with learner groups, so that files of runs without them are what they were. */
    if (t->groups > 1 && fw_h5_attr_i64(ge, "learner_groups", t->groups) < 0)
        goto done;
    /* The metric names, a dimension scale of every field, and their units. */
    if (fw_h5_write_strings(ge, "metric", fw_experiment_metric_name, n, NULL, NULL) < 0 ||
        (ds = H5Dopen2(ge, "metric", H5P_DEFAULT)) < 0 || fw_h5_make_scale(ds, "metric") < 0 ||
        fw_h5_attr_str(ds, "description", "the metrics tested, in the order of every field's rows") < 0 ||
        fw_h5_write_strings(ge, "units", fw_experiment_metric_unit, n, NULL,
                            "each metric's unit: what control, treatment, the differences and mde are in") < 0)
        goto done;
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
        for (size_t k = 0; k < N_EXP_FIELDS; k++) {
            for (int m = 0; m < FW_EM__COUNT; m++)
                col[m] = field_value(&t->row[arm][m], &exp_fields[k]);
            if ((d = fw_h5_dataset(ga, exp_fields[k].name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, &n, z, col,
                                   NULL, exp_fields[k].doc, (const char *const[]){"metric"})) < 0 ||
                set_units(d, exp_fields[k].unit) < 0 || fw_h5_attach(d, ds, 0) < 0)
                goto done;
            H5Dclose(d);
            d = -1;
        }
        H5Gclose(ga);
        ga = -1;
    }
    if (r->n_looks > 0 && write_looks(r, ge) < 0)
        goto done;
    rc = 0;
done:
    FW_H5_CLOSE(d, ga, ds, ge);
    return rc;
}

/* /replicates: each replicate's tests, [replicate, metric] per field and treatment arm. */
static int write_replicates(fw_recorder *r, hid_t f)
{
    uint32_t K = r->n_reps, A = r->info.n_arms;
    unsigned z = r->info.compression;
    int rc = -1;
    hid_t gr = -1, ga = -1, d = -1;
    double *buf = malloc(((size_t)K * FW_EM__COUNT + 1) * sizeof *buf);
    if (!buf)
        return -1;
    if ((gr = fw_h5_group(f, "replicates",
                          "the experiment rerun with other seeds: per replicate and metric, the tests "
                          "of /experiment at the last look (replicate 0 is this file's run)")) < 0 ||
        fw_h5_write_1d(gr, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, K, r->rep_seeds, z, "seed",
                       "seed of each replicate", -1, "replicate") < 0)
        goto done;
    for (uint32_t k = 0; k < K; k++)
        buf[k] = r->reps[k].srm_p[0];
    if (fw_h5_write_1d(gr, "srm_p", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, K, buf, z, "probability",
                       "sample ratio mismatch p of each replicate (first layer)", -1, "replicate") < 0)
        goto done;
    for (uint32_t arm = 0; arm < A; arm++) {
        uint32_t ctl = r->asg->control_of_arm[arm];
        if (arm == ctl)
            continue;
        if ((ga = fw_h5_group(gr, r->info.arm_names[arm], NULL)) < 0 ||
            fw_h5_attr_str(ga, "control", r->info.arm_names[ctl]) < 0)
            goto done;
        for (size_t fi = 0; fi < N_EXP_FIELDS; fi++) {
            if (!exp_fields[fi].rep)
                continue;
            for (uint32_t k = 0; k < K; k++)
                for (int m = 0; m < FW_EM__COUNT; m++)
                    buf[(size_t)k * FW_EM__COUNT + m] = field_value(&r->reps[k].row[arm][m], &exp_fields[fi]);
            if ((d = metric_table(r, ga, exp_fields[fi].name, "replicate", K, K, buf, exp_fields[fi].doc)) < 0 ||
                set_units(d, exp_fields[fi].unit) < 0)
                goto done;
            H5Dclose(d);
            d = -1;
        }
        H5Gclose(ga);
        ga = -1;
    }
    rc = 0;
done:
    FW_H5_CLOSE(d, ga, gr);
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
    hid_t dv = -1;
    if (fw_h5_write_fixed(gc, "value", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 3, dims, r->cf, NULL,
                          "[arm, experiment day, metric]: each metric over every unit after that many "
                          "experiment days, with everyone on the arm; units per metric") < 0 ||
        (dv = H5Dopen2(gc, "value", H5P_DEFAULT)) < 0 || set_units(dv, U_METRIC) < 0) {
        FW_H5_CLOSE(dv);
        goto done;
    }
    H5Dclose(dv);
    static const char *const fields[4] = {"gte", "gte_abs", "bias", "bias_abs"};
    static const unit_kind units[4] = {U_FRACTION, U_METRIC, U_FRACTION, U_METRIC};
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
            hid_t dd = fw_h5_dataset(ga, fields[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, &n, z, col, NULL,
                                     docs[k], (const char *const[]){"metric"});
            if (dd < 0)
                goto done;
            int e = set_units(dd, units[k]) < 0 ? -1 : fw_h5_attach(dd, ds, 0);
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

/* /latency: measured, so written after every deterministic dataset. A new file (a run's first
 * write, and its last) then places those as any run does; the partial file's later writes
 * extend datasets wherever the kept file has room, which measured sizes decide, so in a partial
 * file what is deterministic is every value (h5diff compares those, and dereferences the
 * dimension scales' references), not where in the file it lies. */
static int write_latency(fw_recorder *r, wctx *w)
{
    uint32_t D = r->n_days;
    unsigned z = r->info.compression;
    int par = r->par_size > 1;
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
    if (fw_h5_write_series(gs, "day", H5T_STD_I32LE, H5T_NATIVE_INT32, D, r->info.days_planned, w->days, z, "day",
                           "simulated day index", -1, "day") < 0 ||
        (w->day_ds = H5Dopen2(gs, "day", H5P_DEFAULT)) < 0 || fw_h5_make_scale(w->day_ds, "day") < 0)
        goto done;
    if (r->n_bins > 0) {
        hsize_t nb = (hsize_t)r->n_bins;
        hsize_t chunk = nb;
        const char *bl[1] = {"bin"};
        bin_ds = fw_h5_dataset(gs, "bin_lower_ns", H5T_STD_I64LE, H5T_NATIVE_INT64, 1, &nb, &chunk, z, r->bin_lower,
                               "ns", "inclusive lower edge of each histogram bin", bl);
        if (bin_ds < 0 || fw_h5_make_scale(bin_ds, "bin_lower_ns") < 0 ||
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
            /* On several ranks nothing is stored: the write is collective (MPI-IO copies no
             * stored chunks), every day is in the tail, written as one block by rank 0. */
            rec_logcol *lc = &r->lat[s];
            if (par && lc->n_frozen)   /* cannot be: several ranks never freeze, nor load a snapshot */
                goto done;
            hsize_t dims[2] = {D, (hsize_t)r->n_bins}, chunk[2] = {1, (hsize_t)r->n_bins};
            const char *labels[2] = {"day", "bin"};
            hid_t ds = fw_h5_dataset(ga, "counts", H5T_STD_U64LE, H5T_NATIVE_UINT64, 2, dims, chunk, z ? z : 1,
                                     par ? lc->tail : NULL, "calls", "calls per latency bin per day", labels);
            if (ds < 0)
                goto done;
            if (!par && (put_rows(ds, H5T_NATIVE_UINT64, lc, 2, 1, (hsize_t)r->n_bins) < 0 ||
                         freeze_rows(ds, lc, (size_t)r->n_bins * sizeof(uint64_t), 1, 4) < 0)) {
                H5Dclose(ds);
                goto done;
            }
            if (!par)
                in_file(lc);
            int e1 = D > 0 ? fw_h5_attach(ds, w->day_ds, 0) : 0;
            int e2 = fw_h5_attach(ds, bin_ds, 1);
            H5Dclose(ds);
            if (e1 < 0 || e2 < 0)
                goto done;
        }
        for (int k = 0; k < N_STATS; k++) {
            for (uint32_t d = 0; d < D; d++)
                w->col[d] = r->lat_stats[((size_t)d * FW_STAGE__COUNT + s) * N_STATS + k];
            if (fw_h5_write_series(ga, stat_names[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, D, r->info.days_planned, w->col, z,
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

/* Provenance last: measured values (times, threads) vary between runs (see write_latency). */
static int write_provenance(fw_recorder *r, wctx *w)
{
    const fw_rec_info *in = &r->info;
    hid_t f = w->f;
    char end_time[64];
    iso_now(end_time, sizeof end_time);
#ifdef FW_HAVE_MPI
    /* Attributes are written collectively, all ranks with the same values: rank 0's. */
    if (r->par_size > 1) {
        double m[4] = {w->wall_s, w->rss_mb, in->generation_s, in->generation_peak_rss_mb};
        MPI_Bcast(m, 4, MPI_DOUBLE, 0, MPI_COMM_WORLD);
        MPI_Bcast(end_time, sizeof end_time, MPI_CHAR, 0, MPI_COMM_WORLD);
        MPI_Bcast(r->start_time, sizeof r->start_time, MPI_CHAR, 0, MPI_COMM_WORLD);
        w->wall_s = m[0];
        w->rss_mb = m[1];
        r->info.generation_s = m[2];
        r->info.generation_peak_rss_mb = m[3];
        if (fw_h5_attr_i64(f, "writer_ranks", r->par_size) < 0)
            return -1;
    }
#endif
    if (fw_h5_attr_str(f, "flywheel_version", in->version) < 0 ||
        fw_h5_attr_str(f, "git_revision", in->git_revision) < 0 ||
        fw_h5_attr_str(f, "scenario_name", in->scenario_name) < 0 ||
        fw_h5_attr_str(f, "scenario_path", in->scenario_path) < 0 ||
        fw_h5_attr_str(f, "scenario_text", in->scenario_text) < 0 ||
        fw_h5_attr_str(f, "scenario_resolved", in->scenario_resolved) < 0 ||
        fw_h5_attr_str(f, "overrides", in->overrides) < 0 || fw_h5_attr_u64(f, "seed", in->seed) < 0 ||
        fw_h5_attr_i64(f, "threads", in->threads) < 0 ||
        (in->ranks > 1 && fw_h5_attr_i64(f, "ranks", in->ranks) < 0) ||
        fw_h5_attr_str(f, "start_time", r->start_time) < 0 ||
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

/* The file, section by section: the deterministic ones first, /latency and the provenance
 * attributes last. The first write builds each in a new in-memory file; a later one writes
 * into the file the last left open (r->img) through the same writers, which find what exists
 * (h5util.c, "writing into a file written before"). */
typedef int (*section_writer)(fw_recorder *r, wctx *w);
static const section_writer sections[] = {
    write_world, write_arms, write_days, write_work, write_items, write_users_section,
    write_experiment_section, write_counterfactual_section, write_replicates_section, write_latency,
    write_provenance,
};

/* File access through HDF5's core driver without a backing store: the file is built in memory
 * and HDF5 itself never writes to disk. Written through the default driver, a full disk made
 * H5Fclose fail and left the file open inside libhdf5, whose exit cleanup then crashed
 * (SIGSEGV); now every byte goes out through write_image, each error checked. Strong close
 * degree: closing the file also closes whatever a failed section left open. */
static hid_t core_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 &&
        (H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0 || H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
         /* HDF5 1.8's format or later, as fw_h5_create: checksummed object headers. */
         H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0)) {
        H5Pclose(fapl);
        fapl = -1;
    }
    return fapl;
}

/* An unnamed file in path's folder (O_TMPFILE), given path as its name only once it is
 * complete (write_image): a process killed while writing leaves nothing behind. -1 where the
 * file system has no unnamed files. */
static int open_unnamed(const char *path)
{
#ifdef O_TMPFILE
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if ((size_t)snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : (int)(slash - path), path) >= sizeof dir)
        return -1;
    return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0666);
#else
    (void)path;
    return -1;
#endif
}

/* Writes n bytes to a new file at path, synced; on failure removes it, leaves errno set and
 * returns -1. Written unnamed where the file system allows and linked to path when
 * complete, so that path exists only for the moment before the caller renames it. */
static int write_image(const char *path, const void *buf, size_t n)
{
    int fd = open_unnamed(path), unnamed = fd >= 0;
    if (!unnamed && (fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0)
        return -1;
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = ENOSPC;
            goto fail;
        }
        p += w;
        n -= (size_t)w;
    }
    if (fsync(fd) < 0)
        goto fail;
    if (unnamed) {
        char self[64];
        snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
        unlink(path);   /* a stale one from a process killed in this moment */
        if (linkat(AT_FDCWD, self, AT_FDCWD, path, AT_SYMLINK_FOLLOW) < 0)
            goto fail;
    }
    int rc = close(fd);
    fd = -1;
    if (rc < 0)
        goto fail;
    return 0;
fail:;
    int e = errno;
    if (fd >= 0)
        close(fd);
    unlink(path);
    errno = e;
    return -1;
}

/* Writes the image of the in-memory file f to path, closing f when close is set (then
 * always); -1 with errbuf set and nothing left at path. */
static int put_image(hid_t f, int close, const char *path, char *errbuf, size_t errlen)
{
    unsigned char *img = NULL;
    ssize_t n = H5Fflush(f, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(f, NULL, 0);
    if (n > 0 && (img = malloc((size_t)n)) != NULL &&
        (H5Fget_file_image(f, img, (size_t)n) != n || fw_h5_fix_image_superblock(img, (size_t)n) < 0))
        n = -1;
    int closed = !close || H5Fclose(f) >= 0;
    int rc = -1;
    if (n <= 0 || !closed)
        snprintf(errbuf, errlen, "cannot write result file %s: HDF5 could not build it", path);
    else if (!img)
        snprintf(errbuf, errlen, "cannot write result file %s: out of memory", path);
    else if (write_image(path, img, (size_t)n) < 0)
        snprintf(errbuf, errlen, "cannot write result file %s: %s", path, strerror(errno));
    else
        rc = 0;
    free(img);
    return rc;
}

/* Closes the in-memory file f (always) and writes its image to path; -1 with errbuf set and
 * nothing left at path. */
static int close_to_disk(hid_t f, const char *path, char *errbuf, size_t errlen)
{
    return put_image(f, 1, path, errbuf, errlen);
}

/* Writes the image of the in-memory file f to path and leaves f open; as close_to_disk. */
static int image_to_disk(hid_t f, const char *path, char *errbuf, size_t errlen)
{
    return put_image(f, 0, path, errbuf, errlen);
}

#ifdef FW_HAVE_MPI
/* ---- several ranks: one file written collectively (parallel HDF5) ------------------------
 * The file is written where it is going to be named (r->tmp, as the core driver's image is)
 * through MPI-IO by every rank at once: each rank the rows of its own users and its block of
 * each entity table, rank 0 everything else (fw_h5_parallel). The day's totals need no
 * reduction here: the day's counters and the engine's work arrive summed over the ranks
 * (fw_ranks_day_end, fw_ranks_day_work), and every other series and table is computed on
 * replicated state. After the collective close rank 0 alone reopens it to add the strings
 * MPI-IO cannot write, syncs it and (fw_recorder_write) renames it. Unlike the core driver's
 * unnamed image, a rank killed while writing leaves r->tmp behind (the next write replaces
 * it); the partial and final paths are only ever renamed onto. */
static hid_t mpio_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    /* Metadata written collectively (one write each, not one per rank): several times faster
     * with hundreds of small datasets. */
    if (fapl >= 0 && (H5Pset_fapl_mpio(fapl, MPI_COMM_WORLD, MPI_INFO_NULL) < 0 ||
                      H5Pset_coll_metadata_write(fapl, 1) < 0 || H5Pset_all_coll_metadata_ops(fapl, 1) < 0 ||
                      H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0)) {
        H5Pclose(fapl);
        fapl = -1;
    }
    return fapl;
}

static int open_unnamed(const char *path);

/* Rank 0, before a collective write: whether the file system has room for it, found by
 * reserving it in an unnamed file (freed at once). A write that fails inside parallel HDF5
 * can leave the ranks waiting on each other in H5Fclose (seen with a file-size limit: one
 * rank at a flush's barrier, the other at the truncation's broadcast), so a full disk must
 * be found before the write starts. The room asked: the larger of the partial file and the
 * last write's data before compression, plus an eighth and 1 MiB (the data grow by a day's
 * rows a write; compressed data are smaller than their raw bytes), and the logs rank 0 adds
 * after the collective close, as held in memory (compressed chunks, uncompressed tails).
 * -1 with errbuf set. */
static int check_room(const fw_recorder *r, char *errbuf, size_t errlen)
{
    struct stat st;
    uint64_t need = stat(r->partial, &st) == 0 && (uint64_t)st.st_size > r->last_raw ? (uint64_t)st.st_size
                                                                                      : r->last_raw;
    need += need / 8 + ((uint64_t)1 << 20) + fw_recorder_log_bytes(r);   /* rank 0 adds the logs alone */
    int fd = open_unnamed(r->tmp), e = fd < 0 ? errno : posix_fallocate(fd, 0, (off_t)need);
    if (fd >= 0)
        close(fd);
    if (fd < 0 && (e == EOPNOTSUPP || e == EISDIR || e == ENOENT))
        return 0;   /* no unnamed files here: the write itself finds out */
    if (e == 0 || e == EOPNOTSUPP || e == EINVAL)
        return 0;
    snprintf(errbuf, errlen, "cannot write result file %s: no room for it (%llu bytes): %s", r->tmp,
             (unsigned long long)need, strerror(e));
    return -1;
}

/* Rank 0, after the collective close: the strings and the logs MPI-IO cannot write, then
 * the sync. */
static int finish_alone(fw_recorder *r, const char *path, char *errbuf, size_t errlen)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
    int rc = f < 0 || fw_h5_parallel_strings(f) < 0 || write_logs(r, f) < 0 ? -1 : 0;
    if (f >= 0 && H5Fclose(f) < 0)
        rc = -1;
    if (rc < 0) {
        snprintf(errbuf, errlen, "cannot write result file %s: HDF5 could not add its strings and logs", path);
        return -1;
    }
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0 || close(fd) < 0) {
        snprintf(errbuf, errlen, "cannot write result file %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int mark_partial(fw_recorder *r, const char *status, int drop_latency, char *errbuf, size_t errlen);

/* A failure inside the collective write: the other ranks may wait in a collective call this
 * rank will never make (HDF5 cannot take a failed write back), so this rank ends the run
 * itself, as one process ends after a failed write: the reason, no r->tmp, the partial
 * (every day finished before this write) marked failed, exit 1 (MPI_Abort ends every rank). */
static _Noreturn void fail_collective(fw_recorder *r)
{
    char msg[512];
    int e = fw_h5_parallel_errno();
    unlink(r->tmp);
    fprintf(stderr, "\nflywheel: cannot write result file %s: parallel HDF5 could not write it%s%s%s (rank %d)\n",
            r->tmp, e ? " (" : "", e ? strerror(e) : "", e ? ")" : "", r->par_rank);
    struct stat st;
    if (stat(r->partial, &st) < 0)
        fprintf(stderr, "flywheel: the run failed before any day was written\n");
    else if (mark_partial(r, "failed", 0, msg, sizeof msg) == 0 || mark_partial(r, "failed", 1, msg, sizeof msg) == 0)
        fprintf(stderr, "flywheel: the run failed; %s keeps the finished days, marked failed\n", r->partial);
    else
        fprintf(stderr, "flywheel: the run failed, and %s\n", msg);
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
    _exit(1);
}

/* Closes the collectively written f, rc this rank's outcome so far, and agrees: 0 when every
 * rank's part went out and rank 0 finished the file; else -1 on every rank, with rank 0's
 * message in errbuf and nothing left at r->tmp. */
static int close_collective(fw_recorder *r, hid_t f, int rc, char *errbuf, size_t errlen)
{
    if (rc < 0 || H5Fclose(f) < 0)
        fail_collective(r);
    int all = 0;
    if (r->par_rank == 0) {
        all = finish_alone(r, r->tmp, errbuf, errlen);
        if (all < 0)
            unlink(r->tmp);
    }
    MPI_Bcast(&all, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (all < 0 && errlen <= INT_MAX)
        MPI_Bcast(errbuf, (int)errlen, MPI_CHAR, 0, MPI_COMM_WORLD);
    return all;
}

/* The MPI-IO file access (returned) and the collective transfer (*dxpl) of a write on
 * several ranks; a rank that cannot make them, or w's scratch, ends the run: the others are
 * about to create the file together. */
static hid_t par_begin(fw_recorder *r, const wctx *w, hid_t *dxpl)
{
    hid_t fapl = mpio_fapl();
    if (!w->col || !w->ucol || !w->days || fapl < 0 || (*dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 ||
        H5Pset_dxpl_mpio(*dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        fail_collective(r);
    fw_h5_parallel(*dxpl, r->par_rank == 0);
    return fapl;
}

/* What the last write cost, for the run's summary (rank 0): seconds and each rank's bytes. */
static void note_writers(fw_recorder *r, double seconds)
{
    uint64_t mine = fw_h5_parallel_bytes(), *all = r->par_rank == 0 ? malloc((size_t)r->par_size * sizeof *all) : NULL;
    MPI_Gather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
    if (!all)
        return;
    size_t n = (size_t)snprintf(r->writers, sizeof r->writers,
                                "result file written by %d ranks (parallel HDF5), the last write in %.3f s; bytes "
                                "of data each rank wrote (before compression):", r->par_size, seconds);
    r->last_raw = 0;
    for (int k = 0; k < r->par_size; k++) {
        r->last_raw += all[k];
        if (n < sizeof r->writers)
            n += (size_t)snprintf(r->writers + n, sizeof r->writers - n, " %llu", (unsigned long long)all[k]);
    }
    free(all);
}
#endif

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Builds the file in memory and writes it to r->tmp; -1 with errbuf set (nothing left at
 * r->tmp). On several ranks, written collectively instead (close_collective). */
static int write_file(fw_recorder *r, const char *status, double wall_s, double rss_mb, char *errbuf, size_t errlen)
{
    uint32_t D = r->n_days;
    wctx w = {.f = -1, .day_ds = -1, .status = status, .wall_s = wall_s, .rss_mb = rss_mb,
              .col = malloc(((size_t)D + 1) * sizeof *w.col), .ucol = malloc(((size_t)D + 1) * sizeof *w.ucol),
              .days = malloc(((size_t)D + 1) * sizeof *w.days)};
    int rc = -1, par = r->par_size > 1;
    double t0 = now_s();
    hid_t dxpl = -1, fapl = -1;
#ifdef FW_HAVE_MPI
    if (par)
        fapl = par_begin(r, &w, &dxpl);
#endif
    if (!par)
        fapl = core_fapl();
    snprintf(errbuf, errlen, "cannot write result file %s: HDF5 could not build it", r->tmp);
    /* The file is this write's until it has succeeded. Only a running write takes it: the
     * last one (complete, interrupted, failed) is built anew, with no room left behind by the
     * datasets that grew, so that a finished result is as small as it can be, and a failed
     * one fits where the last partial file did not. */
    hid_t kept = r->img;
    int running = strcmp(status, "running") == 0;
    r->img = -1;
    if (kept >= 0 && (!running || !w.col || !w.ucol || !w.days)) {
        H5Fclose(kept);
        kept = -1;
    }
    if (!w.col || !w.ucol || !w.days) {
        snprintf(errbuf, errlen, "cannot write result file %s: out of memory", r->tmp);
    } else if (kept >= 0) {
        w.f = kept;   /* the last write's file: every writer opens what exists (h5util.c) */
    } else if (fapl >= 0) {
        none_in_file(r);
        w.f = H5Fcreate(r->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    }
    if (w.f < 0)
        goto done;
    for (uint32_t d = 0; d < D; d++)
        w.days[d] = (int32_t)d;
    for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++)
        if (!(r->no_latency && sections[k] == write_latency) && sections[k](r, &w) < 0)
            goto done;
    rc = 0;
done:
    if (w.day_ds >= 0)
        H5Dclose(w.day_ds);
#ifdef FW_HAVE_MPI
    if (par) {
        rc = w.f >= 0 ? close_collective(r, w.f, rc, errbuf, errlen) : -1;
        note_writers(r, now_s() - t0);
        fw_h5_parallel(-1, 1);
        w.f = -1;
    }
#endif
    (void)t0;
    if (w.f >= 0 && rc == 0 && running) {
        if ((rc = image_to_disk(w.f, r->tmp, errbuf, errlen)) == 0)
            r->img = w.f;   /* kept for the next day's write */
        else
            H5Fclose(w.f);
    } else if (w.f >= 0) {
        if (rc == 0)
            rc = close_to_disk(w.f, r->tmp, errbuf, errlen);
        else
            H5Fclose(w.f);
    }
    if (fapl >= 0)
        H5Pclose(fapl);
    if (dxpl >= 0)
        H5Pclose(dxpl);
    free(w.col);
    free(w.ucol);
    free(w.days);
    return rc;
}

/* Moves what is at path aside to prev (replacing an older prev); 1 when moved, 0 when there
 * was nothing, -1 on failure. */
static int keep_previous(const char *path, const char *prev)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return errno == ENOENT ? 0 : -1;
    return rename(path, prev) < 0 ? -1 : 1;
}

/* The written r->tmp becomes the partial file and, when complete, the result (by rank 0
 * alone on several ranks). */
static fw_err publish(fw_recorder *r, int complete, char *errbuf, size_t errlen)
{
    if (rename(r->tmp, r->partial) < 0) {
        snprintf(errbuf, errlen, "cannot move %s to %s: %s", r->tmp, r->partial, strerror(errno));
        unlink(r->tmp);
        return FW_ERR_IO;
    }
    if (!complete)
        return FW_OK;
    /* A finished result already at path (an earlier run's) is kept as the previous version. */
    int kept = keep_previous(r->path, r->prev);
    if (kept < 0) {
        snprintf(errbuf, errlen, "cannot keep the earlier result %s as %s: %s (this run's result stays at %s)",
                 r->path, r->prev, strerror(errno), r->partial);
        return FW_ERR_IO;
    }
    if (rename(r->partial, r->path) < 0) {
        snprintf(errbuf, errlen, "cannot move %s to %s: %s", r->partial, r->path, strerror(errno));
        if (kept)
            rename(r->prev, r->path);
        return FW_ERR_IO;
    }
    r->prev_kept = kept;
    return FW_OK;
}

fw_err fw_recorder_write(fw_recorder *r, const char *status, double wall_s, double peak_rss_mb,
                         char *errbuf, size_t errlen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);  /* we report failures ourselves, with the path */
    int complete = strcmp(status, "complete") == 0, nomem = r->exp_nomem;
#ifdef FW_HAVE_MPI
    if (r->par_size > 1)   /* every rank takes the same way: the write is collective */
        MPI_Allreduce(&r->exp_nomem, &nomem, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
#endif
    if (nomem) {
        snprintf(errbuf, errlen, "cannot write result file %s: out of memory keeping the experiment's looks",
                 r->tmp);
        return FW_ERR_NOMEM;
    }
#ifdef FW_HAVE_MPI
    if (r->par_size > 1) {   /* every rank learns whether rank 0 found room */
        int room = r->par_rank == 0 ? check_room(r, errbuf, errlen) : 0;
        MPI_Bcast(&room, 1, MPI_INT, 0, MPI_COMM_WORLD);
        if (room < 0) {
            if (errlen <= INT_MAX)
                MPI_Bcast(errbuf, (int)errlen, MPI_CHAR, 0, MPI_COMM_WORLD);
            return FW_ERR_IO;
        }
    }
#endif
    if (write_file(r, status, wall_s, peak_rss_mb, errbuf, errlen) < 0)
        return FW_ERR_IO;
    if (r->par_size <= 1)
        return publish(r, complete, errbuf, errlen);
    fw_err rc = r->par_rank == 0 ? publish(r, complete, errbuf, errlen) : FW_OK;
#ifdef FW_HAVE_MPI
    int v[2] = {(int)rc, r->prev_kept};
    MPI_Bcast(v, 2, MPI_INT, 0, MPI_COMM_WORLD);
    if (v[0] != FW_OK && errlen <= INT_MAX)
        MPI_Bcast(errbuf, (int)errlen, MPI_CHAR, 0, MPI_COMM_WORLD);
    rc = (fw_err)v[0];
    r->prev_kept = v[1];
#endif
    return rc;
}

/* PATH.partial as it is, with its status attribute set to status: read into memory, changed
 * there and written back through PATH.partial.tmp. That needs the partial's size again plus
 * ~6 KB (a new heap for the string); with drop_latency the measured /latency group is left
 * out first, and the new string takes its place: no larger than the partial. */
static int mark_partial(fw_recorder *r, const char *status, int drop_latency, char *errbuf, size_t errlen)
{
    hid_t fapl = core_fapl(), f = -1;
    int rc = -1;
    snprintf(errbuf, errlen, "cannot mark %s %s: HDF5 could not open it", r->partial, status);
    if (fapl < 0 || (f = H5Fopen(r->partial, H5F_ACC_RDWR, fapl)) < 0)
        goto done;
    if ((drop_latency && H5Lexists(f, "latency", H5P_DEFAULT) > 0 && H5Ldelete(f, "latency", H5P_DEFAULT) < 0) ||
        (H5Aexists(f, "status") > 0 && H5Adelete(f, "status") < 0) || fw_h5_attr_str(f, "status", status) < 0) {
        H5Fclose(f);
        goto done;
    }
    if (close_to_disk(f, r->tmp, errbuf, errlen) < 0)
        goto done;
    if (rename(r->tmp, r->partial) < 0) {
        snprintf(errbuf, errlen, "cannot move %s to %s: %s", r->tmp, r->partial, strerror(errno));
        unlink(r->tmp);
        goto done;
    }
    rc = 0;
done:
    if (fapl >= 0)
        H5Pclose(fapl);
    return rc;
}

fw_err fw_recorder_fail(fw_recorder *r, double wall_s, double peak_rss_mb, char *errbuf, size_t errlen)
{
    struct stat st;
    /* On several ranks a failure may be one rank's alone: nothing collective. The partial
     * holds every finished day already (each day's end writes it), so rank 0 marks it. */
    if (r->par_size > 1 && r->par_rank > 0) {
        errbuf[0] = 0;
        return FW_OK;
    }
    if (r->par_size <= 1 && fw_recorder_write(r, "failed", wall_s, peak_rss_mb, errbuf, errlen) == FW_OK) {
        errbuf[0] = 0;   /* write_file leaves its would-be message behind on success */
        return FW_OK;
    }
    if (stat(r->partial, &st) < 0)
        return FW_ERR_IO;   /* nothing was ever written: nothing to mark */
    if (mark_partial(r, "failed", 0, errbuf, errlen) == 0) {
        errbuf[0] = 0;
        return FW_OK;
    }
    /* Without the measured /latency, built anew: no room is left behind by datasets that
     * grew (the partial file, written day after day into one in-memory file, has some), and
     * /latency is far more than a day's worth, so this fits where the partial file did. */
    if (r->par_size <= 1) {
        r->no_latency = 1;
        fw_err e = fw_recorder_write(r, "failed", wall_s, peak_rss_mb, errbuf, errlen);
        r->no_latency = 0;
        if (e == FW_OK) {
            snprintf(errbuf, errlen, "without its measured /latency, for want of room");
            return FW_OK;
        }
    }
    if (mark_partial(r, "failed", 1, errbuf, errlen) == 0) {
        snprintf(errbuf, errlen, "without its measured /latency, for want of room");
        return FW_OK;
    }
    return FW_ERR_IO;
}

/* Reading a result file back into plain arrays.
 * Invariants: every hid_t opened here is closed on every path (one `goto done` per
 * function, or a close right after the one call that reads it); every HDF5 status is
 * checked; HDF5's own error printing is off and failures are reported once, through fail(),
 * with the file's path. Optional groups that are absent leave their part of fw_results
 * zeroed; only a missing flywheel_version attribute or /days group makes a file "not a
 * Flywheel result". */
#include "io/results.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#include "io/h5util.h"

typedef struct loader {
    const char *path;
    char *errbuf;
    size_t errlen;
    char *msg;      /* [msglen]: where the fw_h5 readers leave their message for fail() */
    size_t msglen;
} loader;

/* The one place a load failure is reported. */
static fw_err fail(const loader *L, fw_err code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (L->errbuf && L->errlen)
        snprintf(L->errbuf, L->errlen, "%s: %s", L->path, msg);
    return code;
}

/* Reports what an fw_h5 reader returned: its failures through fail(), with its message;
 * FW_OK and FW_ERR_NOTFOUND (an absent dataset, not reported) pass through. */
static fw_err h5_checked(const loader *L, fw_err e)
{
    return e == FW_OK || e == FW_ERR_NOTFOUND ? e : fail(L, e, "%s", L->msg);
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* ---- names in a group ------------------------------------------------------------------ */

typedef struct namelist {
    uint32_t n;
    char **name;
} namelist;

static void namelist_fini(namelist *l)
{
    fw_h5_strings_free(l->name, l->n);
    memset(l, 0, sizeof *l);
}

/* The names of g's links to objects of type want (H5I_GROUP or H5I_DATASET), by name. */
static fw_err list_names(const loader *L, hid_t g, const char *where, H5I_type_t want, namelist *out)
{
    return h5_checked(L, fw_h5_list_names(g, where, want, &out->n, &out->name, L->msg, L->msglen));
}

/* ---- attributes -------------------------------------------------------------------------- */

static void attrs_fini(fw_results_attrs *a)
{
    for (uint32_t i = 0; i < a->n; i++) {
        free(a->v[i].name);
        free(a->v[i].text);
    }
    free(a->v);
    memset(a, 0, sizeof *a);
}

static herr_t count_attr(hid_t obj, const char *name, const H5A_info_t *info, void *n)
{
    (void)obj;
    (void)name;
    (void)info;
    ++*(hsize_t *)n;
    return 0;
}

/* Reads obj's scalar string and number attributes; others (arrays, references) are skipped. */
static fw_err read_attrs(const loader *L, hid_t obj, const char *where, fw_results_attrs *out)
{
    fw_results_attrs r = {0};
    hsize_t n_attrs = 0, idx = 0;
    fw_err e = FW_OK;
    hid_t a = -1, t = -1, sp = -1;
    if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, count_attr, &n_attrs) < 0)
        return fail(L, FW_ERR_IO, "cannot read the attributes of %s", where);
    if (n_attrs && !(r.v = calloc(n_attrs, sizeof *r.v)))
        return fail(L, FW_ERR_NOMEM, "out of memory");
    for (hsize_t i = 0; i < n_attrs; i++) {
        char name[256], num[64];
        if ((a = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
            H5Aget_name(a, sizeof name, name) < 0 || (t = H5Aget_type(a)) < 0 ||
            (sp = H5Aget_space(a)) < 0) {
            e = fail(L, FW_ERR_IO, "cannot read attribute %llu of %s", (unsigned long long)i, where);
            goto done;
        }
        H5T_class_t cls = H5Tget_class(t);
        fw_results_value *v = &r.v[r.n];
        v->num = NAN;
        if (H5Sget_simple_extent_type(sp) != H5S_SCALAR) {
            /* arrays (dimension labels and the like) are not provenance */
        } else if (cls == H5T_STRING) {
            v->is_text = 1;
            if (!(v->text = fw_h5_attr_text(a))) {
                e = fail(L, FW_ERR_IO, "cannot read attribute '%s' of %s", name, where);
                goto done;
            }
        } else if (cls == H5T_INTEGER || cls == H5T_FLOAT) {
            int ok;
            if (cls == H5T_FLOAT) {
                ok = H5Aread(a, H5T_NATIVE_DOUBLE, &v->num) >= 0;
                snprintf(num, sizeof num, "%.6g", v->num);
            } else if (H5Tget_sign(t) == H5T_SGN_NONE) {
                uint64_t u = 0;
                ok = H5Aread(a, H5T_NATIVE_UINT64, &u) >= 0;
                v->num = (double)u;
                snprintf(num, sizeof num, "%llu", (unsigned long long)u);
            } else {
                int64_t s = 0;
                ok = H5Aread(a, H5T_NATIVE_INT64, &s) >= 0;
                v->num = (double)s;
                snprintf(num, sizeof num, "%lld", (long long)s);
            }
            if (!ok) {
                e = fail(L, FW_ERR_IO, "cannot read attribute '%s' of %s", name, where);
                goto done;
            }
            if (!(v->text = dup_str(num))) {
                e = fail(L, FW_ERR_NOMEM, "out of memory");
                goto done;
            }
        }
        if (v->text) {
            if (!(v->name = dup_str(name))) {
                free(v->text);
                e = fail(L, FW_ERR_NOMEM, "out of memory");
                goto done;
            }
            r.n++;
        }
        FW_H5_CLOSE(sp, t, a);
        sp = t = a = -1;
    }
done:
    FW_H5_CLOSE(sp, t, a);
    if (e != FW_OK)
        attrs_fini(&r);
    else
        *out = r;
    return e;
}

/* ---- datasets ---------------------------------------------------------------------------- */

/* Reads the dataset name of g, of rank `rank`, converting to mem_type into a new array.
 * dims receives its shape. FW_ERR_NOTFOUND (no message) when it is absent. */
static fw_err read_array(const loader *L, hid_t g, const char *where, const char *name, int rank,
                         hid_t mem_type, size_t elem, hsize_t *dims, void **out)
{
    return h5_checked(L, fw_h5_read_array(g, where, name, rank, mem_type, elem, dims, out, L->msg,
                                          L->msglen));
}

static void cols_fini(fw_results_cols *c)
{
    for (uint32_t i = 0; i < c->n; i++) {
        free(c->col[i].name);
        free(c->col[i].units);
        free(c->col[i].v);
    }
    free(c->col);
    memset(c, 0, sizeof *c);
}

/* The scalar string attribute attr of g's dataset name as a new string; NULL when it is
 * absent, not a string or not scalar (an /experiment field's "units" is an array, one a metric:
 * fw_h5_attr_text reads exactly one string, so it must not be handed an array). */
static char *scalar_str_attr(hid_t g, const char *name, const char *attr)
{
    if (H5Aexists_by_name(g, name, attr, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t a = H5Aopen_by_name(g, name, attr, H5P_DEFAULT, H5P_DEFAULT), sp = a < 0 ? -1 : H5Aget_space(a);
    char *s = sp >= 0 && H5Sget_simple_extent_type(sp) == H5S_SCALAR ? fw_h5_attr_text(a) : NULL;
    if (FW_H5_CLOSE(sp, a) < 0) {
        free(s);
        s = NULL;
    }
    return s;
}

/* Reads every numeric 1-D dataset of g that is n long as doubles. Any other dataset is a
 * layout error (FW_ERR_PARSE), except one called `except` (NULL: none), which is skipped: a
 * column of the wrong length or type would otherwise vanish from the report unnoticed. */
static fw_err read_cols(const loader *L, hid_t g, const char *where, uint32_t n, const char *except,
                        fw_results_cols *out)
{
    namelist names = {0};
    fw_results_cols c = {0};
    fw_err e = list_names(L, g, where, H5I_DATASET, &names);
    if (e != FW_OK)
        return e;
    if (names.n && !(c.col = calloc(names.n, sizeof *c.col))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint32_t i = 0; i < names.n; i++) {
        hid_t d = H5Dopen2(g, names.name[i], H5P_DEFAULT);
        hid_t t = d < 0 ? -1 : H5Dget_type(d), sp = d < 0 ? -1 : H5Dget_space(d);
        hsize_t dim = 0;
        int numeric = t >= 0 && (H5Tget_class(t) == H5T_INTEGER || H5Tget_class(t) == H5T_FLOAT);
        int fits = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
                   H5Sget_simple_extent_dims(sp, &dim, NULL) == 1 && dim == n;
        FW_H5_CLOSE(sp, t, d);
        if (d < 0 || t < 0 || sp < 0) {
            e = fail(L, FW_ERR_IO, "cannot open %s/%s", where, names.name[i]);
            goto done;
        }
        if (except && !strcmp(names.name[i], except))
            continue;
        if (!numeric || !fits) {
            e = fail(L, FW_ERR_PARSE, "%s/%s: expected a 1-D array of %u numbers (%s)", where, names.name[i], n,
                     !numeric ? "it is not numeric" : "its shape differs");
            goto done;
        }
        fw_results_series *s = &c.col[c.n];
        void *v = NULL;
        if ((e = read_array(L, g, where, names.name[i], 1, H5T_NATIVE_DOUBLE, sizeof(double), &dim,
                            &v)) != FW_OK)
            goto done;
        s->v = v;
        s->name = names.name[i];
        names.name[i] = NULL;
        c.n++;
        /* "" when the dataset has no scalar string units attribute (per-metric units: see
         * fw_results.metric_unit) */
        if (!(s->units = scalar_str_attr(g, s->name, "units")) && !(s->units = dup_str(""))) {
            e = fail(L, FW_ERR_NOMEM, "out of memory");
            goto done;
        }
    }
done:
    namelist_fini(&names);
    if (e != FW_OK)
        cols_fini(&c);
    else
        *out = c;
    return e;
}

/* ---- the groups -------------------------------------------------------------------------- */

/* Opens g/name when it exists: > 0 opened, 0 absent, < 0 failed (reported). */
static hid_t open_group(const loader *L, hid_t g, const char *name, fw_err *e)
{
    if (!fw_h5_has_link(g, name))
        return 0;
    hid_t h = H5Gopen2(g, name, H5P_DEFAULT);
    if (h < 0)
        *e = fail(L, FW_ERR_IO, "cannot open group /%s", name);
    return h;
}

/* Fills item, the record of one subgroup, from the subgroup (open as h, called where in
 * messages); arg is what the caller of read_member or read_members passed on. */
typedef fw_err (*member_fn)(const loader *L, hid_t h, const char *where, void *item, const void *arg);

/* Opens g's subgroup name, called PREFIX/NAME in messages, and has read fill item from it. */
static fw_err read_member(const loader *L, hid_t g, const char *prefix, const char *name, member_fn read,
                          void *item, const void *arg)
{
    char where[320];
    snprintf(where, sizeof where, "%s/%s", prefix, name);
    hid_t h = H5Gopen2(g, name, H5P_DEFAULT);
    if (h < 0)
        return fail(L, FW_ERR_IO, "cannot open %s", where);
    fw_err e = read(L, h, where, item, arg);
    H5Gclose(h);
    return e;
}

/* The subgroups of g (where in messages) into names, by name, and a new zeroed array of one
 * elem-byte record for each (NULL when there are none or on failure, *e saying which). */
static void *list_members(const loader *L, hid_t g, const char *where, namelist *names, size_t elem, fw_err *e)
{
    void *items = NULL;
    if ((*e = list_names(L, g, where, H5I_GROUP, names)) == FW_OK && names->n &&
        !(items = calloc(names->n, elem)))
        *e = fail(L, FW_ERR_NOMEM, "out of memory");
    return items;
}

/* Reads the subgroups of g that list_members gave names and items[] (elem bytes a record), in
 * that order, with read_member. Before it is read, record i takes name i (into its char * at
 * offset name_at; names->name[i] becomes NULL) and counts in *n, so that fw_results_destroy
 * frees the name whatever happens next. */
static fw_err read_members(const loader *L, hid_t g, const char *prefix, namelist *names, void *items,
                           size_t elem, size_t name_at, uint32_t *n, member_fn read, const void *arg)
{
    fw_err e = FW_OK;
    for (uint32_t i = 0; i < names->n && e == FW_OK; i++) {
        char *item = (char *)items + (size_t)i * elem, *name = names->name[i];
        memcpy(item + name_at, &name, sizeof name);
        names->name[i] = NULL;
        ++*n;
        e = read_member(L, g, prefix, name, read, item, arg);
    }
    return e;
}

/* What read_day_arm needs besides the arm's /days group. */
typedef struct day_arms {
    uint32_t n_days;
    hid_t arms;   /* the /arms group; 0 when the file has none */
} day_arms;

static fw_err read_arm_attrs(const loader *L, hid_t h, const char *where, void *item, const void *arg)
{
    (void)arg;
    return read_attrs(L, h, where, &((fw_results_arm *)item)->attrs);
}

/* One arm: its columns from /days/ARM and, when the file has /arms/ARM, its attributes. */
static fw_err read_day_arm(const loader *L, hid_t h, const char *where, void *item, const void *arg)
{
    const day_arms *x = arg;
    fw_results_arm *a = item;
    fw_err e = read_cols(L, h, where, x->n_days, NULL, &a->days);
    if (e == FW_OK && x->arms > 0 && fw_h5_has_link(x->arms, a->name))
        e = read_member(L, x->arms, "/arms", a->name, read_arm_attrs, a, NULL);
    return e;
}

static fw_err load_days(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "days", &e), arms = -1;
    namelist names = {0};
    hsize_t dim = 0;
    void *v = NULL;
    if (g == 0)
        return fail(L, FW_ERR_PARSE, "not a Flywheel result: no /days group");
    if (g < 0)
        return e;
    if ((e = read_array(L, g, "/days", "day", 1, H5T_NATIVE_INT32, sizeof(int32_t), &dim, &v)) != FW_OK) {
        if (e == FW_ERR_NOTFOUND)
            e = fail(L, FW_ERR_PARSE, "not a Flywheel result: no /days/day dataset");
        goto done;
    }
    r->day = v;
    if (dim > FW_RESULTS_MAX_DAYS) {
        e = fail(L, FW_ERR_PARSE, "/days/day: %llu days, more than a run can have (%u)", (unsigned long long)dim,
                 FW_RESULTS_MAX_DAYS);
        goto done;
    }
    r->n_days = (uint32_t)dim;
    for (uint32_t d = 0; d < r->n_days; d++)
        if (r->day[d] < 0 || (d > 0 && r->day[d] <= r->day[d - 1])) {
            e = fail(L, FW_ERR_PARSE, "/days/day: day %d at index %u is %s", (int)r->day[d], d,
                     r->day[d] < 0 ? "negative" : "not after the day before it");
            goto done;
        }
    r->arms = list_members(L, g, "/days", &names, sizeof *r->arms, &e);
    if (e != FW_OK)
        goto done;
    if (names.n == 0) {
        e = fail(L, FW_ERR_PARSE, "/days has no arm groups");
        goto done;
    }
    if ((arms = open_group(L, f, "arms", &e)) < 0)
        goto done;
    e = read_members(L, g, "/days", &names, r->arms, sizeof *r->arms, offsetof(fw_results_arm, name),
                     &r->n_arms, read_day_arm, &(day_arms){r->n_days, arms});
done:
    namelist_fini(&names);
    if (arms > 0)
        H5Gclose(arms);
    H5Gclose(g);
    return e;
}

static fw_err load_world(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "world", &e);
    hsize_t dim = 0;
    void *v = NULL;
    if (g <= 0)
        return e;
    if ((e = read_attrs(L, g, "/world", &r->world)) != FW_OK)
        goto done;
    r->has_world = 1;
    e = read_array(L, g, "/world", "creator_followers", 1, H5T_NATIVE_UINT32, sizeof(uint32_t), &dim, &v);
    if (e == FW_OK) {
        r->creator_followers = v;
        r->n_creators = (uint32_t)dim;
    } else if (e == FW_ERR_NOTFOUND) {
        e = FW_OK;   /* older files */
    }
done:
    H5Gclose(g);
    return e;
}

/* /work: the engine's deterministic work per day (absent in older files). */
static fw_err load_work(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "work", &e);
    if (g <= 0)
        return e;
    e = read_cols(L, g, "/work", r->n_days, NULL, &r->work);
    H5Gclose(g);
    return e;
}

/* Issue 20: the engine's /aigc/days and /media/days and the simulator's /aigc/arms/<arm>
 * (each absent unless the run had AIGC adoption or a media pipeline). */
static fw_err load_issue20(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t m = open_group(L, f, "media", &e), g, a;
    if (m > 0) {
        if ((g = open_group(L, m, "days", &e)) > 0) {
            e = read_cols(L, g, "/media/days", r->n_days, NULL, &r->media_days);
            H5Gclose(g);
        }
        H5Gclose(m);
    }
    hid_t ai = e == FW_OK ? open_group(L, f, "aigc", &e) : 0;
    if (ai <= 0)
        return e;
    if ((g = open_group(L, ai, "days", &e)) > 0) {
        e = read_cols(L, g, "/aigc/days", r->n_days, NULL, &r->aigc_days);
        H5Gclose(g);
    }
    if (e == FW_OK && (a = open_group(L, ai, "arms", &e)) > 0) {
        for (uint32_t i = 0; i < r->n_arms && e == FW_OK; i++)
            if ((g = open_group(L, a, r->arms[i].name, &e)) > 0) {
                e = read_cols(L, g, "/aigc/arms", r->n_days, NULL, &r->arms[i].aigc);
                H5Gclose(g);
            }
        H5Gclose(a);
    }
    H5Gclose(ai);
    return e;
}

/* /entities/<table>/<col> as doubles, n long (*n set by the first column read, checked
 * against it after); FW_ERR_NOTFOUND (no message) when the table or column is absent. */
static fw_err read_ent_col(const loader *L, hid_t ent, const char *table, const char *col, uint64_t *n, double **out)
{
    fw_err e = FW_OK;
    char where[96];
    snprintf(where, sizeof where, "/entities/%s", table);
    if (!fw_h5_has_link(ent, table))
        return FW_ERR_NOTFOUND;
    hid_t g = H5Gopen2(ent, table, H5P_DEFAULT);
    if (g < 0)
        return fail(L, FW_ERR_IO, "cannot open %s", where);
    hsize_t dim = 0;
    void *v = NULL;
    e = read_array(L, g, where, col, 1, H5T_NATIVE_DOUBLE, sizeof(double), &dim, &v);
    H5Gclose(g);
    if (e != FW_OK)
        return e;
    if (*n != UINT64_MAX && dim != *n) {
        free(v);
        return fail(L, FW_ERR_PARSE, "%s/%s: %llu rows, the table's other columns have %llu", where, col,
                    (unsigned long long)dim, (unsigned long long)*n);
    }
    *n = dim;
    *out = v;
    return FW_OK;
}

/* An id column's value as an index below n, or UINT32_MAX when it is not one. */
static uint32_t ent_index(double x, uint64_t n)
{
    return x >= 0.0 && x < (double)n && x == floor(x) ? (uint32_t)x : UINT32_MAX;
}

typedef struct user_day {
    uint32_t user, day;
} user_day;

static int cmp_user_day(const void *a, const void *b)
{
    const user_day *x = a, *y = b;
    if (x->user != y->user)
        return x->user < y->user ? -1 : 1;
    return (x->day > y->day) - (x->day < y->day);
}

/* /entities: note popularity, search by rank, cohorts and campaign spend, summed. Absent in
 * files without output.entities; every id and day read is checked against what the file
 * holds (an out-of-range one is a layout error), so no value sizes an allocation. */
static fw_err load_entities(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "entities", &e);
    if (g <= 0)
        return e;
    double *a = NULL, *b = NULL, *c = NULL;
    user_day *ud = NULL;
    uint64_t n = UINT64_MAX, notes = UINT64_MAX, camps = UINT64_MAX;
    uint32_t D = r->n_days;
    /* Notes and their impressions. */
    if ((e = read_ent_col(L, g, "notes", "creator", &notes, &a)) != FW_OK)
        goto done;
    free(a);
    a = NULL;
    if (!(r->note_impressions = calloc(notes ? notes : 1, sizeof *r->note_impressions))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->n_ent_notes = (uint32_t)notes;
    if ((e = read_ent_col(L, g, "note_days", "note", &n, &a)) != FW_OK ||
        (e = read_ent_col(L, g, "note_days", "impressions", &n, &b)) != FW_OK)
        goto done;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t k = ent_index(a[i], notes);
        if (k == UINT32_MAX) {
            e = fail(L, FW_ERR_PARSE, "/entities/note_days/note: row %llu names note %g, not one of the %llu notes",
                     (unsigned long long)i, a[i], (unsigned long long)notes);
            goto done;
        }
        r->note_impressions[k] += b[i];
    }
    free(a);
    free(b);
    a = b = NULL;
    /* Search by rank. */
    n = UINT64_MAX;
    if ((e = read_ent_col(L, g, "search_rank", "rank", &n, &a)) != FW_OK ||
        (e = read_ent_col(L, g, "search_rank", "examined", &n, &b)) != FW_OK ||
        (e = read_ent_col(L, g, "search_rank", "clicked", &n, &c)) != FW_OK)
        goto done;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t k = ent_index(a[i] - 1.0, FW_RESULTS_RANKS);
        if (k == UINT32_MAX) {
            e = fail(L, FW_ERR_PARSE, "/entities/search_rank/rank: row %llu holds %g, not a rank 1..%d",
                     (unsigned long long)i, a[i], FW_RESULTS_RANKS);
            goto done;
        }
        r->rank_examined[k] += b[i];
        r->rank_clicked[k] += c[i];
    }
    free(a);
    free(b);
    free(c);
    a = b = c = NULL;
    /* Cohorts: each user's first day in the table, then who of each cohort is active k days on. */
    n = UINT64_MAX;
    if ((e = read_ent_col(L, g, "user_days", "user", &n, &a)) != FW_OK ||
        (e = read_ent_col(L, g, "user_days", "day", &n, &b)) != FW_OK)
        goto done;
    if (!(ud = malloc((n ? n : 1) * sizeof *ud)) || !(r->cohort = calloc((size_t)D * D + 1, sizeof *r->cohort))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint32_t day = ent_index(b[i], D), user = ent_index(a[i], UINT32_MAX);
        if (day == UINT32_MAX || user == UINT32_MAX) {
            e = fail(L, FW_ERR_PARSE, "/entities/user_days: row %llu: user %g on day %g, not a user id and one of "
                                      "the %u days", (unsigned long long)i, a[i], b[i], D);
            goto done;
        }
        ud[i] = (user_day){user, day};
    }
    if (n > 1)
        qsort(ud, n, sizeof *ud, cmp_user_day);
    for (uint64_t i = 0, first = 0; i < n; i++) {
        if (i == 0 || ud[i].user != ud[i - 1].user)
            first = ud[i].day;
        r->cohort[(size_t)first * D + (ud[i].day - first)] += 1.0;
    }
    free(a);
    free(b);
    a = b = NULL;
    /* Campaigns: spend and budget over the run. */
    if ((e = read_ent_col(L, g, "campaigns", "brand", &camps, &a)) == FW_ERR_NOTFOUND) {
        e = FW_OK;   /* a world without ads */
        camps = 0;
    } else if (e != FW_OK) {
        goto done;
    }
    free(a);
    a = NULL;
    if (!(r->campaign_spend = calloc(camps ? camps : 1, sizeof(double))) ||
        !(r->campaign_budget = calloc(camps ? camps : 1, sizeof(double)))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->n_ent_campaigns = (uint32_t)camps;
    n = UINT64_MAX;
    if (camps && ((e = read_ent_col(L, g, "campaign_days", "campaign", &n, &a)) != FW_OK ||
                  (e = read_ent_col(L, g, "campaign_days", "spend_cents", &n, &b)) != FW_OK ||
                  (e = read_ent_col(L, g, "campaign_days", "budget_cents", &n, &c)) != FW_OK))
        goto done;
    for (uint64_t i = 0; camps && i < n; i++) {
        uint32_t k = ent_index(a[i], camps);
        if (k == UINT32_MAX) {
            e = fail(L, FW_ERR_PARSE, "/entities/campaign_days/campaign: row %llu names campaign %g, not one of %llu",
                     (unsigned long long)i, a[i], (unsigned long long)camps);
            goto done;
        }
        r->campaign_spend[k] += b[i];
        r->campaign_budget[k] += c[i];
    }
    r->has_entities = 1;
done:
    if (e == FW_ERR_NOTFOUND)
        e = fail(L, FW_ERR_PARSE, "/entities: a table or column is missing (notes, note_days, search_rank, user_days, "
                                  "campaign_days)");
    free(a);
    free(b);
    free(c);
    free(ud);
    H5Gclose(g);
    return e;
}

/* One stage: its columns and, when present, its counts [n_lat_days, n_bins]. */
static fw_err read_stage(const loader *L, hid_t h, const char *where, void *item, const void *arg)
{
    const fw_results *r = arg;
    fw_results_stage *s = item;
    hsize_t dim[2] = {0, 0};
    void *c = NULL;
    fw_err e = read_cols(L, h, where, r->n_lat_days, "counts", &s->stats);
    if (e != FW_OK)
        return e;
    e = read_array(L, h, where, "counts", 2, H5T_NATIVE_UINT64, sizeof(uint64_t), dim, &c);
    if (e == FW_OK && (dim[0] != r->n_lat_days || dim[1] != r->n_bins)) {
        free(c);
        e = fail(L, FW_ERR_PARSE, "%s/counts: expected [%u, %u]", where, r->n_lat_days, r->n_bins);
    }
    if (e == FW_OK)
        s->counts = c;
    return e == FW_ERR_NOTFOUND ? FW_OK : e;
}

static fw_err load_latency(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "latency", &e);
    namelist names = {0};
    hsize_t dim = 0, dim_up = 0;
    void *lo = NULL, *up = NULL;
    if (g <= 0)
        return e;
    if ((e = read_array(L, g, "/latency", "bin_lower_ns", 1, H5T_NATIVE_INT64, sizeof(int64_t), &dim,
                        &lo)) != FW_OK ||
        (e = read_array(L, g, "/latency", "bin_upper_ns", 1, H5T_NATIVE_INT64, sizeof(int64_t),
                        &dim_up, &up)) != FW_OK) {
        if (e == FW_ERR_NOTFOUND)
            e = FW_OK;   /* a latency group without bins: nothing usable */
        free(lo);
        goto done;
    }
    if (dim_up != dim) {
        free(lo);
        free(up);
        e = fail(L, FW_ERR_PARSE, "/latency: bin_lower_ns and bin_upper_ns differ in length");
        goto done;
    }
    r->bin_lower_ns = lo;
    r->bin_upper_ns = up;
    r->n_bins = (uint32_t)dim;
    r->stages = list_members(L, g, "/latency", &names, sizeof *r->stages, &e);
    if (e != FW_OK)
        goto done;
    r->n_lat_days = r->n_days;
    {
        void *day = NULL;
        hsize_t nd = 0;
        e = read_array(L, g, "/latency", "day", 1, H5T_NATIVE_INT32, sizeof(int32_t), &nd, &day);
        if (e == FW_OK && nd > r->n_days) {
            free(day);
            e = fail(L, FW_ERR_PARSE, "/latency/day: %llu days, more than /days/day's %u", (unsigned long long)nd,
                     r->n_days);
            goto done;
        }
        if (e == FW_OK)
            r->n_lat_days = (uint32_t)nd;
        else if (e != FW_ERR_NOTFOUND)
            goto done;
        e = FW_OK;
        free(day);
    }
    e = read_members(L, g, "/latency", &names, r->stages, sizeof *r->stages, offsetof(fw_results_stage, name),
                     &r->n_stages, read_stage, r);
done:
    namelist_fini(&names);
    H5Gclose(g);
    return e;
}

/* One treatment arm's test: its attributes and its fields, one per metric. */
static fw_err read_test(const loader *L, hid_t h, const char *where, void *item, const void *arg)
{
    const fw_results *r = arg;
    fw_results_test *t = item;
    fw_err e = read_attrs(L, h, where, &t->attrs);
    return e != FW_OK ? e : read_cols(L, h, where, r->n_metrics, NULL, &t->fields);
}

static fw_err load_experiment(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "experiment", &e);
    namelist names = {0};
    if (g <= 0)
        return e;
    if ((e = read_attrs(L, g, "/experiment", &r->experiment)) != FW_OK)
        goto done;
    if (!fw_h5_has_link(g, "metric")) {
        e = fail(L, FW_ERR_PARSE, "/experiment has no metric dataset");
        goto done;
    }
    if ((e = h5_checked(L, fw_h5_read_strings(g, "/experiment", "metric", &r->n_metrics, &r->metric,
                                              L->msg, L->msglen))) != FW_OK)
        goto done;
    if (fw_h5_has_link(g, "units")) {
        uint32_t n_units = 0;
        char **units = NULL;
        if ((e = h5_checked(L, fw_h5_read_strings(g, "/experiment", "units", &n_units, &units, L->msg,
                                                  L->msglen))) != FW_OK)
            goto done;
        if (n_units == r->n_metrics)
            r->metric_unit = units;
        else
            fw_h5_strings_free(units, n_units);   /* not one per metric: not units we can use */
    }
    r->tests = list_members(L, g, "/experiment", &names, sizeof *r->tests, &e);
    if (e != FW_OK)
        goto done;
    /* A test is a group with a `control` attribute: /experiment/days (the looks) is not. */
    uint32_t kept = 0;
    for (uint32_t i = 0; i < names.n; i++) {
        char *control = fw_h5_read_str_attr(g, names.name[i], "control");
        if (control)
            names.name[kept++] = names.name[i];
        else
            free(names.name[i]);
        free(control);
    }
    names.n = kept;
    r->has_experiment = 1;
    e = read_members(L, g, "/experiment", &names, r->tests, sizeof *r->tests, offsetof(fw_results_test, arm),
                     &r->n_tests, read_test, r);
done:
    namelist_fini(&names);
    H5Gclose(g);
    return e;
}

/* The root attributes report shows and relies on, as far as they can be checked: no
 * checksum covers an attribute, so a flipped bit in one is caught only here. Counts must be
 * non-negative integers, texts must be strings, and the days completed must be /days/day's. */
static fw_err check_root(const loader *L, const fw_results *r)
{
    static const char *const counts[] = {"days_completed", "days_planned", "seed", "threads", "ticks_per_day"};
    static const char *const texts[] = {"flywheel_version", "status", "scenario_name", "git_revision"};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        const fw_results_value *v = fw_results_attr(&r->root, counts[k]);
        if (v && (v->is_text || !(v->num >= 0) || v->num != floor(v->num)))
            return fail(L, FW_ERR_PARSE, "attribute '%s' of / is '%s': expected a count", counts[k], v->text);
    }
    for (size_t k = 1; k < sizeof texts / sizeof *texts; k++) {   /* flywheel_version: see the caller */
        const fw_results_value *v = fw_results_attr(&r->root, texts[k]);
        if (v && !v->is_text)
            return fail(L, FW_ERR_PARSE, "attribute '%s' of / is the number %s: expected a string", texts[k], v->text);
    }
    const fw_results_value *done = fw_results_attr(&r->root, "days_completed"),
                           *planned = fw_results_attr(&r->root, "days_planned");
    if (done && done->num != r->n_days)
        return fail(L, FW_ERR_PARSE, "attribute days_completed of / is %s but /days/day has %u days", done->text,
                    r->n_days);
    if (done && planned && planned->num < done->num)
        return fail(L, FW_ERR_PARSE, "attribute days_planned of / (%s) is below days_completed (%s)", planned->text,
                    done->text);
    return FW_OK;
}

/* The load itself, in this process: fw_results_check and the fuzz target run it directly,
 * fw_results_load after running fw_results_check in a child. */
fw_err fw_results_load_here(const char *path, fw_results **out, char *errbuf, size_t errlen)
{
    char msg[512] = "";
    loader L = {path, errbuf, errlen, msg, sizeof msg};
    fw_results *r = NULL;
    hid_t f = -1;
    fw_err e = FW_OK;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* we report failures ourselves, with the path */
    /* A FIFO would block HDF5's open for ever: only regular files go further. */
    if ((e = h5_checked(&L, fw_h5_check_regular(path, msg, sizeof msg))) != FW_OK)
        return e == FW_ERR_NOTFOUND ? fail(&L, e, "%s", msg) : e;
    if (H5Fis_hdf5(path) <= 0)
        return fail(&L, FW_ERR_PARSE, "not an HDF5 file (so not a Flywheel result)");
    /* Strings live in global heaps that no checksum covers and HDF5 trusts: check their
     * structure before reading one. */
    if ((e = h5_checked(&L, fw_h5_check_heaps(path, msg, sizeof msg))) != FW_OK)
        return e;
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return fail(&L, FW_ERR_NOTFOUND, "HDF5 cannot open the file");
    if (!(r = calloc(1, sizeof *r)) || !(r->path = dup_str(path))) {
        e = fail(&L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((e = read_attrs(&L, f, "/", &r->root)) != FW_OK)
        goto done;
    const fw_results_value *version = fw_results_attr(&r->root, "flywheel_version");
    if (!version) {
        e = fail(&L, FW_ERR_PARSE, "not a Flywheel result: no 'flywheel_version' attribute on /");
        goto done;
    }
    if ((e = load_days(&L, f, r)) != FW_OK || (e = check_root(&L, r)) != FW_OK || (e = load_world(&L, f, r)) != FW_OK ||
        (e = load_latency(&L, f, r)) != FW_OK || (e = load_experiment(&L, f, r)) != FW_OK ||
        (e = load_work(&L, f, r)) != FW_OK || (e = load_entities(&L, f, r)) != FW_OK ||
        (e = load_issue20(&L, f, r)) != FW_OK)
        goto done;
done:
    if (f >= 0 && H5Fclose(f) < 0 && e == FW_OK)
        e = fail(&L, FW_ERR_IO, "cannot close the file");
    if (e != FW_OK)
        fw_results_destroy(r);
    else
        *out = r;
    return e;
}

void fw_results_destroy(fw_results *r)
{
    if (!r)
        return;
    attrs_fini(&r->root);
    cols_fini(&r->work);
    cols_fini(&r->aigc_days);
    cols_fini(&r->media_days);
    for (uint32_t i = 0; i < r->n_arms; i++) {
        free(r->arms[i].name);
        attrs_fini(&r->arms[i].attrs);
        cols_fini(&r->arms[i].days);
        cols_fini(&r->arms[i].aigc);
    }
    for (uint32_t i = 0; i < r->n_stages; i++) {
        free(r->stages[i].name);
        free(r->stages[i].counts);
        cols_fini(&r->stages[i].stats);
    }
    for (uint32_t i = 0; i < r->n_tests; i++) {
        free(r->tests[i].arm);
        attrs_fini(&r->tests[i].attrs);
        cols_fini(&r->tests[i].fields);
    }
    for (uint32_t i = 0; i < r->n_metrics; i++)
        free(r->metric[i]);
    fw_h5_strings_free(r->metric_unit, r->metric_unit ? r->n_metrics : 0);
    attrs_fini(&r->world);
    attrs_fini(&r->experiment);
    free(r->metric);
    free(r->tests);
    free(r->stages);
    free(r->arms);
    free(r->bin_lower_ns);
    free(r->bin_upper_ns);
    free(r->creator_followers);
    free(r->note_impressions);
    free(r->cohort);
    free(r->campaign_spend);
    free(r->campaign_budget);
    free(r->day);
    free(r->path);
    free(r);
}

const fw_results_value *fw_results_attr(const fw_results_attrs *a, const char *name)
{
    for (uint32_t i = 0; i < a->n; i++)
        if (!strcmp(a->v[i].name, name))
            return &a->v[i];
    return NULL;
}

const double *fw_results_col(const fw_results_cols *c, const char *name)
{
    for (uint32_t i = 0; i < c->n; i++)
        if (!strcmp(c->col[i].name, name))
            return c->col[i].v;
    return NULL;
}

const fw_results_arm *fw_results_find_arm(const fw_results *r, const char *name)
{
    for (uint32_t i = 0; i < r->n_arms; i++)
        if (!strcmp(r->arms[i].name, name))
            return &r->arms[i];
    return NULL;
}

/* Reads every value once, so that a sanitizer sees any array shorter than its count says. */
static double touch(const fw_results *r)
{
    double sum = 0;
    const fw_results_attrs *attrs[] = {&r->root, &r->world, &r->experiment};
    for (size_t k = 0; k < sizeof attrs / sizeof *attrs; k++)
        for (uint32_t i = 0; i < attrs[k]->n; i++)
            sum += (double)strlen(attrs[k]->v[i].name) + (double)strlen(attrs[k]->v[i].text);
    for (uint32_t d = 0; d < r->n_days; d++)
        sum += r->day[d];
    for (uint32_t i = 0; r->has_entities && i < r->n_ent_notes; i++)
        sum += r->note_impressions[i];
    for (size_t i = 0; r->has_entities && i < (size_t)r->n_days * r->n_days; i++)
        sum += r->cohort[i];
    for (uint32_t i = 0; r->has_entities && i < r->n_ent_campaigns; i++)
        sum += r->campaign_spend[i] + r->campaign_budget[i];
    for (uint32_t a = 0; a < r->n_arms; a++)
        for (uint32_t c = 0; c < r->arms[a].days.n; c++)
            for (uint32_t d = 0; d < r->n_days; d++)
                sum += r->arms[a].days.col[c].v[d];
    for (uint32_t c = 0; c < r->work.n; c++)
        for (uint32_t d = 0; d < r->n_days; d++)
            sum += r->work.col[c].v[d];
    for (uint32_t i = 0; i < r->n_creators; i++)
        sum += r->creator_followers[i];
    for (uint32_t b = 0; b < r->n_bins; b++)
        sum += (double)(r->bin_lower_ns[b] ^ r->bin_upper_ns[b]);
    for (uint32_t s = 0; s < r->n_stages; s++) {
        for (size_t i = 0; r->stages[s].counts && i < (size_t)r->n_lat_days * r->n_bins; i++)
            sum += (double)r->stages[s].counts[i];
        for (uint32_t c = 0; c < r->stages[s].stats.n; c++)
            for (uint32_t d = 0; d < r->n_lat_days; d++)
                sum += r->stages[s].stats.col[c].v[d];
    }
    for (uint32_t m = 0; m < r->n_metrics; m++)
        sum += (double)strlen(r->metric[m]) + (r->metric_unit ? (double)strlen(r->metric_unit[m]) : 0);
    for (uint32_t t = 0; t < r->n_tests; t++)
        for (uint32_t c = 0; c < r->tests[t].fields.n; c++)
            for (uint32_t m = 0; m < r->n_metrics; m++)
                sum += r->tests[t].fields.col[c].v[m];
    return sum;
}

fw_err fw_results_load(const char *path, fw_results **out, char *errbuf, size_t errlen)
{
    /* The whole load first runs in a child: a file that crashes or hangs libhdf5 (which
     * trusts metadata no checksum covers) is then an error here, not the end of report. */
    fw_err e = fw_h5_isolated(fw_results_check, path, FW_RESULTS_CHECK_TIMEOUT_S, errbuf, errlen);
    if (e != FW_OK)
        return e;
    return fw_results_load_here(path, out, errbuf, errlen);
}

fw_err fw_results_check(const char *path, char *errbuf, size_t errlen)
{
    fw_results *r = NULL;
    fw_err e = fw_results_load_here(path, &r, errbuf, errlen);
    if (e != FW_OK)
        return e;
    volatile double sink = touch(r);
    (void)sink;
    fw_results_destroy(r);
    return FW_OK;
}

/* Reading a result file back into plain arrays.
 * Invariants: every hid_t opened here is closed on every path (one `goto done` per
 * function); every HDF5 status is checked; HDF5's own error printing is off and failures
 * are reported once, through fail(), with the file's path. Optional groups that are absent
 * leave their part of fw_results zeroed; only a missing flywheel_version attribute or
 * /days group makes a file "not a Flywheel result". */
#include "io/results.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
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
        H5Sclose(sp);
        H5Tclose(t);
        H5Aclose(a);
        sp = t = a = -1;
    }
done:
    if (sp >= 0)
        H5Sclose(sp);
    if (t >= 0)
        H5Tclose(t);
    if (a >= 0)
        H5Aclose(a);
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

/* Reads every numeric 1-D dataset of g that is n long as doubles; others are skipped. */
static fw_err read_cols(const loader *L, hid_t g, const char *where, uint32_t n, fw_results_cols *out)
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
        if (sp >= 0)
            H5Sclose(sp);
        if (t >= 0)
            H5Tclose(t);
        if (d >= 0)
            H5Dclose(d);
        if (d < 0 || t < 0 || sp < 0) {
            e = fail(L, FW_ERR_IO, "cannot open %s/%s", where, names.name[i]);
            goto done;
        }
        if (!numeric || !fits)
            continue;
        fw_results_series *s = &c.col[c.n];
        void *v = NULL;
        if ((e = read_array(L, g, where, names.name[i], 1, H5T_NATIVE_DOUBLE, sizeof(double), &dim,
                            &v)) != FW_OK)
            goto done;
        s->v = v;
        s->name = names.name[i];
        names.name[i] = NULL;
        c.n++;
        /* "" when the dataset has no string units attribute */
        if (!(s->units = fw_h5_read_str_attr(g, s->name, "units")) && !(s->units = dup_str(""))) {
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

static fw_err load_days(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "days", &e), ga = -1, arms = -1;
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
    r->n_days = (uint32_t)dim;
    if ((e = list_names(L, g, "/days", H5I_GROUP, &names)) != FW_OK)
        goto done;
    if (names.n && !(r->arms = calloc(names.n, sizeof *r->arms))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((arms = open_group(L, f, "arms", &e)) < 0)
        goto done;
    for (uint32_t i = 0; i < names.n; i++) {
        char where[320];
        fw_results_arm *a = &r->arms[i];
        a->name = names.name[i];
        names.name[i] = NULL;
        r->n_arms++;
        snprintf(where, sizeof where, "/days/%s", a->name);
        if ((ga = H5Gopen2(g, a->name, H5P_DEFAULT)) < 0) {
            e = fail(L, FW_ERR_IO, "cannot open %s", where);
            goto done;
        }
        if ((e = read_cols(L, ga, where, r->n_days, &a->days)) != FW_OK)
            goto done;
        H5Gclose(ga);
        ga = -1;
        if (arms > 0 && fw_h5_has_link(arms, a->name)) {
            snprintf(where, sizeof where, "/arms/%s", a->name);
            if ((ga = H5Gopen2(arms, a->name, H5P_DEFAULT)) < 0) {
                e = fail(L, FW_ERR_IO, "cannot open %s", where);
                goto done;
            }
            if ((e = read_attrs(L, ga, where, &a->attrs)) != FW_OK)
                goto done;
            H5Gclose(ga);
            ga = -1;
        }
    }
done:
    namelist_fini(&names);
    if (ga >= 0)
        H5Gclose(ga);
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
    e = read_cols(L, g, "/work", r->n_days, &r->work);
    H5Gclose(g);
    return e;
}

static fw_err load_latency(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "latency", &e), gs = -1;
    namelist names = {0};
    hsize_t dim[2] = {0, 0}, dim_up = 0;
    void *lo = NULL, *up = NULL;
    if (g <= 0)
        return e;
    if ((e = read_array(L, g, "/latency", "bin_lower_ns", 1, H5T_NATIVE_INT64, sizeof(int64_t), dim,
                        &lo)) != FW_OK ||
        (e = read_array(L, g, "/latency", "bin_upper_ns", 1, H5T_NATIVE_INT64, sizeof(int64_t),
                        &dim_up, &up)) != FW_OK) {
        if (e == FW_ERR_NOTFOUND)
            e = FW_OK;   /* a latency group without bins: nothing usable */
        free(lo);
        goto done;
    }
    if (dim_up != dim[0]) {
        free(lo);
        free(up);
        e = fail(L, FW_ERR_PARSE, "/latency: bin_lower_ns and bin_upper_ns differ in length");
        goto done;
    }
    r->bin_lower_ns = lo;
    r->bin_upper_ns = up;
    r->n_bins = (uint32_t)dim[0];
    if ((e = list_names(L, g, "/latency", H5I_GROUP, &names)) != FW_OK)
        goto done;
    if (names.n && !(r->stages = calloc(names.n, sizeof *r->stages))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->n_lat_days = r->n_days;
    {
        void *day = NULL;
        hsize_t nd = 0;
        e = read_array(L, g, "/latency", "day", 1, H5T_NATIVE_INT32, sizeof(int32_t), &nd, &day);
        if (e == FW_OK)
            r->n_lat_days = (uint32_t)nd;
        else if (e != FW_ERR_NOTFOUND)
            goto done;
        e = FW_OK;
        free(day);
    }
    for (uint32_t i = 0; i < names.n; i++) {
        char where[320];
        fw_results_stage *s = &r->stages[i];
        s->name = names.name[i];
        names.name[i] = NULL;
        r->n_stages++;
        snprintf(where, sizeof where, "/latency/%s", s->name);
        if ((gs = H5Gopen2(g, s->name, H5P_DEFAULT)) < 0) {
            e = fail(L, FW_ERR_IO, "cannot open %s", where);
            goto done;
        }
        if ((e = read_cols(L, gs, where, r->n_lat_days, &s->stats)) != FW_OK)
            goto done;
        void *c = NULL;
        e = read_array(L, gs, where, "counts", 2, H5T_NATIVE_UINT64, sizeof(uint64_t), dim, &c);
        if (e == FW_OK && (dim[0] != r->n_lat_days || dim[1] != r->n_bins)) {
            free(c);
            e = fail(L, FW_ERR_PARSE, "%s/counts: expected [%u, %u]", where, r->n_lat_days, r->n_bins);
        }
        if (e == FW_OK)
            s->counts = c;
        else if (e != FW_ERR_NOTFOUND)
            goto done;
        e = FW_OK;
        H5Gclose(gs);
        gs = -1;
    }
done:
    namelist_fini(&names);
    if (gs >= 0)
        H5Gclose(gs);
    H5Gclose(g);
    return e;
}

static fw_err load_experiment(const loader *L, hid_t f, fw_results *r)
{
    fw_err e = FW_OK;
    hid_t g = open_group(L, f, "experiment", &e), ga = -1;
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
    if ((e = list_names(L, g, "/experiment", H5I_GROUP, &names)) != FW_OK)
        goto done;
    if (names.n && !(r->tests = calloc(names.n, sizeof *r->tests))) {
        e = fail(L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    r->has_experiment = 1;
    for (uint32_t i = 0; i < names.n; i++) {
        char where[320];
        fw_results_test *t = &r->tests[i];
        t->arm = names.name[i];
        names.name[i] = NULL;
        r->n_tests++;
        snprintf(where, sizeof where, "/experiment/%s", t->arm);
        if ((ga = H5Gopen2(g, t->arm, H5P_DEFAULT)) < 0) {
            e = fail(L, FW_ERR_IO, "cannot open %s", where);
            goto done;
        }
        if ((e = read_attrs(L, ga, where, &t->attrs)) != FW_OK ||
            (e = read_cols(L, ga, where, r->n_metrics, &t->fields)) != FW_OK)
            goto done;
        H5Gclose(ga);
        ga = -1;
    }
done:
    namelist_fini(&names);
    if (ga >= 0)
        H5Gclose(ga);
    H5Gclose(g);
    return e;
}

fw_err fw_results_load(const char *path, fw_results **out, char *errbuf, size_t errlen)
{
    char msg[512] = "";
    loader L = {path, errbuf, errlen, msg, sizeof msg};
    fw_results *r = NULL;
    hid_t f = -1;
    fw_err e = FW_OK;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);   /* we report failures ourselves, with the path */
    FILE *probe = fopen(path, "rb");
    if (!probe)
        return fail(&L, FW_ERR_NOTFOUND, "cannot open: %s", strerror(errno));
    fclose(probe);
    if (H5Fis_hdf5(path) <= 0)
        return fail(&L, FW_ERR_PARSE, "not an HDF5 file (so not a Flywheel result)");
    if ((f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0)
        return fail(&L, FW_ERR_NOTFOUND, "HDF5 cannot open the file");
    if (!(r = calloc(1, sizeof *r)) || !(r->path = dup_str(path))) {
        e = fail(&L, FW_ERR_NOMEM, "out of memory");
        goto done;
    }
    if ((e = read_attrs(&L, f, "/", &r->root)) != FW_OK)
        goto done;
    if (!fw_results_attr(&r->root, "flywheel_version")) {
        e = fail(&L, FW_ERR_PARSE, "not a Flywheel result: no 'flywheel_version' attribute on /");
        goto done;
    }
    if ((e = load_days(&L, f, r)) != FW_OK || (e = load_world(&L, f, r)) != FW_OK ||
        (e = load_latency(&L, f, r)) != FW_OK || (e = load_experiment(&L, f, r)) != FW_OK ||
        (e = load_work(&L, f, r)) != FW_OK)
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
    for (uint32_t i = 0; i < r->n_arms; i++) {
        free(r->arms[i].name);
        attrs_fini(&r->arms[i].attrs);
        cols_fini(&r->arms[i].days);
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
    attrs_fini(&r->world);
    attrs_fini(&r->experiment);
    free(r->metric);
    free(r->tests);
    free(r->stages);
    free(r->arms);
    free(r->bin_lower_ns);
    free(r->bin_upper_ns);
    free(r->creator_followers);
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

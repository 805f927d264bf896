/* Bench files: a benchmark record (and its comparison) in HDF5, readable with h5py.
 *
 *   /  attributes  flywheel_bench (format version 1), scenario_name, scenario_resolved,
 *                  flywheel_version, git_revision, seed, threads, repeat
 *   /figures/{name,unit,kind}   [n_figures]: strings; kind as text (time, rate, ...)
 *   /figures/values             float64 [n_figures, repeat] (NaN: not measured)
 *   /comparison/{name,unit,kind,verdict} strings and {baseline,now,change,p} float64
 *                               [n_rows], when written with a comparison
 *
 * Like the recorder, the file is written to PATH.tmp and renamed, so PATH is either the old
 * file or the complete new one. Part of the results-file family: only code in sim/io/ includes
 * hdf5.h (h5util, recorder, results, bench_file). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>

#include "io/bench_file.h"
#include "io/h5util.h"

enum { BENCH_FORMAT = 1 };

/* ---- records ------------------------------------------------------------------- */

static const char *const kind_names[FW_BENCH__KINDS] = {"time", "rate", "work", "quality", "info"};
static const char *const verdict_names[FW_VERDICT__COUNT] = {
    "ok", "REGRESSED", "improved", "info", "new", "missing", "NONDETERMINISTIC", "too few runs"};

const char *fw_bench_kind_name(fw_bench_kind k)
{
    return (unsigned)k < FW_BENCH__KINDS ? kind_names[k] : "unknown";
}

const char *fw_bench_verdict_name(fw_bench_verdict v)
{
    return (unsigned)v < FW_VERDICT__COUNT ? verdict_names[v] : "unknown";
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

fw_err fw_bench_init(fw_bench *b, uint32_t n_rep, const char *scenario_name,
                     const char *scenario_resolved, const char *version, const char *git_revision,
                     uint64_t seed, int threads)
{
    memset(b, 0, sizeof *b);
    b->n_rep = n_rep;
    b->seed = seed;
    b->threads = threads;
    if (!(b->scenario_name = dup_or_empty(scenario_name)) ||
        !(b->scenario_resolved = dup_or_empty(scenario_resolved)) || !(b->version = dup_or_empty(version)) ||
        !(b->git_revision = dup_or_empty(git_revision))) {
        fw_bench_fini(b);
        return FW_ERR_NOMEM;
    }
    return FW_OK;
}

void fw_bench_fini(fw_bench *b)
{
    for (uint32_t i = 0; i < b->n_fig; i++) {
        free(b->fig[i].name);
        free(b->fig[i].unit);
        free(b->fig[i].v);
    }
    free(b->fig);
    free(b->scenario_name);
    free(b->scenario_resolved);
    free(b->version);
    free(b->git_revision);
    memset(b, 0, sizeof *b);
}

const fw_bench_figure *fw_bench_find(const fw_bench *b, const char *name)
{
    for (uint32_t i = 0; i < b->n_fig; i++)
        if (!strcmp(b->fig[i].name, name))
            return &b->fig[i];
    return NULL;
}

fw_err fw_bench_set(fw_bench *b, const char *name, const char *unit, fw_bench_kind kind, uint32_t rep,
                    double v)
{
    if (rep >= b->n_rep)
        return FW_ERR_INVAL;
    fw_bench_figure *f = (fw_bench_figure *)fw_bench_find(b, name);
    if (!f) {
        if (b->n_fig == b->cap_fig) {
            uint32_t cap = b->cap_fig ? 2 * b->cap_fig : 64;
            fw_bench_figure *p = realloc(b->fig, (size_t)cap * sizeof *p);
            if (!p)
                return FW_ERR_NOMEM;
            b->fig = p;
            b->cap_fig = cap;
        }
        f = &b->fig[b->n_fig];
        memset(f, 0, sizeof *f);
        f->kind = kind;
        if (!(f->name = strdup(name)) || !(f->unit = dup_or_empty(unit)) ||
            !(f->v = malloc((size_t)b->n_rep * sizeof *f->v))) {
            free(f->name);
            free(f->unit);
            return FW_ERR_NOMEM;
        }
        for (uint32_t k = 0; k < b->n_rep; k++)
            f->v[k] = NAN;
        b->n_fig++;
    }
    f->v[rep] = v;
    return FW_OK;
}

/* ---- files --------------------------------------------------------------------- */

static fw_err fail(char *errbuf, size_t errlen, fw_err code, const char *path, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (errbuf && errlen)
        snprintf(errbuf, errlen, "%s: %s", path, msg);
    return code;
}

/* Units and description of every dataset a bench file has, like a result file's. */
static const struct {
    const char *name, *units, *doc;
} dataset_docs[] = {
    {"name", "", "figure name: throughput, impressions_per_core_s, wall_time, peak_memory, latency.STAGE.p50|p99, work.COUNTER, "
                 "quality.ARM.METRIC"},
    {"unit", "", "unit of the figure's values"},
    {"kind", "", "time or rate (measured), work or quality (deterministic), info (not judged)"},
    {"values", "see unit", "the figure's value in each run [figure, run]; NaN where not measured"},
    {"baseline", "see unit", "median over the baseline's runs (deterministic figures: the value)"},
    {"now", "see unit", "median over this bench's runs"},
    {"change", "1", "now / baseline - 1"},
    {"p", "1", "one-sided Mann-Whitney U p-value of a worse timing; NaN for other kinds"},
    {"verdict", "", "ok, REGRESSED, improved, info, new, missing, NONDETERMINISTIC, too few runs"},
};

/* The units and description dataset_docs gives name (both NULL for a name it lacks). */
static void docs_of(const char *name, const char **units, const char **doc)
{
    *units = *doc = NULL;
    for (size_t i = 0; i < sizeof dataset_docs / sizeof dataset_docs[0]; i++)
        if (!strcmp(dataset_docs[i].name, name)) {
            *units = dataset_docs[i].units;
            *doc = dataset_docs[i].doc;
        }
}

static int put_dataset(hid_t g, const char *name, hid_t ftype, hid_t mtype, int rank, const hsize_t *dims,
                       const void *data)
{
    const char *units, *doc;
    docs_of(name, &units, &doc);
    return fw_h5_write_fixed(g, name, ftype, mtype, rank, dims, data, units, doc);
}

static int put_strings(hid_t g, const char *name, const char *const *v, hsize_t n)
{
    const char *units, *doc;
    docs_of(name, &units, &doc);
    return fw_h5_write_strings(g, name, v, n, units, doc);
}

/* The string columns of /figures (the first three) and of /comparison (all four), in the order
 * they are written. */
static const char *const text_cols[4] = {"name", "unit", "kind", "verdict"};

/* Column k of text_cols for a figure or a comparison row. */
static const char *text_of(int k, const char *name, const char *unit, int kind, int verdict)
{
    return k == 0 ? name : k == 1 ? unit : k == 2 ? fw_bench_kind_name(kind) : fw_bench_verdict_name(verdict);
}

fw_err fw_bench_save(const char *path, const fw_bench *b, const fw_bench_cmp *cmp, char *errbuf,
                     size_t errlen)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    const char **s1 = malloc(((size_t)b->n_fig + (cmp ? cmp->n : 0) + 1) * sizeof *s1);
    double *vals = malloc(((size_t)b->n_fig * b->n_rep + (cmp ? cmp->n : 0) + 1) * sizeof *vals);
    hid_t f = -1, g = -1;
    fw_err rc = FW_ERR_NOMEM;
    if (!tmp || !s1 || !vals) {
        rc = fail(errbuf, errlen, FW_ERR_NOMEM, path, "out of memory");
        goto done;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    rc = FW_ERR_IO;
    if ((f = fw_h5_create(tmp)) < 0) {
        rc = fail(errbuf, errlen, FW_ERR_IO, path, "cannot create %s: %s", tmp, strerror(errno));
        unlink(tmp);   /* HDF5 may have left it, empty */
        goto done;
    }
    int32_t fmt = BENCH_FORMAT, threads = b->threads;
    uint32_t rep = b->n_rep;
    if (fw_h5_attr_num(f, "flywheel_bench", H5T_STD_I32LE, H5T_NATIVE_INT32, &fmt) < 0 ||
        fw_h5_attr_str(f, "scenario_name", b->scenario_name) < 0 ||
        fw_h5_attr_str(f, "scenario_resolved", b->scenario_resolved) < 0 ||
        fw_h5_attr_str(f, "flywheel_version", b->version) < 0 ||
        fw_h5_attr_str(f, "git_revision", b->git_revision) < 0 ||
        fw_h5_attr_num(f, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, &b->seed) < 0 ||
        fw_h5_attr_num(f, "threads", H5T_STD_I32LE, H5T_NATIVE_INT32, &threads) < 0 ||
        fw_h5_attr_num(f, "repeat", H5T_STD_U32LE, H5T_NATIVE_UINT32, &rep) < 0)
        goto write_failed;
    if ((g = H5Gcreate2(f, "figures", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
        goto write_failed;
    hsize_t n = b->n_fig, dims[2] = {b->n_fig, b->n_rep};
    for (int k = 0; k < 3; k++) {
        for (uint32_t i = 0; i < b->n_fig; i++)
            s1[i] = text_of(k, b->fig[i].name, b->fig[i].unit, b->fig[i].kind, 0);
        if (put_strings(g, text_cols[k], s1, n) < 0)
            goto write_failed;
    }
    for (uint32_t i = 0; i < b->n_fig; i++)
        memcpy(vals + (size_t)i * b->n_rep, b->fig[i].v, b->n_rep * sizeof *vals);
    if (put_dataset(g, "values", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2, dims, vals) < 0)
        goto write_failed;
    H5Gclose(g);
    g = -1;
    if (cmp) {
        if ((g = H5Gcreate2(f, "comparison", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0)
            goto write_failed;
        hsize_t m = cmp->n;
        static const char *const cols[4] = {"baseline", "now", "change", "p"};
        for (int k = 0; k < 4; k++) {
            for (uint32_t i = 0; i < cmp->n; i++) {
                const fw_bench_row *r = &cmp->row[i];
                vals[i] = k == 0 ? r->base : k == 1 ? r->now : k == 2 ? r->change : r->p;
            }
            if (put_dataset(g, cols[k], H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &m, vals) < 0)
                goto write_failed;
        }
        for (int k = 0; k < 4; k++) {
            for (uint32_t i = 0; i < cmp->n; i++) {
                const fw_bench_row *r = &cmp->row[i];
                s1[i] = text_of(k, r->name, r->unit, r->kind, r->verdict);
            }
            if (put_strings(g, text_cols[k], s1, m) < 0)
                goto write_failed;
        }
        uint32_t nreg = cmp->n_regressed;
        if (fw_h5_attr_num(g, "regressed", H5T_STD_U32LE, H5T_NATIVE_UINT32, &nreg) < 0)
            goto write_failed;
        H5Gclose(g);
        g = -1;
    }
    if (H5Fclose(f) < 0) {
        f = -1;
        goto write_failed;
    }
    f = -1;
    if (rename(tmp, path) != 0) {
        rc = fail(errbuf, errlen, FW_ERR_IO, path, "cannot rename %s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto done;
    }
    rc = FW_OK;
    goto done;
write_failed:
    rc = fail(errbuf, errlen, FW_ERR_IO, path, "HDF5 could not write %s", tmp);
    FW_H5_CLOSE(g, f);
    f = -1;
    unlink(tmp);
done:
    free(tmp);
    free(s1);
    free(vals);
    return rc;
}

/* ---- loading ------------------------------------------------------------------------ */

/* The most repetitions a bench file may record; more is a corrupt or crafted file. */
enum { BENCH_MAX_REP = 1000000 };

static fw_err load_raw(const char *path, fw_bench *b, char *errbuf, size_t errlen);

fw_err fw_bench_check(const char *path, char *errbuf, size_t errlen)
{
    fw_bench b;
    fw_err rc = load_raw(path, &b, errbuf, errlen);
    if (rc == FW_OK)
        fw_bench_fini(&b);
    return rc;
}

fw_err fw_bench_load(const char *path, fw_bench *b, char *errbuf, size_t errlen)
{
    /* First in a child (fw_h5_isolated): a baseline that crashes or hangs libhdf5 is an
     * error here, not the end of the CI job that reads it. */
    memset(b, 0, sizeof *b);
    fw_err rc = fw_h5_isolated(fw_bench_check, path, FW_BENCH_CHECK_TIMEOUT_S, errbuf, errlen);
    if (rc != FW_OK)
        return rc;
    return load_raw(path, b, errbuf, errlen);
}

/* The load itself, in this process. */
static fw_err load_raw(const char *path, fw_bench *b, char *errbuf, size_t errlen)
{
    char msg[512] = "";
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    memset(b, 0, sizeof *b);
    fw_err rc = fw_h5_check_regular(path, msg, sizeof msg);
    if (rc != FW_OK)
        return fail(errbuf, errlen, rc, path, "%s", msg);
    if (H5Fis_hdf5(path) <= 0)
        return fail(errbuf, errlen, FW_ERR_PARSE, path,
                    "not an HDF5 file; expected a bench file from flywheel bench --save-baseline");
    if ((rc = fw_h5_check_heaps(path, msg, sizeof msg)) != FW_OK)
        return fail(errbuf, errlen, rc, path, "%s", msg);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT), g = -1;
    char **names = NULL, **units = NULL, **kinds = NULL;
    uint32_t n_names = 0, n_units = 0, n_kinds = 0;
    char *sname = NULL, *sres = NULL, *ver = NULL, *rev = NULL;
    double *vals = NULL;
    hsize_t n = 0, dims[2] = {0, 0};
    int32_t fmt = 0, threads = 0;
    uint32_t rep = 0;
    uint64_t seed = 0;
    rc = FW_ERR_PARSE;
    if (f < 0)
        return fail(errbuf, errlen, FW_ERR_IO, path, "HDF5 cannot open the file");
    if (fw_h5_read_num_attr(f, "flywheel_bench", H5T_NATIVE_INT32, &fmt) < 0) {
        rc = fail(errbuf, errlen, FW_ERR_PARSE, path,
                  "not a bench file (no 'flywheel_bench' attribute); make one with flywheel bench --save-baseline");
        goto done;
    }
    if (fmt != BENCH_FORMAT) {
        rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "bench file format %d; this Flywheel reads format %d",
                  fmt, BENCH_FORMAT);
        goto done;
    }
    sname = fw_h5_read_str_attr(f, ".", "scenario_name");
    sres = fw_h5_read_str_attr(f, ".", "scenario_resolved");
    ver = fw_h5_read_str_attr(f, ".", "flywheel_version");
    rev = fw_h5_read_str_attr(f, ".", "git_revision");
    if (!sname || !sres || !ver || !rev || fw_h5_read_num_attr(f, "threads", H5T_NATIVE_INT32, &threads) < 0 ||
        fw_h5_read_num_attr(f, "repeat", H5T_NATIVE_UINT32, &rep) < 0 ||
        fw_h5_read_num_attr(f, "seed", H5T_NATIVE_UINT64, &seed) < 0) {
        rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "a bench file attribute is missing or unreadable");
        goto done;
    }
    if (rep == 0 || rep > BENCH_MAX_REP || threads < 0) {
        rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "attribute %s = %lld is out of range (%s)",
                  threads < 0 ? "threads" : "repeat", threads < 0 ? (long long)threads : (long long)rep,
                  threads < 0 ? "negative" : "expected 1 to 1000000 repetitions");
        goto done;
    }
    if ((g = H5Gopen2(f, "figures", H5P_DEFAULT)) < 0) {
        rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "no /figures group");
        goto done;
    }
    /* The values' size comes from the file: fw_h5_read_array checks the product of its
     * dimensions for overflow and against what the file stores before allocating. */
    void *v = NULL;
    if ((rc = fw_h5_read_array(g, "/figures", "values", 2, H5T_NATIVE_DOUBLE, sizeof(double), dims, &v, msg,
                               sizeof msg)) != FW_OK) {
        rc = fail(errbuf, errlen, rc == FW_ERR_NOTFOUND ? FW_ERR_PARSE : rc, path, "%s",
                  rc == FW_ERR_NOTFOUND ? "no /figures/values dataset" : msg);
        goto done;
    }
    vals = v;
    if (dims[1] != rep) {
        rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "/figures/values is [%llu, %llu], not [figures, %u repetitions]",
                  (unsigned long long)dims[0], (unsigned long long)dims[1], rep);
        goto done;
    }
    n = dims[0];
    const char *const cols[3] = {"name", "unit", "kind"};
    char ***outs[3] = {&names, &units, &kinds};
    uint32_t *counts[3] = {&n_names, &n_units, &n_kinds};
    for (int k = 0; k < 3; k++) {
        if ((rc = fw_h5_read_strings(g, "/figures", cols[k], counts[k], outs[k], msg, sizeof msg)) != FW_OK) {
            rc = fail(errbuf, errlen, rc, path, "%s", msg);
            goto done;
        }
        if (*counts[k] != n) {
            rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "/figures/%s has %u entries for %llu figures", cols[k],
                      *counts[k], (unsigned long long)n);
            goto done;
        }
    }
    if ((rc = fw_bench_init(b, rep, sname, sres, ver, rev, seed, threads)) != FW_OK) {
        rc = fail(errbuf, errlen, rc, path, "out of memory");
        goto done;
    }
    for (hsize_t i = 0; i < n; i++) {
        int kind = -1;
        for (int k = 0; k < FW_BENCH__KINDS; k++)
            if (!strcmp(kinds[i], fw_bench_kind_name(k)))
                kind = k;
        if (kind < 0) {
            rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "figure '%s' has an unknown kind '%s'", names[i], kinds[i]);
            fw_bench_fini(b);
            goto done;
        }
        if (fw_bench_find(b, names[i])) {
            rc = fail(errbuf, errlen, FW_ERR_PARSE, path, "figure '%s' appears twice", names[i]);
            fw_bench_fini(b);
            goto done;
        }
        for (uint32_t r = 0; r < rep; r++)
            if ((rc = fw_bench_set(b, names[i], units[i], kind, r, vals[i * rep + r])) != FW_OK) {
                rc = fail(errbuf, errlen, rc, path, "out of memory");
                fw_bench_fini(b);
                goto done;
            }
    }
    rc = FW_OK;
done:
    fw_h5_strings_free(names, n_names);
    fw_h5_strings_free(units, n_units);
    fw_h5_strings_free(kinds, n_kinds);
    free(vals);
    free(sname);
    free(sres);
    free(ver);
    free(rev);
    if (FW_H5_CLOSE(g, f) < 0 && rc == FW_OK) {
        fw_bench_fini(b);
        rc = fail(errbuf, errlen, FW_ERR_IO, path, "cannot close the file");
    }
    return rc;
}

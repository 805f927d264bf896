/* HDF5 helpers for the result and bench files (see h5util.h).
 * Invariants: every handle a helper opens is closed on every path, through its one `cleanup`
 * label or its one FW_H5_CLOSE, and a failed close fails the call; every HDF5 status is
 * checked. What a writer puts in a file -- types, chunk sizes, filters, attributes and their
 * order -- is part of the file format: files written before these helpers existed must
 * compare equal to files written with them. */
#include "io/h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hdf5_hl.h>

/* The one place a reader's message is written. */
__attribute__((format(printf, 3, 4))) static void say(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (!errbuf || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* ---- closing ------------------------------------------------------------------------ */

/* The close function of each kind of handle fw_h5_close takes. */
static const struct {
    H5I_type_t type;
    herr_t (*close)(hid_t);
} closers[] = {
    {H5I_FILE, H5Fclose},     {H5I_GROUP, H5Gclose},     {H5I_DATASET, H5Dclose},      {H5I_ATTR, H5Aclose},
    {H5I_DATATYPE, H5Tclose}, {H5I_DATASPACE, H5Sclose}, {H5I_GENPROP_LST, H5Pclose},
};

int fw_h5_close(size_t n, const hid_t *ids)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 0)
            continue;
        H5I_type_t type = H5Iget_type(ids[i]);
        size_t k = 0;
        while (k < sizeof closers / sizeof closers[0] && closers[k].type != type)
            k++;
        /* A handle of no kind listed (or no handle at all) cannot be closed here. */
        if (k == sizeof closers / sizeof closers[0] || closers[k].close(ids[i]) < 0)
            rc = -1;
    }
    return rc;
}

/* ---- writing ------------------------------------------------------------------------ */

/* Parallel mode (fw_h5_parallel): the collective transfer list (< 0: not in the mode), whether
 * this rank writes whole datasets, the bytes it handed HDF5, and the string datasets kept. */
typedef struct kept_strings {
    char *path;
    const void *data;
} kept_strings;

static struct {
    hid_t dxpl;
    int writer, err;
    uint64_t bytes;
    kept_strings *kept;
    size_t n_kept, cap_kept;
} par = {.dxpl = -1};

void fw_h5_parallel(hid_t dxpl, int writer)
{
    for (size_t k = 0; k < par.n_kept; k++)
        free(par.kept[k].path);
    free(par.kept);
    par.kept = NULL;
    par.n_kept = par.cap_kept = 0;
    par.dxpl = dxpl;
    par.writer = writer;
    par.bytes = 0;
    par.err = 0;
}

uint64_t fw_h5_parallel_bytes(void) { return par.bytes; }
int fw_h5_parallel_errno(void) { return par.err; }

/* Keeps errno as the mode's reason when it is the first and says why. */
static void keep_errno(void)
{
    int e = errno;
    if (!par.err && (e == ENOSPC || e == EFBIG || e == EDQUOT || e == EIO))
        par.err = e;
}

/* Keeps ds's strings for fw_h5_parallel_strings. */
static int keep_strings(hid_t ds, const void *data)
{
    ssize_t len = H5Iget_name(ds, NULL, 0);
    if (len <= 0)
        return -1;
    if (par.n_kept == par.cap_kept) {
        size_t cap = par.cap_kept ? 2 * par.cap_kept : 16;
        kept_strings *k = realloc(par.kept, cap * sizeof *k);
        if (!k)
            return -1;
        par.kept = k;
        par.cap_kept = cap;
    }
    char *path = malloc((size_t)len + 1);
    if (!path || H5Iget_name(ds, path, (size_t)len + 1) != len) {
        free(path);
        return -1;
    }
    par.kept[par.n_kept++] = (kept_strings){path, data};
    return 0;
}

int fw_h5_parallel_strings(hid_t f)
{
    hid_t t = fw_h5_str_type();
    int rc = t < 0 ? -1 : 0;
    for (size_t k = 0; k < par.n_kept && rc == 0; k++) {
        hid_t d = H5Dopen2(f, par.kept[k].path, H5P_DEFAULT);
        rc = d < 0 || H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, par.kept[k].data) < 0 ? -1 : 0;
        if (d >= 0 && H5Dclose(d) < 0)
            rc = -1;
    }
    if (t >= 0 && H5Tclose(t) < 0)
        rc = -1;
    return rc;
}

/* The whole of ds from data: in parallel mode every rank calls, the writer with everything
 * selected, the others with nothing. */
static int write_all(hid_t ds, hid_t mtype, const void *data)
{
    if (par.dxpl < 0)
        return H5Dwrite(ds, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0 ? -1 : 0;
    hid_t fs = H5Dget_space(ds);
    hssize_t n = fs < 0 ? -1 : H5Sget_simple_extent_npoints(fs);
    int failed = n < 0 || (!par.writer && H5Sselect_none(fs) < 0) || H5Dwrite(ds, mtype, fs, fs, par.dxpl, data) < 0;
    if (failed)
        keep_errno();
    if (!failed && par.writer)
        par.bytes += (uint64_t)n * H5Tget_size(mtype);
    return FW_H5_CLOSE(fs) < 0 || failed ? -1 : 0;
}

int fw_h5_write_rows(hid_t ds, hid_t mem_type, hsize_t lo, hsize_t n, const void *data)
{
    if (par.dxpl < 0 && n == 0)
        return 0;
    hsize_t dims[2] = {0, 1}, start[2] = {lo, 0}, count[2];
    hid_t fs = H5Dget_space(ds), ms = -1;
    int rank = fs < 0 ? -1 : H5Sget_simple_extent_ndims(fs);
    int failed = rank < 1 || rank > 2 || H5Sget_simple_extent_dims(fs, dims, NULL) < 0;
    count[0] = n;
    count[1] = dims[1];
    if (!failed && n == 0)
        failed = H5Sselect_none(fs) < 0 || (ms = H5Scopy(fs)) < 0;
    else if (!failed)
        failed = H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0 ||
                 (ms = H5Screate_simple(rank, count, NULL)) < 0;
    failed = failed || H5Dwrite(ds, mem_type, ms, fs, par.dxpl < 0 ? H5P_DEFAULT : par.dxpl, data) < 0;
    if (failed && par.dxpl >= 0)
        keep_errno();
    if (!failed)
        par.bytes += n * (rank > 1 ? dims[1] : 1) * H5Tget_size(mem_type);
    return FW_H5_CLOSE(ms, fs) < 0 || failed ? -1 : 0;
}

hid_t fw_h5_create(const char *path)
{
    /* HDF5 1.8's format or later: object headers (names, types, shapes, filters, attributes
     * stored with them), the superblock and the newer indexes carry checksums, so a flipped
     * bit in them is an error too, not another type or shape. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), f = -1;
    if (fapl >= 0 && H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) >= 0)
        f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0 && H5Pclose(fapl) < 0 && f >= 0) {
        H5Fclose(f);
        f = -1;
    }
    return f;
}

hid_t fw_h5_str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0)
        return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* ---- writing into a file written before (a result rewritten day after day) --------------
 * The recorder keeps its in-memory file from one day's write to the next and writes it again
 * (issue 22: recreating every dataset each day cost more than the sessions of a 16-arm run).
 * So every writer here first looks for what it writes: a group is opened, a dataset of the
 * same type and chunks has its extent set and its data written again (its attributes,
 * labels and scales are those it was created with), an attribute holding the same value
 * is left alone and any other is replaced. A dataset that cannot take the new shape is
 * deleted and created again, unless a dimension scale refers to it or it is one: deleting
 * it would leave a dangling reference, so that is a failure (the recorder then has a bug to
 * fix, not a file to guess at). In a new file nothing exists and every call creates, as
 * before. */

/* Frees the strings HDF5 read into buf (type: a variable-length string type, space: what
 * was read). */
static int reclaim_strings(hid_t type, hid_t space, void *buf)
{
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buf) < 0 ? -1 : 0;
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buf) < 0 ? -1 : 0;
#endif
}

/* Whether the n strings read equal want[0..n) (a NULL read is no string). */
static int same_strings_read(char *const *got, const char *const *want, hsize_t n)
{
    for (hsize_t i = 0; i < n; i++)
        if (!got[i] || !want[i] || strcmp(got[i], want[i]) != 0)
            return 0;
    return 1;
}

/* Whether the value of attribute a equals n elements of v (memory type mtype; strings when
 * mtype is a variable-length string type): 1 yes, 0 no, -1 when it cannot be read. */
static int same_value(hid_t a, hid_t mtype, hid_t space, hsize_t n, const void *v)
{
    size_t es = H5Tget_size(mtype);
    int vstr = H5Tis_variable_str(mtype) > 0;
    void *buf = es == 0 ? NULL : calloc(n ? n : 1, es);
    if (!buf)
        return -1;
    int same = H5Aread(a, mtype, buf) < 0 ? -1 : 1;
    if (same == 1)
        same = vstr ? same_strings_read(buf, v, n) : memcmp(buf, v, n * es) == 0;
    if (vstr && reclaim_strings(mtype, space, buf) < 0)
        same = -1;
    free(buf);
    return same;
}

/* Whether obj already has attribute name with n elements (rank 1; scalar when n is 0 and
 * scalar) of type ftype equal to v: 1 yes (nothing to write), 0 no (an attribute of that
 * name, if any, has been deleted), -1 on failure. */
static int attr_kept(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t want_space, hsize_t n,
                     const void *v)
{
    htri_t e = H5Aexists(obj, name);
    if (e <= 0)
        return e < 0 ? -1 : 0;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT), t = -1, sp = -1;
    int same = 0;
    if (a < 0 || (t = H5Aget_type(a)) < 0 || (sp = H5Aget_space(a)) < 0)
        same = -1;
    else if (H5Tequal(t, ftype) > 0 && H5Sextent_equal(sp, want_space) > 0)
        same = same_value(a, mtype, sp, n, v);
    if (FW_H5_CLOSE(sp, t, a) < 0 || same < 0)
        return -1;
    if (!same && H5Adelete(obj, name) < 0)
        return -1;
    return same;
}

/* Attribute name on obj of file type ftype and dataspace sp (n elements) from v (memory type
 * mtype), unless it already holds that. */
static int put_attr(hid_t obj, const char *name, hid_t ftype, hid_t mtype, hid_t sp, hsize_t n, const void *v)
{
    int kept = attr_kept(obj, name, ftype, mtype, sp, n, v);
    if (kept != 0)
        return kept < 0 ? -1 : 0;
    hid_t a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
    int failed = a < 0 || H5Awrite(a, mtype, v) < 0;
    return FW_H5_CLOSE(a) < 0 || failed ? -1 : 0;
}

int fw_h5_attr_num(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR);
    int failed = sp < 0 || put_attr(obj, name, ftype, mtype, sp, 1, v) < 0;
    return FW_H5_CLOSE(sp) < 0 || failed ? -1 : 0;
}

int fw_h5_attr_strings(hid_t obj, const char *name, const char *const *v, hsize_t n)
{
    hid_t t = fw_h5_str_type(), sp = t < 0 ? -1 : H5Screate_simple(1, &n, NULL);
    int failed = sp < 0 || put_attr(obj, name, t, t, sp, n, v) < 0;
    return FW_H5_CLOSE(sp, t) < 0 || failed ? -1 : 0;
}

int fw_h5_attr_str(hid_t obj, const char *name, const char *value)
{
    hid_t t = fw_h5_str_type();
    if (t < 0)
        return -1;
    int rc = fw_h5_attr_num(obj, name, t, t, &value);
    if (H5Tclose(t) < 0)
        rc = -1;
    return rc;
}

int fw_h5_attr_f64(hid_t obj, const char *name, double v)
{
    return fw_h5_attr_num(obj, name, H5T_NATIVE_DOUBLE, H5T_NATIVE_DOUBLE, &v);
}

int fw_h5_attr_u64(hid_t obj, const char *name, uint64_t v)
{
    return fw_h5_attr_num(obj, name, H5T_NATIVE_UINT64, H5T_NATIVE_UINT64, &v);
}

int fw_h5_attr_i64(hid_t obj, const char *name, int64_t v)
{
    return fw_h5_attr_num(obj, name, H5T_NATIVE_INT64, H5T_NATIVE_INT64, &v);
}

hid_t fw_h5_group(hid_t parent, const char *name, const char *doc)
{
    htri_t e = H5Lexists(parent, name, H5P_DEFAULT);
    if (e != 0)
        return e < 0 ? -1 : H5Gopen2(parent, name, H5P_DEFAULT);
    hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g >= 0 && doc && fw_h5_attr_str(g, "description", doc) < 0) {
        H5Gclose(g);
        return -1;
    }
    return g;
}

/* The units and description attributes of a new dataset, each unless NULL. */
static int describe(hid_t ds, const char *unit, const char *doc)
{
    if ((unit && fw_h5_attr_str(ds, "units", unit) < 0) || (doc && fw_h5_attr_str(ds, "description", doc) < 0))
        return -1;
    return 0;
}

/* Whether ds is a dimension scale or has one attached: deleting it would leave a reference
 * to nothing behind (1), 0 when not, -1 when that cannot be told. */
static int referred(hid_t ds)
{
    htri_t a = H5Aexists(ds, "DIMENSION_LIST"), b = a != 0 ? a : H5Aexists(ds, "REFERENCE_LIST");
    return a < 0 || b < 0 ? -1 : a > 0 || b > 0;
}

/* parent/name as it exists, when it can hold dims[rank] of ftype: *ds open with its extent set
 * to dims (chunked datasets: the same chunk[] and extendible maxdims[]; chunk NULL: a dataset
 * of exactly that shape). 1 when reused, 0 when there is none (any that could not be reused
 * has been deleted), -1 on failure. */
static int reuse(hid_t parent, const char *name, hid_t ftype, int rank, const hsize_t *dims, const hsize_t *maxdims,
                 const hsize_t *chunk, hid_t *out)
{
    htri_t e = H5Lexists(parent, name, H5P_DEFAULT);
    if (e <= 0)
        return e < 0 ? -1 : 0;
    hid_t ds = H5Dopen2(parent, name, H5P_DEFAULT), t = -1, sp = -1, pl = -1;
    hsize_t cur[H5S_MAX_RANK], max[H5S_MAX_RANK], ch[H5S_MAX_RANK];
    int fits = 0, failed = ds < 0 || (t = H5Dget_type(ds)) < 0 || (sp = H5Dget_space(ds)) < 0 ||
                           (pl = H5Dget_create_plist(ds)) < 0;
    if (!failed && H5Tequal(t, ftype) > 0 && H5Sget_simple_extent_ndims(sp) == rank &&
        H5Sget_simple_extent_dims(sp, cur, max) == rank) {
        fits = 1;
        if (chunk && (H5Pget_layout(pl) != H5D_CHUNKED || H5Pget_chunk(pl, rank, ch) != rank))
            fits = 0;
        for (int k = 0; k < rank && fits; k++)   /* a fixed shape's layout follows from it */
            fits = max[k] == maxdims[k] && (chunk ? ch[k] == chunk[k] : cur[k] == dims[k]);
    }
    if (!failed && fits && chunk && H5Dset_extent(ds, dims) < 0)
        failed = 1;
    int ref = !failed && !fits ? referred(ds) : 0;
    if (FW_H5_CLOSE(pl, sp, t) < 0 || ref != 0)
        failed = 1;
    if (failed || !fits) {
        if (ds >= 0 && H5Dclose(ds) < 0)
            failed = 1;
        if (!failed && H5Ldelete(parent, name, H5P_DEFAULT) < 0)
            failed = 1;
        return failed ? -1 : 0;
    }
    *out = ds;
    return 1;
}

hid_t fw_h5_dataset(hid_t parent, const char *name, hid_t file_type, hid_t mem_type, int rank,
                    const hsize_t *dims, const hsize_t *chunk, unsigned deflate, const void *data,
                    const char *unit, const char *doc, const char *const *labels)
{
    hsize_t maxdims[2] = {H5S_UNLIMITED, rank > 1 ? dims[1] : 0};
    hid_t sp = -1, pl = -1, ds = -1;
    int ok = 0, old = reuse(parent, name, file_type, rank, dims, maxdims, chunk, &ds);
    if (old < 0)
        return -1;
    if (old) {   /* created before: its attributes and labels are there */
        if (dims[0] > 0 && data && write_all(ds, mem_type, data) < 0) {
            H5Dclose(ds);
            return -1;
        }
        return ds;
    }
    if ((sp = H5Screate_simple(rank, dims, maxdims)) < 0)
        goto cleanup;
    /* Fletcher-32 last, so that it checksums the bytes as stored: a flipped bit anywhere in a
     * chunk makes reading it fail instead of returning another number. */
    if ((pl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(pl, rank, chunk) < 0 ||
        (deflate && (H5Pset_shuffle(pl) < 0 || H5Pset_deflate(pl, deflate) < 0)) || H5Pset_fletcher32(pl) < 0)
        goto cleanup;
    if ((ds = H5Dcreate2(parent, name, file_type, sp, H5P_DEFAULT, pl, H5P_DEFAULT)) < 0)
        goto cleanup;
    if (dims[0] > 0 && data && write_all(ds, mem_type, data) < 0)
        goto cleanup;
    if (describe(ds, unit, doc) < 0)
        goto cleanup;
    for (int i = 0; i < rank && labels; i++)
        if (H5DSset_label(ds, (unsigned)i, labels[i]) < 0)
            goto cleanup;
    ok = 1;
cleanup:
    if (FW_H5_CLOSE(pl, sp) < 0)
        ok = 0;
    if (!ok && ds >= 0) {
        H5Dclose(ds);
        ds = -1;
    }
    return ok ? ds : -1;
}

int fw_h5_attach(hid_t ds, hid_t scale, unsigned idx)
{
    int n = H5Aexists(ds, "DIMENSION_LIST") > 0 ? H5DSget_num_scales(ds, idx) : 0;
    return n < 0 ? -1 : n > 0 ? 0 : H5DSattach_scale(ds, scale, idx) < 0 ? -1 : 0;
}

int fw_h5_make_scale(hid_t ds, const char *name)
{
    htri_t is = H5DSis_scale(ds);
    return is < 0 ? -1 : is > 0 ? 0 : H5DSset_scale(ds, name) < 0 ? -1 : 0;
}

int fw_h5_write_1d(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                   const void *data, unsigned deflate, const char *unit, const char *doc,
                   hid_t scale, const char *label)
{
    return fw_h5_write_series(parent, name, ftype, mtype, n, 0, data, deflate, unit, doc, scale, label);
}

int fw_h5_write_series(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n, hsize_t cap,
                       const void *data, unsigned deflate, const char *unit, const char *doc,
                       hid_t scale, const char *label)
{
    hsize_t rows = n > cap ? n : cap;
    hsize_t chunk = rows == 0 ? 256 : rows < 65536 ? rows : 65536;
    const char *labels[1] = {label};
    hid_t ds = fw_h5_dataset(parent, name, ftype, mtype, 1, &n, &chunk, deflate, data, unit, doc, labels);
    if (ds < 0)
        return -1;
    int rc = scale >= 0 && fw_h5_attach(ds, scale, 0) < 0 ? -1 : 0;
    if (H5Dclose(ds) < 0)
        rc = -1;
    return rc;
}

/* A dataset-creation list for a fixed shape dims[rank]: chunked (about FIXED_CHUNK elements a
 * chunk, whole rows) with the Fletcher-32 checksum; the default (contiguous) list when the
 * shape is empty, which has no data to protect. Returns < 0 on failure. */
enum { FIXED_CHUNK = 65536 };
static hid_t fixed_plist(int rank, const hsize_t *dims)
{
    hsize_t chunk[H5S_MAX_RANK], row = 1;
    for (int k = 0; k < rank; k++)
        if (dims[k] == 0)
            return H5P_DEFAULT;
    for (int k = 1; k < rank; k++)
        row *= chunk[k] = dims[k] < FIXED_CHUNK ? dims[k] : FIXED_CHUNK;
    chunk[0] = row >= FIXED_CHUNK ? 1 : FIXED_CHUNK / row;
    if (chunk[0] > dims[0])
        chunk[0] = dims[0];
    hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
    if (pl >= 0 && (H5Pset_chunk(pl, rank, chunk) < 0 || H5Pset_fletcher32(pl) < 0)) {
        H5Pclose(pl);
        pl = -1;
    }
    return pl;
}

int fw_h5_write_1d_rows(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                        hsize_t lo, hsize_t cnt, const void *data, unsigned deflate,
                        const char *unit, const char *doc, const char *label)
{
    hsize_t chunk = n == 0 ? 256 : n < 65536 ? n : 65536;
    const char *labels[1] = {label};
    size_t es = H5Tget_size(mtype);
    hid_t ds = es == 0 ? -1 : fw_h5_dataset(parent, name, ftype, mtype, 1, &n, &chunk, deflate, NULL, unit, doc, labels);
    if (ds < 0)
        return -1;
    int rc = fw_h5_write_rows(ds, mtype, lo, cnt, (const char *)data + lo * es);
    if (H5Dclose(ds) < 0)
        rc = -1;
    return rc;
}

/* Whether parent/name exists holding exactly the strings data[dims] (1: nothing to write),
 * 0 when it does not (one of that name holding anything else has been deleted), -1 on
 * failure. Strings are compared, not rewritten: HDF5 does not free the heap space of the
 * strings a write replaces, so a file rewritten day after day would grow. */
static int same_strings(hid_t parent, const char *name, hid_t ftype, int rank, const hsize_t *dims,
                        const void *data)
{
    htri_t e = H5Lexists(parent, name, H5P_DEFAULT);
    if (e <= 0)
        return e < 0 ? -1 : 0;
    hid_t d = H5Dopen2(parent, name, H5P_DEFAULT), t = -1, sp = -1, want = H5Screate_simple(rank, dims, NULL);
    hsize_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    int same = d < 0 || want < 0 || (t = H5Dget_type(d)) < 0 || (sp = H5Dget_space(d)) < 0 ? -1 : 0;
    if (same == 0 && H5Tequal(t, ftype) > 0 && H5Sextent_equal(sp, want) > 0 && H5Tis_variable_str(ftype) > 0) {
        char **buf = calloc(n ? n : 1, sizeof *buf);
        same = !buf || H5Dread(d, ftype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 1;
        if (same == 1)
            same = same_strings_read(buf, data, n);
        if (buf && same >= 0 && reclaim_strings(ftype, sp, buf) < 0)
            same = -1;
        free(buf);
    }
    int ref = same == 0 ? referred(d) : 0;
    if (FW_H5_CLOSE(want, sp, t, d) < 0 || ref != 0)
        same = -1;
    if (same == 0 && H5Ldelete(parent, name, H5P_DEFAULT) < 0)
        same = -1;
    return same;
}

int fw_h5_write_fixed(hid_t parent, const char *name, hid_t ftype, hid_t mtype, int rank,
                      const hsize_t *dims, const void *data, const char *unit, const char *doc)
{
    if (rank < 1 || rank > H5S_MAX_RANK)
        return -1;
    /* HDF5 allows no mandatory filter (Fletcher-32 is one) on variable-length data: strings stay
     * contiguous, and readers check their references instead (check_vlen_refs). */
    int vlen = H5Tis_variable_str(ftype) > 0 || H5Tget_class(ftype) == H5T_VLEN;
    hid_t d = -1;
    int old = vlen ? same_strings(parent, name, ftype, rank, dims, data) : 0;
    if (!vlen && (old = reuse(parent, name, ftype, rank, dims, dims, NULL, &d)) > 0) {
        int failed = dims[0] > 0 && write_all(d, mtype, data) < 0;
        return FW_H5_CLOSE(d) < 0 || failed ? -1 : 0;
    }
    if (old != 0)
        return old < 0 ? -1 : 0;
    hid_t sp = H5Screate_simple(rank, dims, NULL), pl = vlen ? H5P_DEFAULT : fixed_plist(rank, dims);
    /* MPI-IO writes no variable-length data: in parallel mode the strings wait (keep_strings). */
    int failed = sp < 0 || pl < 0 || (d = H5Dcreate2(parent, name, ftype, sp, H5P_DEFAULT, pl, H5P_DEFAULT)) < 0 ||
                 (dims[0] > 0 && (par.dxpl >= 0 && vlen ? (!par.writer ? 0 : keep_strings(d, data))
                                                        : write_all(d, mtype, data)) < 0) ||
                 describe(d, unit, doc) < 0;
    if (pl != H5P_DEFAULT && pl >= 0 && H5Pclose(pl) < 0)
        failed = 1;
    return FW_H5_CLOSE(d, sp) < 0 || failed ? -1 : 0;
}

int fw_h5_write_strings(hid_t parent, const char *name, const char *const *v, hsize_t n,
                        const char *unit, const char *doc)
{
    hid_t t = fw_h5_str_type();
    if (t < 0)
        return -1;
    int rc = fw_h5_write_fixed(parent, name, t, t, 1, &n, v, unit, doc);
    if (H5Tclose(t) < 0)
        rc = -1;
    return rc;
}

/* ---- reading ------------------------------------------------------------------------- */

/* ---- strings' storage: global heap collections -------------------------------------------
 * HDF5 keeps variable-length strings in global heap collections and trusts the sizes in them
 * (and in the references to them): no checksum covers either, and a corrupt size makes it copy
 * past its buffers. These helpers read collections from the file itself, through a descriptor
 * of their own, to check them before HDF5 does. A collection: "GCOL", version 1, 3 reserved
 * bytes, its size (8 bytes, header included); then objects, each a 16-byte header (index,
 * reference count, 4 reserved bytes, size) and its data padded to 8 bytes; index 0 is the
 * free space, whose size counts its header. All numbers are little-endian. */

enum { HEAP_MIN_SIZE = 4096 };   /* HDF5 never writes a smaller collection */

/* Little-endian unsigned integer of n bytes at p. */
static uint64_t le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* What read_collection returns for bytes that are no collection, and for no memory. */
static const char no_collection[] = "it points at no string storage", no_memory[] = "out of memory";

/* Reads the collection at file offset addr of fd (fsize bytes long) into *buf (grown as
 * needed; *cap bytes) and its size into *size. NULL when done, no_collection when the bytes
 * there are not a version-1 collection, no_memory, else what is wrong. */
static const char *read_collection(int fd, uint64_t fsize, uint64_t addr, unsigned char **buf, size_t *cap,
                                   uint64_t *size)
{
    unsigned char head[16];
    if (addr > fsize || fsize - addr < 16 || pread(fd, head, 16, (off_t)addr) != 16 || memcmp(head, "GCOL", 4) ||
        head[4] != 1)
        return no_collection;
    uint64_t n = le(head + 8, 8);
    if (n < HEAP_MIN_SIZE)
        return "it is smaller than any collection HDF5 writes";
    if (n > fsize - addr)
        return "it runs past the end of the file";
    if (n > *cap) {
        unsigned char *p = realloc(*buf, (size_t)n);
        if (!p)
            return no_memory;
        *buf = p;
        *cap = (size_t)n;
    }
    if (pread(fd, *buf, (size_t)n, (off_t)addr) != (ssize_t)n)
        return "it cannot be read";
    *size = n;
    return NULL;
}

/* Walks the objects of collection c[0..size). NULL when they tile it as HDF5 reads them
 * (and, when want is not 0, object want is among them, its size then in *osize), else what is
 * wrong. */
static const char *walk_collection(const unsigned char *c, uint64_t size, uint64_t want, uint64_t *osize)
{
    uint64_t at = 16;
    while (size - at >= 16) {   /* HDF5 takes a tail too short for a header as free space */
        uint64_t idx = le(c + at, 2), n = le(c + at + 8, 8);
        uint64_t need = idx == 0 ? n : n > size ? UINT64_MAX : 16 + ((n + 7) & ~(uint64_t)7);
        if (need < 16 || need > size - at)
            return idx == 0 ? "its free space has an impossible size" : "an object's size runs past its end";
        if (want && idx == want) {
            *osize = n;
            return NULL;
        }
        at += need;
    }
    return want ? "it names a string that is not stored" : NULL;
}

/* The size of object idx (not 0) of the collection at file offset addr of fd into *osize;
 * NULL when found, else what is wrong (no_memory included). buf, *cap: as read_collection. */
static const char *heap_object(int fd, uint64_t fsize, uint64_t addr, uint64_t idx, unsigned char **buf,
                               size_t *cap, uint64_t *osize)
{
    uint64_t size = 0;
    const char *why = read_collection(fd, fsize, addr, buf, cap, &size);
    return why ? why : walk_collection(*buf, size, idx, osize);
}

/* Checks every reference of the variable-length string dataset d (where/name in messages)
 * before HDF5 follows them: each is empty or names an object of its global heap collection
 * whose size is the length the reference says. HDF5 copies the object's size into a buffer of
 * the reference's length, so a flipped bit in either would write past it. Only contiguous
 * datasets (as fw_h5_write_strings writes them) are read this way; others are FW_ERR_PARSE. */
static fw_err check_vlen_refs(hid_t d, const char *where, const char *name, char *errbuf, size_t errlen)
{
    hid_t dcpl = -1, f = -1, fcpl = -1, sp = -1;
    unsigned char *raw = NULL, *scratch = NULL;
    size_t cap = 0, sa = 0, sl = 0;
    hsize_t ub = 0;
    int fd = -1;
    fw_err e = FW_ERR_IO;
    char path[4096];
    if ((dcpl = H5Dget_create_plist(d)) < 0 || (sp = H5Dget_space(d)) < 0 || (f = H5Iget_file_id(d)) < 0 ||
        (fcpl = H5Fget_create_plist(f)) < 0 || H5Pget_sizes(fcpl, &sa, &sl) < 0 || H5Pget_userblock(fcpl, &ub) < 0 ||
        H5Fget_name(f, path, sizeof path) <= 0) {
        say(errbuf, errlen, "cannot inspect %s/%s", where, name);
        goto cleanup;
    }
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    hsize_t stored = H5Dget_storage_size(d);
    size_t ref = 4 + sa + 4;   /* length, heap address, object index */
    if (n < 0 || sa < 1 || sa > 8) {
        say(errbuf, errlen, "cannot inspect %s/%s", where, name);
        goto cleanup;
    }
    e = FW_ERR_PARSE;
    if (n == 0 || stored == 0) {   /* nothing stored: every string reads as empty */
        e = FW_OK;
        goto cleanup;
    }
    haddr_t off = H5Dget_offset(d);
    if (H5Pget_layout(dcpl) != H5D_CONTIGUOUS || off == HADDR_UNDEF) {
        say(errbuf, errlen, "%s/%s: strings not stored as Flywheel stores them (contiguous)", where, name);
        goto cleanup;
    }
    if (stored != (hsize_t)n * ref) {
        say(errbuf, errlen, "%s/%s: %llu bytes stored for %lld strings", where, name, (unsigned long long)stored,
            (long long)n);
        goto cleanup;
    }
    struct stat st;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0) {
        say(errbuf, errlen, "cannot read %s/%s: %s", where, name, strerror(errno));
        e = FW_ERR_IO;
        goto cleanup;
    }
    uint64_t fsize = (uint64_t)st.st_size, at = (uint64_t)off + ub;
    if (at > fsize || stored > fsize - at || !(raw = malloc((size_t)stored)) ||
        pread(fd, raw, (size_t)stored, (off_t)at) != (ssize_t)stored) {
        say(errbuf, errlen, "%s/%s: its strings' references lie outside the file", where, name);
        goto cleanup;
    }
    for (hssize_t i = 0; i < n; i++) {
        const unsigned char *p = raw + (size_t)i * ref;
        uint64_t len = le(p, 4), addr = le(p + 4, (int)sa), idx = le(p + 4 + sa, 4), osize = 0;
        if (len == 0 && addr == 0)
            continue;   /* an empty (NULL) string: HDF5 reads no heap */
        const char *why = idx == 0 ? "it names no string" : heap_object(fd, fsize, addr + ub, idx, &scratch, &cap, &osize);
        if (!why && osize != len)
            why = "its length differs from the stored string's";
        if (why == no_memory) {
            say(errbuf, errlen, "out of memory");
            e = FW_ERR_NOMEM;
            goto cleanup;
        }
        if (why) {
            say(errbuf, errlen, "%s/%s: string %lld is corrupt: %s", where, name, (long long)i, why);
            goto cleanup;
        }
    }
    e = FW_OK;
cleanup:
    if (fd >= 0)
        close(fd);
    free(raw);
    free(scratch);
    if (FW_H5_CLOSE(sp, fcpl, f, dcpl) < 0 && e == FW_OK) {
        say(errbuf, errlen, "cannot close %s/%s", where, name);
        e = FW_ERR_IO;
    }
    return e;
}

int fw_h5_has_link(hid_t parent, const char *name)
{
    return H5Lexists(parent, name, H5P_DEFAULT) > 0;
}

char *fw_h5_attr_text(hid_t attr)
{
    hid_t ft = -1, mt = -1, sp = -1;
    char *s = NULL, *v = NULL;
    int ok = 0;
    /* One string only: reading an array of them into one would write past s or v (a file is
     * untrusted input, and a string-array attribute is a valid one). */
    if ((sp = H5Aget_space(attr)) < 0 || H5Sget_simple_extent_npoints(sp) != 1 || (ft = H5Aget_type(attr)) < 0 ||
        H5Tget_class(ft) != H5T_STRING || (mt = H5Tcopy(H5T_C_S1)) < 0)
        goto cleanup;
    if (H5Tis_variable_str(ft) > 0) {
        H5T_cset_t cset = H5Tget_cset(ft);
        if (cset < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, cset) < 0 ||
            H5Aread(attr, mt, &v) < 0 || !v || !(s = strdup(v)))
            goto cleanup;
    } else {
        /* Fixed length: one byte more than stored, so that the string is terminated. */
        size_t n = H5Tget_size(ft);
        if (n == 0 || n > FW_H5_MAX_TEXT || !(s = calloc(n + 1, 1)) || H5Tset_size(mt, n + 1) < 0 || H5Aread(attr, mt, s) < 0)
            goto cleanup;
    }
    ok = 1;
cleanup:
    if (v && H5free_memory(v) < 0)
        ok = 0;
    if (FW_H5_CLOSE(mt, ft, sp) < 0)
        ok = 0;
    if (!ok) {
        free(s);
        s = NULL;
    }
    return s;
}

char *fw_h5_read_str_attr(hid_t obj, const char *path, const char *name)
{
    if (H5Aexists_by_name(obj, path, name, H5P_DEFAULT) <= 0)
        return NULL;
    hid_t a = H5Aopen_by_name(obj, path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    char *s = fw_h5_attr_text(a);
    if (H5Aclose(a) < 0) {
        free(s);
        s = NULL;
    }
    return s;
}

int fw_h5_read_num_attr(hid_t obj, const char *name, hid_t mtype, void *v)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0)
        return -1;
    int rc = H5Aread(a, mtype, v) < 0 ? -1 : 0;
    if (H5Aclose(a) < 0)
        rc = -1;
    return rc;
}

void fw_h5_strings_free(char **v, uint32_t n)
{
    for (uint32_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

fw_err fw_h5_list_names(hid_t g, const char *where, H5I_type_t want, uint32_t *n, char ***names,
                        char *errbuf, size_t errlen)
{
    H5G_info_t info;
    char **l = NULL;
    uint32_t k = 0;
    fw_err e = FW_OK;
    if (H5Gget_info(g, &info) < 0) {
        say(errbuf, errlen, "cannot list %s", where);
        return FW_ERR_IO;
    }
    if (info.nlinks > FW_H5_MAX_LINKS) {
        say(errbuf, errlen, "%s: %llu links, more than any file of ours has (%u)", where,
            (unsigned long long)info.nlinks, FW_H5_MAX_LINKS);
        return FW_ERR_PARSE;
    }
    if (info.nlinks && !(l = calloc(info.nlinks, sizeof *l))) {
        say(errbuf, errlen, "out of memory");
        return FW_ERR_NOMEM;
    }
    for (hsize_t i = 0; i < info.nlinks; i++) {
        char name[256];
        ssize_t len = H5Lget_name_by_idx(g, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name,
                                         H5P_DEFAULT);
        if (len < 0 || (size_t)len >= sizeof name) {
            say(errbuf, errlen, "cannot read a link name in %s", where);
            e = FW_ERR_IO;
            goto cleanup;
        }
        H5L_info_t li;
        if (H5Lget_info(g, name, &li, H5P_DEFAULT) < 0) {
            say(errbuf, errlen, "cannot read link %s/%s", where, name);
            e = FW_ERR_IO;
            goto cleanup;
        }
        hid_t o = H5Oopen(g, name, H5P_DEFAULT);
        if (o < 0 && li.type == H5L_TYPE_HARD) {
            /* an object of the file itself that cannot be opened is corrupt, not absent */
            say(errbuf, errlen, "cannot open %s/%s (corrupt?)", where, name);
            e = FW_ERR_IO;
            goto cleanup;
        }
        if (o < 0)
            continue;   /* a dangling soft or external link: nothing to read */
        H5I_type_t t = H5Iget_type(o);
        if (H5Oclose(o) < 0) {
            say(errbuf, errlen, "cannot list %s", where);
            e = FW_ERR_IO;
            goto cleanup;
        }
        if (t != want)
            continue;
        if (!(l[k] = strdup(name))) {
            say(errbuf, errlen, "out of memory");
            e = FW_ERR_NOMEM;
            goto cleanup;
        }
        k++;
    }
cleanup:
    if (e != FW_OK) {
        fw_h5_strings_free(l, k);
    } else {
        *n = k;
        *names = l;
    }
    return e;
}

/* Whether dataset d, of n elements, holds data for them: its stored bytes times the largest
 * ratio deflate reaches (about 1032:1) must cover what it declares, so that a small file
 * cannot make a reader allocate gigabytes for chunks it never wrote. */
static fw_err check_stored(hid_t d, const char *where, const char *name, size_t n, char *errbuf, size_t errlen)
{
    hid_t t = H5Dget_type(d);
    size_t esize = t < 0 ? 0 : H5Tget_size(t);
    if (t < 0 || H5Tclose(t) < 0 || esize == 0) {
        say(errbuf, errlen, "cannot read the type of %s/%s", where, name);
        return FW_ERR_IO;
    }
    if (n == 0)
        return FW_OK;
    if (n > SIZE_MAX / esize) {
        say(errbuf, errlen, "%s/%s: impossibly large (%zu elements)", where, name, n);
        return FW_ERR_PARSE;
    }
    hsize_t stored = H5Dget_storage_size(d), declared = (hsize_t)n * esize;
    if (declared > FW_H5_SLACK_BYTES && (stored == 0 || declared / FW_H5_MAX_RATIO > stored)) {
        say(errbuf, errlen, "%s/%s: claims %zu elements (%llu bytes) but the file stores only %llu bytes of it",
            where, name, n, (unsigned long long)declared, (unsigned long long)stored);
        return FW_ERR_PARSE;
    }
    return FW_OK;
}

fw_err fw_h5_read_array(hid_t g, const char *where, const char *name, int rank, hid_t mem_type,
                        size_t elem, hsize_t *dims, void **out, char *errbuf, size_t errlen)
{
    hid_t d = -1, sp = -1;
    hsize_t shape[H5S_MAX_RANK];
    void *buf = NULL;
    fw_err e = FW_OK;
    if (rank < 1 || rank > H5S_MAX_RANK) {
        say(errbuf, errlen, "%s/%s: cannot read %d dimensions", where, name, rank);
        return FW_ERR_INVAL;
    }
    if (!fw_h5_has_link(g, name))
        return FW_ERR_NOTFOUND;
    if ((d = H5Dopen2(g, name, H5P_DEFAULT)) < 0 || (sp = H5Dget_space(d)) < 0) {
        say(errbuf, errlen, "cannot open %s/%s", where, name);
        e = FW_ERR_IO;
        goto cleanup;
    }
    if (H5Sget_simple_extent_ndims(sp) != rank) {
        say(errbuf, errlen, "%s/%s: expected %d dimension%s", where, name, rank, rank == 1 ? "" : "s");
        e = FW_ERR_PARSE;
        goto cleanup;
    }
    if (H5Sget_simple_extent_dims(sp, shape, NULL) < 0) {
        say(errbuf, errlen, "cannot read the shape of %s/%s", where, name);
        e = FW_ERR_IO;
        goto cleanup;
    }
    size_t n = 1;
    for (int k = 0; k < rank; k++) {
        if (shape[k] && n > FW_H5_MAX_ELEMENTS / shape[k]) {
            say(errbuf, errlen, "%s/%s: impossibly large shape (over %llu elements)", where, name,
                (unsigned long long)FW_H5_MAX_ELEMENTS);
            e = FW_ERR_PARSE;
            goto cleanup;
        }
        n *= (size_t)shape[k];
    }
    if ((e = check_stored(d, where, name, n, errbuf, errlen)) != FW_OK)
        goto cleanup;
    if (!(buf = calloc(n ? n : 1, elem))) {
        say(errbuf, errlen, "out of memory");
        e = FW_ERR_NOMEM;
        goto cleanup;
    }
    if (n && H5Tis_variable_str(mem_type) > 0 && (e = check_vlen_refs(d, where, name, errbuf, errlen)) != FW_OK)
        goto cleanup;
    if (n && H5Dread(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        say(errbuf, errlen, "cannot read %s/%s%s", where, name,
            H5Tis_variable_str(mem_type) > 0 ? " (expected variable-length strings)" : "");
        e = FW_ERR_IO;
        goto cleanup;
    }
cleanup:
    if (FW_H5_CLOSE(sp, d) < 0 && e == FW_OK) {
        say(errbuf, errlen, "cannot close %s/%s", where, name);
        e = FW_ERR_IO;
    }
    if (e != FW_OK) {
        free(buf);
    } else {
        memcpy(dims, shape, (size_t)rank * sizeof *dims);
        *out = buf;
    }
    return e;
}

fw_err fw_h5_read_strings(hid_t g, const char *where, const char *name, uint32_t *n_out, char ***out,
                         char *errbuf, size_t errlen)
{
    hid_t mt = fw_h5_str_type();
    char **raw = NULL, **s = NULL;
    hsize_t n = 0;
    fw_err e = FW_OK;
    if (mt < 0) {
        say(errbuf, errlen, "cannot make a string type for %s/%s", where, name);
        return FW_ERR_IO;
    }
    e = fw_h5_read_array(g, where, name, 1, mt, sizeof *raw, &n, (void **)&raw, errbuf, errlen);
    if (e == FW_ERR_NOTFOUND) {
        say(errbuf, errlen, "cannot open %s/%s", where, name);
        e = FW_ERR_IO;
    }
    if (e != FW_OK)
        goto cleanup;
    if (!(s = calloc(n ? n : 1, sizeof *s))) {
        say(errbuf, errlen, "out of memory");
        e = FW_ERR_NOMEM;
        goto cleanup;
    }
    for (hsize_t i = 0; i < n; i++)
        if (!(s[i] = strdup(raw[i] ? raw[i] : ""))) {
            say(errbuf, errlen, "out of memory");
            e = FW_ERR_NOMEM;
            goto cleanup;
        }
cleanup:
    for (hsize_t i = 0; raw && i < n; i++)
        if (raw[i] && H5free_memory(raw[i]) < 0 && e == FW_OK) {
            say(errbuf, errlen, "cannot free the strings of %s/%s", where, name);
            e = FW_ERR_IO;
        }
    free(raw);
    if (H5Tclose(mt) < 0 && e == FW_OK) {
        say(errbuf, errlen, "cannot close %s/%s", where, name);
        e = FW_ERR_IO;
    }
    if (e != FW_OK) {
        fw_h5_strings_free(s, (uint32_t)n);
    } else {
        *n_out = (uint32_t)n;
        *out = s;
    }
    return e;
}

/* ---- integrity of the input --------------------------------------------------------- */

fw_err fw_h5_check_regular(const char *path, char *errbuf, size_t errlen)
{
    /* O_NONBLOCK: opening a FIFO must not wait for a writer. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        say(errbuf, errlen, "cannot open: %s", strerror(errno));
        return FW_ERR_NOTFOUND;
    }
    int rc = fstat(fd, &st);
    int err = errno;
    close(fd);
    if (rc < 0) {
        say(errbuf, errlen, "cannot stat: %s", strerror(err));
        return FW_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        say(errbuf, errlen, "not a regular file (a %s); expected an HDF5 file",
            S_ISFIFO(st.st_mode) ? "FIFO" : S_ISDIR(st.st_mode) ? "directory" :
            S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "device" : S_ISSOCK(st.st_mode) ? "socket" : "special file");
        return FW_ERR_PARSE;
    }
    return FW_OK;
}


fw_err fw_h5_check_heaps(const char *path, char *errbuf, size_t errlen)
{
    enum { BLOCK = 1 << 20, SIG = 4 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unsigned char *buf = malloc(BLOCK), *coll = NULL;
    size_t cap = 0;
    fw_err e = FW_ERR_IO;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        say(errbuf, errlen, "cannot read: %s", strerror(errno));
        goto cleanup;
    }
    if (!buf) {
        say(errbuf, errlen, "out of memory");
        e = FW_ERR_NOMEM;
        goto cleanup;
    }
    /* Scans for the signature block by block (blocks overlap by SIG - 1 bytes, so that none is
     * missed); a collection's strings may say GCOL too, so the scan resumes after each one. */
    uint64_t fsize = (uint64_t)st.st_size, pos = 0;
    while (pos + SIG <= fsize) {
        size_t want = fsize - pos < BLOCK ? (size_t)(fsize - pos) : BLOCK;
        ssize_t got = pread(fd, buf, want, (off_t)pos);
        if (got < SIG) {
            say(errbuf, errlen, "cannot read: %s", got < 0 ? strerror(errno) : "the file shrank");
            goto cleanup;
        }
        uint64_t next = pos + (uint64_t)got - (SIG - 1);
        for (size_t i = 0; i + SIG <= (size_t)got; i++) {
            if (memcmp(buf + i, "GCOL", SIG) != 0)
                continue;
            uint64_t off = pos + i, size = 0;
            const char *why = read_collection(fd, fsize, off, &coll, &cap, &size);
            if (why == no_collection)
                continue;   /* bytes that happen to say GCOL */
            if (why == no_memory) {
                say(errbuf, errlen, "out of memory");
                e = FW_ERR_NOMEM;
                goto cleanup;
            }
            if (why || (why = walk_collection(coll, size, 0, NULL))) {
                say(errbuf, errlen, "corrupt string storage (global heap at byte %llu): %s", (unsigned long long)off,
                    why);
                e = FW_ERR_PARSE;
                goto cleanup;
            }
            if (off + size >= next) {
                next = off + size;
                break;
            }
            i = (size_t)(off + size - pos) - 1;
        }
        pos = next;
    }
    e = FW_OK;
cleanup:
    if (fd >= 0)
        close(fd);
    free(buf);
    free(coll);
    return e;
}

fw_err fw_h5_isolated(fw_h5_check_fn check, const char *path, unsigned timeout_s, char *errbuf,
                      size_t errlen)
{
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
        say(errbuf, errlen, "%s: cannot check the file in a child process: %s", path, strerror(errno));
        return FW_ERR_IO;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        say(errbuf, errlen, "%s: cannot check the file in a child process: %s", path, strerror(e));
        return FW_ERR_IO;
    }
    if (pid == 0) {
        /* The child: the check, its message through the pipe, its code as the exit status.
         * _exit: no atexit handlers, nothing of the parent's flushed twice. */
        char msg[1024] = "";
        close(fds[0]);
        fw_err rc = check(path, msg, sizeof msg);
        size_t n = strnlen(msg, sizeof msg - 1), off = 0;
        while (off < n) {
            ssize_t w = write(fds[1], msg + off, n - off);
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        /* 100 + code: a sanitizer's or the C library's own exit status (1, 134...) is then
         * not mistaken for one of ours. */
        _exit(100 + (rc >= 0 && rc < 99 ? (int)rc : 99));
    }
    close(fds[1]);
    /* Read the message until the child closes its end (it exits, or dies), or the deadline. */
    char msg[1024];
    size_t len = 0;
    int timed_out = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long left_ms = (long)timeout_s * 1000 - ((now.tv_sec - t0.tv_sec) * 1000 + (now.tv_nsec - t0.tv_nsec) / 1000000);
        if (left_ms <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd pf = {.fd = fds[0], .events = POLLIN};
        int pr = poll(&pf, 1, left_ms > 1000 ? 1000 : (int)left_ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0)
            continue;
        ssize_t r = read(fds[0], msg + len, sizeof msg - 1 - len);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
        if (len == sizeof msg - 1)
            break;
    }
    msg[len] = '\0';
    close(fds[0]);
    if (timed_out)
        kill(pid, SIGKILL);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) {
            say(errbuf, errlen, "%s: cannot check the file in a child process: %s", path, strerror(errno));
            return FW_ERR_IO;
        }
    if (timed_out) {
        say(errbuf, errlen, "%s: reading it took more than %u s: the HDF5 library loops on it, so the file is corrupt",
            path, timeout_s);
        return FW_ERR_PARSE;
    }
    if (WIFSIGNALED(status)) {
        say(errbuf, errlen, "%s: the HDF5 library crashed reading it (signal %d): the file is corrupt", path,
            WTERMSIG(status));
        return FW_ERR_PARSE;
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) - 100 : -1;
    if (code < 0 || code >= 99) {
        /* e.g. a sanitizer's report of the crash, which exits instead of dying by the signal */
        say(errbuf, errlen, "%s: the HDF5 library crashed reading it (the check ended with status %d): the file is corrupt",
            path, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return FW_ERR_PARSE;
    }
    if (code != FW_OK)
        say(errbuf, errlen, "%s", msg);
    return (fw_err)code;
}

/* lookup3's mixing of three 32-bit words (Bob Jenkins, 2006: the published algorithm). */
#define FW_ROT32(x, k) (((x) << (k)) | ((x) >> (32 - (k))))

uint32_t fw_h5_checksum(const void *data, size_t len)
{
    const unsigned char *k = data;
    uint32_t a, b, c;
    a = b = c = 0xdeadbeefu + (uint32_t)len;
    while (len > 12) {
        a += k[0] + ((uint32_t)k[1] << 8) + ((uint32_t)k[2] << 16) + ((uint32_t)k[3] << 24);
        b += k[4] + ((uint32_t)k[5] << 8) + ((uint32_t)k[6] << 16) + ((uint32_t)k[7] << 24);
        c += k[8] + ((uint32_t)k[9] << 8) + ((uint32_t)k[10] << 16) + ((uint32_t)k[11] << 24);
        a -= c, a ^= FW_ROT32(c, 4), c += b;
        b -= a, b ^= FW_ROT32(a, 6), a += c;
        c -= b, c ^= FW_ROT32(b, 8), b += a;
        a -= c, a ^= FW_ROT32(c, 16), c += b;
        b -= a, b ^= FW_ROT32(a, 19), a += c;
        c -= b, c ^= FW_ROT32(b, 4), b += a;
        len -= 12;
        k += 12;
    }
    if (len == 0)
        return c;
    /* The last 1 to 12 bytes, little-endian into a, b, c. */
    uint32_t w[3] = {0, 0, 0};
    for (size_t i = 0; i < len; i++)
        w[i / 4] += (uint32_t)k[i] << (8 * (i % 4));
    a += w[0], b += w[1], c += w[2];
    c ^= b, c -= FW_ROT32(b, 14);
    a ^= c, a -= FW_ROT32(c, 11);
    b ^= a, b -= FW_ROT32(a, 25);
    c ^= b, c -= FW_ROT32(b, 16);
    a ^= c, a -= FW_ROT32(c, 4);
    b ^= a, b -= FW_ROT32(a, 14);
    c ^= b, c -= FW_ROT32(b, 24);
    return c;
}

int fw_h5_fix_image_superblock(unsigned char *img, size_t n)
{
    static const unsigned char sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (n < 12 || memcmp(img, sig, sizeof sig) != 0)
        return -1;
    if (img[8] != 2 && img[8] != 3)
        return 0;   /* versions 0 and 1 carry no checksum */
    /* signature, version, sizes of offsets and lengths, flags; base, extension, end-of-file
     * and root addresses; the checksum. */
    size_t body = 12 + 4 * (size_t)img[9];
    if (img[9] == 0 || body + 4 > n)
        return -1;
    uint32_t sum = fw_h5_checksum(img, body);
    for (int i = 0; i < 4; i++)
        img[body + (size_t)i] = (unsigned char)(sum >> (8 * i));
    return 0;
}

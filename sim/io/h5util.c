/* HDF5 helpers for the result and bench files (see h5util.h).
 * Invariants: every handle a helper opens is closed on every path, through its one `cleanup`
 * label or its one FW_H5_CLOSE, and a failed close fails the call; every HDF5 status is
 * checked. What a writer puts in a file -- types, chunk sizes, filters, attributes and their
 * order -- is part of the file format: files written before these helpers existed must
 * compare equal to files written with them. */
#include "io/h5util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5_hl.h>

/* The one place a reader's message is written. */
static void say(char *errbuf, size_t errlen, const char *fmt, ...)
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

int fw_h5_attr_num(hid_t obj, const char *name, hid_t ftype, hid_t mtype, const void *v)
{
    hid_t sp = H5Screate(H5S_SCALAR), a = -1;
    int failed = sp < 0 || (a = H5Acreate2(obj, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
                 H5Awrite(a, mtype, v) < 0;
    return FW_H5_CLOSE(a, sp) < 0 || failed ? -1 : 0;
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

hid_t fw_h5_dataset(hid_t parent, const char *name, hid_t file_type, hid_t mem_type, int rank,
                    const hsize_t *dims, const hsize_t *chunk, unsigned deflate, const void *data,
                    const char *unit, const char *doc, const char *const *labels)
{
    hsize_t maxdims[2] = {H5S_UNLIMITED, rank > 1 ? dims[1] : 0};
    hid_t sp = -1, pl = -1, ds = -1;
    int ok = 0;
    if ((sp = H5Screate_simple(rank, dims, maxdims)) < 0)
        goto cleanup;
    if ((pl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(pl, rank, chunk) < 0 ||
        (deflate && (H5Pset_shuffle(pl) < 0 || H5Pset_deflate(pl, deflate) < 0)))
        goto cleanup;
    if ((ds = H5Dcreate2(parent, name, file_type, sp, H5P_DEFAULT, pl, H5P_DEFAULT)) < 0)
        goto cleanup;
    if (dims[0] > 0 && data && H5Dwrite(ds, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
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

int fw_h5_write_1d(hid_t parent, const char *name, hid_t ftype, hid_t mtype, hsize_t n,
                   const void *data, unsigned deflate, const char *unit, const char *doc,
                   hid_t scale, const char *label)
{
    hsize_t chunk = n > 0 && n < 256 ? n : 256;
    const char *labels[1] = {label};
    hid_t ds = fw_h5_dataset(parent, name, ftype, mtype, 1, &n, &chunk, deflate, data, unit, doc, labels);
    if (ds < 0)
        return -1;
    int rc = scale >= 0 && H5DSattach_scale(ds, scale, 0) < 0 ? -1 : 0;
    if (H5Dclose(ds) < 0)
        rc = -1;
    return rc;
}

int fw_h5_write_fixed(hid_t parent, const char *name, hid_t ftype, hid_t mtype, int rank,
                      const hsize_t *dims, const void *data, const char *unit, const char *doc)
{
    hid_t sp = H5Screate_simple(rank, dims, NULL), d = -1;
    int failed = sp < 0 || (d = H5Dcreate2(parent, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT)) < 0 ||
                 (dims[0] > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) ||
                 describe(d, unit, doc) < 0;
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
        if (n == 0 || !(s = calloc(n + 1, 1)) || H5Tset_size(mt, n + 1) < 0 || H5Aread(attr, mt, s) < 0)
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
        hid_t o = H5Oopen(g, name, H5P_DEFAULT);
        if (o < 0)
            continue;   /* a dangling link: nothing to read */
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
    for (int k = 0; k < rank; k++)
        n *= (size_t)shape[k];
    if (!(buf = calloc(n ? n : 1, elem))) {
        say(errbuf, errlen, "out of memory");
        e = FW_ERR_NOMEM;
        goto cleanup;
    }
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

/* Fault injection for flywheel-fault: the flywheel program relinked with
 * -Wl,--wrap=<fn> for each function below, so that every call Flywheel's own objects make
 * to it lands here first. libc, libhdf5 and the other shared libraries keep calling the real
 * functions: only our code sees a failure, as on a real machine where our malloc or our
 * H5Dwrite is the call that runs out of memory or disk.
 *
 * Two classes are counted separately, in call order:
 *   alloc  malloc calloc realloc strdup strndup vasprintf open_memstream
 *   h5     H5Fcreate H5Gcreate2 H5Dcreate2 H5Acreate2 H5Dwrite H5Awrite H5DSset_scale
 *          H5DSattach_scale H5DSset_label H5Fclose
 * FW_FAULT_ALLOC=k fails the k-th alloc call (1-based), FW_FAULT_H5=k the k-th h5 call; only
 * that one call fails, every later one succeeds (SQLite's "transient" fault). A failed
 * allocation returns NULL with errno ENOMEM; a failed HDF5 call does nothing and returns -1,
 * except H5Fclose, which closes the file for real and then returns -1 (a flush that failed at
 * close). FW_FAULT_COUNT=path writes "alloc N\nh5 M\n" at exit, the counts of the run;
 * FW_FAULT_TRACE=path receives the backtrace of the call that was failed, one frame a line as
 * an offset into this executable (for addr2line) or "lib" for a frame elsewhere;
 * FW_FAULT_LOG=path receives one line per counted call, "CLASS K FUNCTION CALLER-OFFSET",
 * from which the sweep picks the calls to fail (every call site at least once).
 *
 * Test code only: the environment is read here, not in the program's main. The counters are
 * process globals because the wrapped calls carry no context; they are atomic because
 * OpenMP threads allocate too (the sweep runs with -t 1 so that the order is deterministic). */
#include <errno.h>
#include <execinfo.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hdf5.h>
#include <hdf5_hl.h>

enum { FAULT_ALLOC, FAULT_H5, N_FAULT };

static atomic_ulong n_calls[N_FAULT];
static unsigned long fail_at[N_FAULT];
static atomic_int ready;
static int log_fd = -1;

/* The linker's bounds of this executable's code: frames inside are Flywheel's. */
extern const char __executable_start[], etext[];

static unsigned long exe_offset(const void *pc)
{
    const char *p = pc;
    return p >= __executable_start && p < etext ? (unsigned long)(p - __executable_start) : 0;
}

static void write_counts(void)
{
    const char *path = getenv("FW_FAULT_COUNT");
    if (!path)
        return;
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return;
    char buf[128];
    int n = snprintf(buf, sizeof buf, "alloc %lu\nh5 %lu\n", (unsigned long)atomic_load(&n_calls[FAULT_ALLOC]),
                     (unsigned long)atomic_load(&n_calls[FAULT_H5]));
    if (n > 0 && write(fd, buf, (size_t)n) < 0) {
        /* nothing to do: the sweep notices the missing counts */
    }
    close(fd);
}

/* Reads the environment once, before main (no wrapped call happens before it matters:
 * getenv and atexit do not allocate through our wrappers). */
__attribute__((constructor)) static void fault_init(void)
{
    const char *a = getenv("FW_FAULT_ALLOC"), *h = getenv("FW_FAULT_H5");
    fail_at[FAULT_ALLOC] = a ? strtoul(a, NULL, 10) : 0;
    fail_at[FAULT_H5] = h ? strtoul(h, NULL, 10) : 0;
    const char *log = getenv("FW_FAULT_LOG");
    if (log)
        log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    atexit(write_counts);
    atomic_store(&ready, 1);
}

static void trace(int cls, unsigned long k, const char *fn)
{
    const char *path = getenv("FW_FAULT_TRACE");
    int fd = path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    if (fd < 0)
        return;
    dprintf(fd, "fault: failing %s call %lu (%s)\n", cls == FAULT_ALLOC ? "alloc" : "h5", k, fn);
    void *frames[64];
    int n = backtrace(frames, 64);
    for (int i = 0; i < n; i++) {
        unsigned long off = exe_offset(frames[i]);
        if (off)
            dprintf(fd, "0x%lx\n", off);
        else
            dprintf(fd, "lib\n");
    }
    close(fd);
}

/* Counts one call of class cls made from caller; nonzero when this is the one to fail. */
static int should_fail(int cls, const char *fn, const void *caller)
{
    if (!atomic_load(&ready))
        return 0;
    unsigned long k = atomic_fetch_add(&n_calls[cls], 1) + 1;
    if (log_fd >= 0)
        dprintf(log_fd, "%s %lu %s 0x%lx\n", cls == FAULT_ALLOC ? "alloc" : "h5", k, fn, exe_offset(caller));
    if (fail_at[cls] == 0 || k != fail_at[cls])
        return 0;
    trace(cls, k, fn);
    return 1;
}

/* ---- allocation ---------------------------------------------------------------------------- */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__real_open_memstream(char **buf, size_t *len);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **out, const char *fmt, va_list ap);
FILE *__wrap_open_memstream(char **buf, size_t *len);

#define FAIL_ALLOC(fn, ret)                                                                        \
    do {                                                                                           \
        if (should_fail(FAULT_ALLOC, fn, __builtin_return_address(0))) {                           \
            errno = ENOMEM;                                                                        \
            return ret;                                                                            \
        }                                                                                          \
    } while (0)

void *__wrap_malloc(size_t n)
{
    FAIL_ALLOC("malloc", NULL);
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    FAIL_ALLOC("calloc", NULL);
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    FAIL_ALLOC("realloc", NULL);
    return __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    FAIL_ALLOC("strdup", NULL);
    return __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    FAIL_ALLOC("strndup", NULL);
    return __real_strndup(s, n);
}

int __wrap_vasprintf(char **out, const char *fmt, va_list ap)
{
    FAIL_ALLOC("vasprintf", -1);
    return __real_vasprintf(out, fmt, ap);
}

FILE *__wrap_open_memstream(char **buf, size_t *len)
{
    FAIL_ALLOC("open_memstream", NULL);
    return __real_open_memstream(buf, len);
}

/* ---- HDF5 writes --------------------------------------------------------------------------- */

hid_t __real_H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl);
hid_t __real_H5Gcreate2(hid_t loc, const char *name, hid_t lcpl, hid_t gcpl, hid_t gapl);
hid_t __real_H5Dcreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl,
                        hid_t dapl);
hid_t __real_H5Acreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl);
herr_t __real_H5Dwrite(hid_t ds, hid_t mtype, hid_t mspace, hid_t fspace, hid_t xfer, const void *buf);
herr_t __real_H5Awrite(hid_t a, hid_t mtype, const void *buf);
herr_t __real_H5DSset_scale(hid_t ds, const char *name);
herr_t __real_H5DSattach_scale(hid_t ds, hid_t scale, unsigned idx);
herr_t __real_H5DSset_label(hid_t ds, unsigned idx, const char *label);
herr_t __real_H5Fclose(hid_t f);

hid_t __wrap_H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl);
hid_t __wrap_H5Gcreate2(hid_t loc, const char *name, hid_t lcpl, hid_t gcpl, hid_t gapl);
hid_t __wrap_H5Dcreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl,
                        hid_t dapl);
hid_t __wrap_H5Acreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl);
herr_t __wrap_H5Dwrite(hid_t ds, hid_t mtype, hid_t mspace, hid_t fspace, hid_t xfer, const void *buf);
herr_t __wrap_H5Awrite(hid_t a, hid_t mtype, const void *buf);
herr_t __wrap_H5DSset_scale(hid_t ds, const char *name);
herr_t __wrap_H5DSattach_scale(hid_t ds, hid_t scale, unsigned idx);
herr_t __wrap_H5DSset_label(hid_t ds, unsigned idx, const char *label);
herr_t __wrap_H5Fclose(hid_t f);

#define FAIL_H5(fn)                                                                                \
    do {                                                                                           \
        if (should_fail(FAULT_H5, fn, __builtin_return_address(0)))                                \
            return -1;                                                                             \
    } while (0)

hid_t __wrap_H5Fcreate(const char *name, unsigned flags, hid_t fcpl, hid_t fapl)
{
    FAIL_H5("H5Fcreate");
    return __real_H5Fcreate(name, flags, fcpl, fapl);
}

hid_t __wrap_H5Gcreate2(hid_t loc, const char *name, hid_t lcpl, hid_t gcpl, hid_t gapl)
{
    FAIL_H5("H5Gcreate2");
    return __real_H5Gcreate2(loc, name, lcpl, gcpl, gapl);
}

hid_t __wrap_H5Dcreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t lcpl, hid_t dcpl,
                        hid_t dapl)
{
    FAIL_H5("H5Dcreate2");
    return __real_H5Dcreate2(loc, name, type, space, lcpl, dcpl, dapl);
}

hid_t __wrap_H5Acreate2(hid_t loc, const char *name, hid_t type, hid_t space, hid_t acpl, hid_t aapl)
{
    FAIL_H5("H5Acreate2");
    return __real_H5Acreate2(loc, name, type, space, acpl, aapl);
}

herr_t __wrap_H5Dwrite(hid_t ds, hid_t mtype, hid_t mspace, hid_t fspace, hid_t xfer, const void *buf)
{
    FAIL_H5("H5Dwrite");
    return __real_H5Dwrite(ds, mtype, mspace, fspace, xfer, buf);
}

herr_t __wrap_H5Awrite(hid_t a, hid_t mtype, const void *buf)
{
    FAIL_H5("H5Awrite");
    return __real_H5Awrite(a, mtype, buf);
}

herr_t __wrap_H5DSset_scale(hid_t ds, const char *name)
{
    FAIL_H5("H5DSset_scale");
    return __real_H5DSset_scale(ds, name);
}

herr_t __wrap_H5DSattach_scale(hid_t ds, hid_t scale, unsigned idx)
{
    FAIL_H5("H5DSattach_scale");
    return __real_H5DSattach_scale(ds, scale, idx);
}

herr_t __wrap_H5DSset_label(hid_t ds, unsigned idx, const char *label)
{
    FAIL_H5("H5DSset_label");
    return __real_H5DSset_label(ds, idx, label);
}

herr_t __wrap_H5Fclose(hid_t f)
{
    if (should_fail(FAULT_H5, "H5Fclose", __builtin_return_address(0))) {
        __real_H5Fclose(f);
        return -1;
    }
    return __real_H5Fclose(f);
}

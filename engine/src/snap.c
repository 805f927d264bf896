/* State snapshots (flywheel/snap.h): a streamed writer that patches each section's length and
 * checksum when the section ends, and a buffered reader that checks the whole file (one pass
 * of reads) before the first transfer. The reader reads rather than maps: a mapped snapshot
 * of a large run counts in the resumed run's peak memory beside the state it fills. Hand-written rather than HDF5: a snapshot is one pass of
 * plain arrays in a fixed order, and a flat file with checked lengths keeps the reader's
 * attack surface to this file (libhdf5 on crafted input is why results are read in a forked
 * child, io/h5util.c). */
#define _FILE_OFFSET_BITS 64
#include "flywheel/snap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[8] = {'F', 'W', 'S', 'N', 'A', 'P', '\r', '\n'};
#define HEAD_BYTES 24u
#define SEC_HEAD (FW_SNAP_TAG + 16u)
#define END_TAG "end"

typedef struct section {
    char tag[FW_SNAP_TAG];
    uint64_t at, len;        /* payload */
} section;

struct fw_snap {
    int loading;
    int failed;
    char why[512];
    char tag[FW_SNAP_TAG];   /* the current section's */
    /* writer */
    FILE *f;
    int open_section;
    off_t head_at;           /* the current section's header */
    uint64_t len, sum;       /* its payload so far */
    uint64_t written;
    /* reader */
    int rfd;
    uint64_t file_len;
    unsigned char *buf;      /* a window of the file: [buf_at, buf_at + buf_n) */
    uint64_t buf_at;
    size_t buf_n;
    section *sec;
    size_t n_sec, next_sec;
    uint64_t pos, end;       /* cursor and end of the current section's payload */
    int in_section;
};

/* A section's checksum: CRC-32 (zlib's crc32_z, the polynomial of gzip and PNG), continuing
 * from sum (0 to start). It was FNV-1a 64 until format 2: FNV's multiply per byte is a chain
 * the CPU cannot overlap (0.73 GB/s measured here, zlib's braided CRC 3.9 GB/s), and the
 * snapshot is checksummed whole every day and again when a run resumes (a 16-arm, 5,000-user
 * snapshot is 36 MB a day). A checksum here guards against torn and corrupted files, not
 * forgeries (a forger recomputes any unkeyed sum; the hooks' checks are the defence there),
 * and CRC-32 detects every burst of up to 32 bits, which FNV does not promise. */
static uint64_t sum_more(uint64_t sum, const void *p, size_t n)
{
    return n ? crc32_z((uLong)sum, p, n) : sum;   /* crc32_z(sum, NULL, 0) would answer 0 */
}

uint64_t fw_fnv64(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

void fw_snap_fail(fw_snap *s, const char *fmt, ...)
{
    if (s->failed)
        return;
    s->failed = 1;
    int k = snprintf(s->why, sizeof s->why, "%s%s%s", s->tag[0] ? "section \"" : "", s->tag,
                     s->tag[0] ? "\": " : "");
    if (k < 0 || (size_t)k >= sizeof s->why)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->why + k, sizeof s->why - (size_t)k, fmt, ap);
    va_end(ap);
}

int fw_snap_loading(const fw_snap *s) { return s->loading; }
int fw_snap_failed(const fw_snap *s) { return s->failed; }
const char *fw_snap_why(const fw_snap *s) { return s->failed ? s->why : ""; }
uint64_t fw_snap_bytes(const fw_snap *s) { return s->loading ? s->file_len : s->written; }

/* ---- writing ------------------------------------------------------------------------- */

static void put_raw(fw_snap *s, const void *p, size_t n)
{
    if (s->failed || n == 0)
        return;
    if (fwrite(p, 1, n, s->f) != n) {
        fw_snap_fail(s, "cannot write: %s", strerror(errno));
        return;
    }
    s->written += n;
}

static void put_payload(fw_snap *s, const void *p, size_t n)
{
    if (s->failed)
        return;
    if (!s->open_section) {
        fw_snap_fail(s, "a value written outside any section (a bug in flywheel)");
        return;
    }
    put_raw(s, p, n);
    s->sum = sum_more(s->sum, p, n);
    s->len += n;
}

static void le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Patches the open section's length and checksum into its header. */
static void close_section(fw_snap *s)
{
    if (s->failed || !s->open_section)
        return;
    unsigned char b[16];
    le64(b, s->len);
    le64(b + 8, s->sum);
    off_t here = ftello(s->f);
    if (here < 0 || fseeko(s->f, s->head_at + FW_SNAP_TAG, SEEK_SET) != 0 || fwrite(b, 1, 16, s->f) != 16 ||
        fseeko(s->f, here, SEEK_SET) != 0)
        fw_snap_fail(s, "cannot write: %s", strerror(errno));
    s->open_section = 0;
}

static void begin_section(fw_snap *s, const char *tag)
{
    close_section(s);
    if (s->failed)
        return;
    memset(s->tag, 0, sizeof s->tag);
    size_t n = strlen(tag);
    if (n == 0 || n >= FW_SNAP_TAG) {
        fw_snap_fail(s, "a section tag of %zu characters (1 to %u; a bug in flywheel)", n, FW_SNAP_TAG - 1);
        return;
    }
    memcpy(s->tag, tag, n);
    if ((s->head_at = ftello(s->f)) < 0) {
        fw_snap_fail(s, "cannot write: %s", strerror(errno));
        return;
    }
    unsigned char h[SEC_HEAD] = {0};
    memcpy(h, s->tag, FW_SNAP_TAG);
    put_raw(s, h, sizeof h);
    s->open_section = 1;
    s->len = 0;
    s->sum = 0;
}

fw_snap *fw_snap_create(const char *path)
{
    fw_snap *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (!(s->f = fopen(path, "wb"))) {
        fw_snap_fail(s, "cannot create %s: %s", path, strerror(errno));
        return s;
    }
    setvbuf(s->f, NULL, _IOFBF, 4u << 20);
    unsigned char h[HEAD_BYTES] = {0};
    memcpy(h, MAGIC, 8);
    uint32_t order = 0x01020304u, fmt = FW_SNAP_FORMAT;
    memcpy(h + 8, &order, 4);
    memcpy(h + 12, &fmt, 4);
    put_raw(s, h, sizeof h);
    return s;
}

fw_err fw_snap_finish(fw_snap *s, uint64_t *bytes, char *why, size_t why_len)
{
    if (!s->loading && s->f) {
        begin_section(s, END_TAG);
        close_section(s);
        /* No fsync: a snapshot torn by a power loss fails its checksums and is not used (the
         * resume re-simulates), and a killed process leaves the page cache whole; syncing
         * hundreds of megabytes a day bought nothing but time. */
        if (!s->failed && fflush(s->f) != 0)
            fw_snap_fail(s, "cannot write: %s", strerror(errno));
    }
    if (s->f && fclose(s->f) != 0 && !s->failed)
        fw_snap_fail(s, "cannot write: %s", strerror(errno));
    fw_err rc = s->failed ? FW_ERR_IO : FW_OK;
    if (bytes)
        *bytes = s->written;
    if (why && why_len)
        snprintf(why, why_len, "%s", s->failed ? s->why : "");
    free(s);
    return rc;
}

/* ---- reading ------------------------------------------------------------------------- */

#define READ_BUF (4u << 20)

/* n bytes at offset at into p: 0, or -1 (errno set; a short file gives EIO). */
static int read_at(int fd, void *p, size_t n, uint64_t at)
{
    unsigned char *b = p;
    while (n > 0) {
        ssize_t k = pread(fd, b, n, (off_t)at);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;
            return -1;
        }
        b += k;
        n -= (size_t)k;
        at += (uint64_t)k;
    }
    return 0;
}

/* The checksum (sum_more) of the file's bytes [at, at + n), read through the buffer. */
static int sum_range(fw_snap *s, uint64_t at, uint64_t n, uint64_t *sum)
{
    uint64_t h = 0;
    while (n > 0) {
        size_t k = n < READ_BUF ? (size_t)n : READ_BUF;
        if (read_at(s->rfd, s->buf, k, at) != 0)
            return -1;
        h = sum_more(h, s->buf, k);
        at += k;
        n -= k;
    }
    *sum = h;
    return 0;
}

/* Checks the file whole: header, every section's bounds and checksum, the end mark. */
static void index_sections(fw_snap *s)
{
    unsigned char h[HEAD_BYTES > SEC_HEAD ? HEAD_BYTES : SEC_HEAD];
    uint64_t n = s->file_len;
    uint32_t order, fmt;
    if (n < HEAD_BYTES || read_at(s->rfd, h, HEAD_BYTES, 0) != 0 || memcmp(h, MAGIC, 8) != 0) {
        fw_snap_fail(s, "not a flywheel snapshot (no FWSNAP header)");
        return;
    }
    memcpy(&order, h + 8, 4);
    memcpy(&fmt, h + 12, 4);
    if (order != 0x01020304u) {
        fw_snap_fail(s, "written on a machine of the other byte order");
        return;
    }
    if (fmt != FW_SNAP_FORMAT || get64(h + 16) != 0) {
        fw_snap_fail(s, "snapshot format %u, this flywheel reads format %u", fmt, FW_SNAP_FORMAT);
        return;
    }
    uint64_t at = HEAD_BYTES;
    size_t cap = 0;
    for (;;) {
        if (n - at < SEC_HEAD) {
            fw_snap_fail(s, "truncated at byte %llu (a section header of %u bytes expected)", (unsigned long long)at,
                         SEC_HEAD);
            return;
        }
        if (read_at(s->rfd, h, SEC_HEAD, at) != 0) {
            fw_snap_fail(s, "cannot read: %s", strerror(errno));
            return;
        }
        section x;
        memcpy(x.tag, h, FW_SNAP_TAG);
        size_t tl = strnlen(x.tag, FW_SNAP_TAG);
        int padded = tl < FW_SNAP_TAG;
        for (size_t i = tl; i < FW_SNAP_TAG; i++)   /* one encoding: NUL padding only */
            padded &= x.tag[i] == '\0';
        if (!padded || tl == 0) {
            fw_snap_fail(s, "a malformed section tag at byte %llu", (unsigned long long)at);
            return;
        }
        x.len = get64(h + FW_SNAP_TAG);
        uint64_t sum = get64(h + FW_SNAP_TAG + 8), got;
        x.at = at + SEC_HEAD;
        if (x.len > n - x.at) {
            fw_snap_fail(s, "section \"%s\" at byte %llu says %llu bytes, the file has %llu after its header", x.tag,
                         (unsigned long long)at, (unsigned long long)x.len, (unsigned long long)(n - x.at));
            return;
        }
        if (sum_range(s, x.at, x.len, &got) != 0) {
            fw_snap_fail(s, "cannot read: %s", strerror(errno));
            return;
        }
        if (got != sum) {
            fw_snap_fail(s, "section \"%s\" at byte %llu fails its checksum (the file is damaged)", x.tag,
                         (unsigned long long)at);
            return;
        }
        at = x.at + x.len;
        if (strcmp(x.tag, END_TAG) == 0) {
            if (x.len != 0 || at != n)
                fw_snap_fail(s, "%llu bytes after the end mark", (unsigned long long)(n - at));
            return;
        }
        if (s->n_sec == cap) {
            size_t c = cap ? 2 * cap : 64;
            section *v = realloc(s->sec, c * sizeof *v);
            if (!v) {
                fw_snap_fail(s, "out of memory");
                return;
            }
            s->sec = v;
            cap = c;
        }
        s->sec[s->n_sec++] = x;
    }
}

fw_snap *fw_snap_open(const char *path)
{
    fw_snap *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->loading = 1;
    s->rfd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (s->rfd < 0 || fstat(s->rfd, &st) != 0) {
        fw_snap_fail(s, "cannot read %s: %s", path, strerror(errno));
        return s;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
        fw_snap_fail(s, "%s is %s", path, S_ISREG(st.st_mode) ? "empty" : "not a regular file");
        return s;
    }
    s->file_len = (uint64_t)st.st_size;
    /* Every read through the buffer is of one section's bytes, so never more than the file. */
    if (!(s->buf = malloc(s->file_len < READ_BUF ? (size_t)s->file_len : READ_BUF))) {
        fw_snap_fail(s, "out of memory");
        return s;
    }
    posix_fadvise(s->rfd, 0, 0, POSIX_FADV_SEQUENTIAL);
    index_sections(s);
    return s;
}

fw_err fw_snap_close(fw_snap *s, char *why, size_t why_len)
{
    if (!s->failed && s->in_section && s->pos != s->end)
        fw_snap_fail(s, "%llu bytes left unread (a snapshot of another build of flywheel?)",
                     (unsigned long long)(s->end - s->pos));
    if (!s->failed && s->next_sec != s->n_sec) {
        s->tag[0] = '\0';
        fw_snap_fail(s, "%zu sections left unread, the next \"%s\" (a snapshot of another scenario or build?)",
                     s->n_sec - s->next_sec, s->sec[s->next_sec].tag);
    }
    fw_err rc = s->failed ? FW_ERR_PARSE : FW_OK;
    if (why && why_len)
        snprintf(why, why_len, "%s", s->failed ? s->why : "");
    if (s->loading && s->rfd >= 0)
        close(s->rfd);
    free(s->buf);
    free(s->sec);
    free(s);
    return rc;
}

static void next_section(fw_snap *s, const char *tag)
{
    if (s->failed)
        return;
    if (s->in_section && s->pos != s->end) {
        fw_snap_fail(s, "%llu bytes left unread (a snapshot of another build of flywheel?)",
                     (unsigned long long)(s->end - s->pos));
        return;
    }
    if (s->next_sec == s->n_sec) {
        s->tag[0] = '\0';
        fw_snap_fail(s, "section \"%s\" expected, the snapshot has no more (another scenario or build?)", tag);
        return;
    }
    const section *x = &s->sec[s->next_sec++];
    if (strncmp(x->tag, tag, FW_SNAP_TAG) != 0) {
        s->tag[0] = '\0';
        fw_snap_fail(s, "section \"%s\" expected, found \"%s\" (a snapshot of another scenario or build?)", tag,
                     x->tag);
        return;
    }
    memcpy(s->tag, x->tag, FW_SNAP_TAG);
    s->pos = x->at;
    s->end = x->at + x->len;
    s->in_section = 1;
}

void fw_snap_section(fw_snap *s, const char *tag)
{
    if (s->loading)
        next_section(s, tag);
    else
        begin_section(s, tag);
}

/* Reads n bytes into p (zeroes p when failed, so a failed load leaves defined values). */
static void get_payload(fw_snap *s, void *p, size_t n)
{
    if (!s->failed && !s->in_section)
        fw_snap_fail(s, "a value read outside any section (a bug in flywheel)");
    if (!s->failed && n > s->end - s->pos)
        fw_snap_fail(s, "%zu bytes wanted, %llu left in the section (truncated, or another build of flywheel)", n,
                     (unsigned long long)(s->end - s->pos));
    if (s->failed) {
        if (n)
            memset(p, 0, n);
        return;
    }
    unsigned char *d = p;
    uint64_t at = s->pos;
    size_t left = n;
    while (left > 0) {
        if (at >= s->buf_at && at < s->buf_at + s->buf_n) {   /* from the window */
            size_t off = (size_t)(at - s->buf_at), k = s->buf_n - off < left ? s->buf_n - off : left;
            memcpy(d, s->buf + off, k);
            d += k;
            at += k;
            left -= k;
        } else if (left >= READ_BUF) {   /* a large array: straight into place */
            if (read_at(s->rfd, d, left, at) != 0)
                break;
            at += left;
            left = 0;
        } else {   /* refill the window at at, up to the section's end */
            uint64_t k = s->end - at < READ_BUF ? s->end - at : READ_BUF;
            s->buf_n = 0;
            if (read_at(s->rfd, s->buf, (size_t)k, at) != 0)
                break;
            s->buf_at = at;
            s->buf_n = (size_t)k;
        }
    }
    if (left > 0) {
        fw_snap_fail(s, "cannot read: %s", strerror(errno));
        memset(p, 0, n);
        return;
    }
    s->pos += n;
}

static void xfer(fw_snap *s, void *p, size_t n)
{
    if (s->loading)
        get_payload(s, p, n);
    else
        put_payload(s, p, n);
}

void fw_snap_u8(fw_snap *s, uint8_t *v) { xfer(s, v, sizeof *v); }
void fw_snap_u32(fw_snap *s, uint32_t *v) { xfer(s, v, sizeof *v); }
void fw_snap_i32(fw_snap *s, int32_t *v) { xfer(s, v, sizeof *v); }
void fw_snap_u64(fw_snap *s, uint64_t *v) { xfer(s, v, sizeof *v); }
void fw_snap_i64(fw_snap *s, int64_t *v) { xfer(s, v, sizeof *v); }
void fw_snap_f32(fw_snap *s, float *v) { xfer(s, v, sizeof *v); }
void fw_snap_f64(fw_snap *s, double *v) { xfer(s, v, sizeof *v); }

void fw_snap_size(fw_snap *s, size_t *v)
{
    uint64_t x = *v;
    xfer(s, &x, sizeof x);
    if (s->loading && !s->failed) {
        if (x > SIZE_MAX)
            fw_snap_fail(s, "a size of %llu does not fit this machine", (unsigned long long)x);
        else
            *v = (size_t)x;
    }
}

void fw_snap_same_u64(fw_snap *s, uint64_t v, const char *what)
{
    uint64_t x = v;
    xfer(s, &x, sizeof x);
    if (s->loading && !s->failed && x != v)
        fw_snap_fail(s, "%s is %llu, this run has %llu (a snapshot of another scenario?)", what,
                     (unsigned long long)x, (unsigned long long)v);
}

void fw_snap_same_u32(fw_snap *s, uint32_t v, const char *what) { fw_snap_same_u64(s, v, what); }

/* Whether a tick read is outside what fw_snap_tick admits. */
static int tick_out(int32_t v, int never)
{
    return (v < -FW_SNAP_TICK_BOUND || v > FW_SNAP_TICK_BOUND) && !(never && v == INT32_MIN);
}

void fw_snap_tick(fw_snap *s, int32_t *v, int never, const char *what)
{
    xfer(s, v, sizeof *v);
    if (s->loading && !s->failed && tick_out(*v, never))
        fw_snap_fail(s, "%s is tick %d, outside what a run reaches (|tick| <= %d)", what, (int)*v,
                     (int)FW_SNAP_TICK_BOUND);
}

void fw_snap_ticks(fw_snap *s, int32_t *v, size_t n, int never, const char *what)
{
    fw_snap_array(s, v, n, sizeof *v);
    for (size_t i = 0; s->loading && !s->failed && i < n; i++)
        if (tick_out(v[i], never))
            fw_snap_fail(s, "%s %zu is tick %d, outside what a run reaches (|tick| <= %d)", what, i, (int)v[i],
                         (int)FW_SNAP_TICK_BOUND);
}

void fw_snap_index(fw_snap *s, uint32_t *v, uint32_t bound, uint32_t none)
{
    xfer(s, v, sizeof *v);
    if (s->loading && !s->failed && *v >= bound && (*v != none || none == bound)) {
        fw_snap_fail(s, "an index %u out of range (below %u expected)", *v, bound);
        *v = none;
    }
}

void fw_snap_array(fw_snap *s, void *p, size_t n, size_t size)
{
    fw_snap_same_u64(s, n, "an array's length");
    if (!s->failed && n && size > SIZE_MAX / n)
        fw_snap_fail(s, "an array of %zu x %zu bytes (a bug in flywheel)", n, size);
    xfer(s, p, s->failed ? 0 : n * size);
}

void fw_snap_indexes(fw_snap *s, uint32_t *v, size_t n, uint32_t bound, uint32_t none)
{
    fw_snap_array(s, v, n, sizeof *v);
    if (!s->loading || s->failed)
        return;
    for (size_t i = 0; i < n; i++)
        if (v[i] >= bound && (v[i] != none || none == bound)) {
            fw_snap_fail(s, "index %zu of an array is %u, out of range (below %u expected)", i, v[i], bound);
            return;
        }
}

void fw_snap_vec(fw_snap *s, void **p, size_t *n, size_t *cap, size_t size, size_t max)
{
    uint64_t k = *n;
    xfer(s, &k, sizeof k);
    if (s->failed)
        return;
    if (s->loading) {
        if (k > max) {
            fw_snap_fail(s, "an array of %llu elements, at most %zu expected", (unsigned long long)k, max);
            return;
        }
        if (size && k > (s->end - s->pos) / size) {   /* before any allocation: a count the file cannot hold */
            fw_snap_fail(s, "an array of %llu elements of %zu bytes, %llu bytes left in the section",
                         (unsigned long long)k, size, (unsigned long long)(s->end - s->pos));
            return;
        }
        size_t have = cap ? *cap : *n;
        if (k > have || (!*p && k > 0)) {
            if (size && k > SIZE_MAX / size) {
                fw_snap_fail(s, "an array of %llu elements does not fit this machine", (unsigned long long)k);
                return;
            }
            void *q = realloc(*p, (size_t)k * size);
            if (!q) {
                fw_snap_fail(s, "out of memory for an array of %llu elements", (unsigned long long)k);
                return;
            }
            *p = q;
            if (cap)
                *cap = (size_t)k;
        }
        *n = (size_t)k;
    }
    xfer(s, *p, (size_t)k * size);
}

void fw_snap_vec32(fw_snap *s, void **p, uint32_t *n, uint32_t *cap, size_t size, uint32_t max)
{
    size_t n64 = *n, c64 = cap ? *cap : 0;
    fw_snap_vec(s, p, &n64, cap ? &c64 : NULL, size, max);
    if (s->loading && !s->failed) {
        *n = (uint32_t)n64;
        if (cap)
            *cap = (uint32_t)c64;
    }
}

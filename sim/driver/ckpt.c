/* The resume checkpoint's encoder and fuzz-safe decoder (ckpt.h has the layout). */
#include "driver/ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char MAGIC[8] = {'F', 'W', 'C', 'K', 'P', 'T', '\r', '\n'};
enum { HEADER_BYTES = 8 + 48 + 8, SECTION_HEAD = 24 };

/* Section tags: four ASCII letters read as a little-endian u32. */
#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
enum {
    SEC_VERS = TAG('V', 'E', 'R', 'S'),   /* version \0 git revision \0 */
    SEC_SPTH = TAG('S', 'P', 'T', 'H'),   /* scenario path \0 */
    SEC_STXT = TAG('S', 'T', 'X', 'T'),   /* scenario text \0 */
    SEC_SOVR = TAG('S', 'O', 'V', 'R'),   /* overrides, each \0-terminated */
    SEC_DAYD = TAG('D', 'A', 'Y', 'D'),   /* u64 digest per finished day */
};
static const uint32_t KNOWN[] = {SEC_VERS, SEC_SPTH, SEC_STXT, SEC_SOVR, SEC_DAYD};
#define N_KNOWN (sizeof KNOWN / sizeof KNOWN[0])

static void put32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static void put64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static uint32_t get32(const unsigned char *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

/* ---- encoding ------------------------------------------------------------------------- */

typedef struct sbuf {
    unsigned char *p;
    size_t n, cap;
    int nomem;
} sbuf;

static unsigned char *grow(sbuf *b, size_t add)
{
    if (b->nomem)
        return NULL;
    if (b->n + add > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + add)
            cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) {
            b->nomem = 1;
            return NULL;
        }
        b->p = p;
        b->cap = cap;
    }
    unsigned char *at = b->p + b->n;
    b->n += add;
    return at;
}

static void put_bytes(sbuf *b, const void *p, size_t n)
{
    unsigned char *at = grow(b, n);
    if (at && n)
        memcpy(at, p, n);
}

static void put_str(sbuf *b, const char *s)
{
    s = s ? s : "";
    put_bytes(b, s, strlen(s) + 1);
}

/* Starts a section; returns where its head is (finished by end_section). */
static size_t begin_section(sbuf *b, uint32_t tag)
{
    size_t at = b->n;
    unsigned char *h = grow(b, SECTION_HEAD);
    if (h) {
        put32(h, tag);
        put32(h + 4, 0);
    }
    return at;
}

static void end_section(sbuf *b, size_t at)
{
    if (b->nomem)
        return;
    size_t len = b->n - at - SECTION_HEAD;
    put64(b->p + at + 8, len);
    put64(b->p + at + 16, fw_fnv64(FW_FNV64_INIT, b->p + at + SECTION_HEAD, len));
}

fw_err fw_ckpt_encode(const fw_ckpt *c, unsigned char **out, size_t *len)
{
    sbuf b = {0};
    unsigned char *h = grow(&b, HEADER_BYTES);
    if (h) {
        memcpy(h, MAGIC, 8);
        put32(h + 8, FW_CKPT_FORMAT);
        put32(h + 12, (uint32_t)N_KNOWN);
        put64(h + 16, c->seed);
        put64(h + 24, c->scenario_hash);
        put32(h + 32, c->days_done);
        put32(h + 36, c->days_planned);
        put32(h + 40, c->replicates);
        put32(h + 44, 0);
        put64(h + 48, fw_fnv64(FW_FNV64_INIT, h + 8, 40));
        put64(h + 56, 0);   /* reserved, zero */
    }
    size_t s = begin_section(&b, SEC_VERS);
    put_str(&b, c->version);
    put_str(&b, c->git_revision);
    end_section(&b, s);
    s = begin_section(&b, SEC_SPTH);
    put_str(&b, c->scenario_path);
    end_section(&b, s);
    s = begin_section(&b, SEC_STXT);
    put_str(&b, c->scenario_text);
    end_section(&b, s);
    s = begin_section(&b, SEC_SOVR);
    for (uint32_t k = 0; k < c->n_overrides; k++)
        put_str(&b, c->overrides[k]);
    end_section(&b, s);
    s = begin_section(&b, SEC_DAYD);
    for (uint32_t d = 0; d < c->days_done; d++) {
        unsigned char *p = grow(&b, 8);
        if (p)
            put64(p, c->day_digest[d]);
    }
    end_section(&b, s);
    if (b.nomem) {
        free(b.p);
        return FW_ERR_NOMEM;
    }
    *out = b.p;
    *len = b.n;
    return FW_OK;
}

/* ---- decoding ------------------------------------------------------------------------- */

static fw_err bad(char *why, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (why && n)
        vsnprintf(why, n, fmt, ap);
    va_end(ap);
    return FW_ERR_PARSE;
}

/* The NUL-terminated string at p[*at .. len) as a new string; *at moves past it. NULL with
 * *nomem 0: not terminated inside the section. */
static char *take_str(const unsigned char *p, size_t len, size_t *at, int *nomem)
{
    const unsigned char *end = memchr(p + *at, 0, len - *at);
    if (!end)
        return NULL;
    size_t n = (size_t)(end - (p + *at));
    char *s = malloc(n + 1);
    if (!s) {
        *nomem = 1;
        return NULL;
    }
    memcpy(s, p + *at, n + 1);
    *at += n + 1;
    return s;
}

static fw_err decode_section(fw_ckpt *c, uint32_t tag, const unsigned char *p, size_t len, char *why, size_t wn)
{
    size_t at = 0;
    int nomem = 0;
    char **one = NULL;
    switch (tag) {
    case SEC_VERS:
        if (!(c->version = take_str(p, len, &at, &nomem)) || !(c->git_revision = take_str(p, len, &at, &nomem)))
            return nomem ? FW_ERR_NOMEM : bad(why, wn, "version section: string not terminated");
        break;
    case SEC_SPTH: one = &c->scenario_path; break;
    case SEC_STXT: one = &c->scenario_text; break;
    case SEC_SOVR:
        while (at < len) {
            if (c->n_overrides >= 1u << 20)
                return bad(why, wn, "overrides section: too many overrides");
            char **v = realloc(c->overrides, (c->n_overrides + 1) * sizeof *v);
            if (!v)
                return FW_ERR_NOMEM;
            c->overrides = v;
            if (!(v[c->n_overrides] = take_str(p, len, &at, &nomem)))
                return nomem ? FW_ERR_NOMEM : bad(why, wn, "overrides section: string not terminated");
            c->n_overrides++;
        }
        return FW_OK;
    case SEC_DAYD:
        if (len != (size_t)c->days_done * 8)
            return bad(why, wn, "day digests section: %zu bytes for %u days (expected %zu)", len, c->days_done,
                       (size_t)c->days_done * 8);
        if (c->days_done && !(c->day_digest = malloc((size_t)c->days_done * sizeof *c->day_digest)))
            return FW_ERR_NOMEM;
        for (uint32_t d = 0; d < c->days_done; d++)
            c->day_digest[d] = get64(p + 8 * (size_t)d);
        return FW_OK;
    default:
        return bad(why, wn, "unknown section");
    }
    if (one && !(*one = take_str(p, len, &at, &nomem)))
        return nomem ? FW_ERR_NOMEM : bad(why, wn, "string not terminated");
    if (at != len)
        return bad(why, wn, "%zu bytes after the section's strings", len - at);
    return FW_OK;
}

fw_err fw_ckpt_decode(const void *buf, size_t len, fw_ckpt *c, char *why, size_t wn)
{
    const unsigned char *p = buf;
    memset(c, 0, sizeof *c);
    if (len < HEADER_BYTES)
        return bad(why, wn, "truncated: %zu bytes, a header takes %d", len, HEADER_BYTES);
    if (memcmp(p, MAGIC, 8) != 0)
        return bad(why, wn, "not a flywheel checkpoint (wrong magic)");
    if (get64(p + 48) != fw_fnv64(FW_FNV64_INIT, p + 8, 40) || get64(p + 56) != 0 || get32(p + 44) != 0)
        return bad(why, wn, "header checksum mismatch (corrupt)");
    uint32_t format = get32(p + 8), n_sections = get32(p + 12);
    if (format != FW_CKPT_FORMAT)
        return bad(why, wn, "checkpoint format %u, this flywheel reads format %u", format, FW_CKPT_FORMAT);
    if (n_sections != N_KNOWN)
        return bad(why, wn, "%u sections, format %u has %u", n_sections, FW_CKPT_FORMAT, (unsigned)N_KNOWN);
    c->seed = get64(p + 16);
    c->scenario_hash = get64(p + 24);
    c->days_done = get32(p + 32);
    c->days_planned = get32(p + 36);
    c->replicates = get32(p + 40);
    if (c->days_done > c->days_planned)
        return bad(why, wn, "%u days done of %u planned", c->days_done, c->days_planned);
    size_t at = HEADER_BYTES;
    for (uint32_t s = 0; s < n_sections; s++) {
        if (len - at < SECTION_HEAD)
            return bad(why, wn, "truncated in section %u's head (offset %zu)", s, at);
        uint32_t tag = get32(p + at);
        uint64_t slen = get64(p + at + 8), sum = get64(p + at + 16);
        if (get32(p + at + 4) != 0)
            return bad(why, wn, "section %u: reserved field not zero (offset %zu)", s, at);
        at += SECTION_HEAD;
        if (slen > len - at)
            return bad(why, wn, "truncated: section %u claims %llu bytes, %zu left (offset %zu)", s,
                       (unsigned long long)slen, len - at, at);
        if (fw_fnv64(FW_FNV64_INIT, p + at, (size_t)slen) != sum)
            return bad(why, wn, "section %u: checksum mismatch (corrupt, offset %zu)", s, at);
        if (tag != KNOWN[s])   /* one order, so one encoding */
            return bad(why, wn, "section %u: tag 0x%08x where format %u has 0x%08x (offset %zu)", s, tag,
                       FW_CKPT_FORMAT, KNOWN[s], at);
        char inner[160] = "";
        fw_err rc = decode_section(c, tag, p + at, (size_t)slen, inner, sizeof inner);
        if (rc != FW_OK)
            return rc == FW_ERR_PARSE ? bad(why, wn, "section %u at offset %zu: %s", s, at, inner) : rc;
        at += (size_t)slen;
    }
    if (at != len)
        return bad(why, wn, "%zu bytes after the last section", len - at);
    return FW_OK;
}

void fw_ckpt_fini(fw_ckpt *c)
{
    free(c->version);
    free(c->git_revision);
    free(c->scenario_path);
    free(c->scenario_text);
    for (uint32_t k = 0; k < c->n_overrides; k++)
        free(c->overrides[k]);
    free(c->overrides);
    free(c->day_digest);
    memset(c, 0, sizeof *c);
}

/* ---- files ------------------------------------------------------------------------------ */

fw_err fw_ckpt_write(const char *path, const fw_ckpt *c, size_t *bytes, char *err, size_t en)
{
    unsigned char *buf = NULL;
    size_t len = 0;
    if (fw_ckpt_encode(c, &buf, &len) != FW_OK) {
        snprintf(err, en, "out of memory encoding the checkpoint %s", path);
        return FW_ERR_NOMEM;
    }
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 5);
    if (!tmp) {
        free(buf);
        snprintf(err, en, "out of memory writing the checkpoint %s", path);
        return FW_ERR_NOMEM;
    }
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp", 5);
    fw_err rc = FW_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        snprintf(err, en, "cannot create %s: %s", tmp, strerror(errno));
        goto out;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            snprintf(err, en, "cannot write %s: %s", tmp, w < 0 ? strerror(errno) : "no progress");
            close(fd);
            unlink(tmp);
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        snprintf(err, en, "cannot write %s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) < 0) {
        snprintf(err, en, "cannot move %s to %s: %s", tmp, path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (bytes)
        *bytes = len;
    rc = FW_OK;
out:
    free(tmp);
    free(buf);
    return rc;
}

fw_err fw_ckpt_read(const char *path, fw_ckpt *c, char *why, size_t wn)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, wn, "%s", strerror(errno));
        return FW_ERR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(why, wn, "not a regular file");
        fclose(f);
        return FW_ERR_IO;
    }
    if ((uint64_t)st.st_size > FW_CKPT_MAX_BYTES) {
        fclose(f);
        return bad(why, wn, "%lld bytes, more than a checkpoint can be (%u)", (long long)st.st_size,
                   FW_CKPT_MAX_BYTES);
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf) {
        fclose(f);
        snprintf(why, wn, "out of memory");
        return FW_ERR_NOMEM;
    }
    size_t got = fread(buf, 1, len, f);
    fclose(f);
    if (got != len) {
        free(buf);
        snprintf(why, wn, "read %zu of %zu bytes", got, len);
        return FW_ERR_IO;
    }
    fw_err rc = fw_ckpt_decode(buf, len, c, why, wn);
    free(buf);
    if (rc == FW_ERR_NOMEM)
        snprintf(why, wn, "out of memory");
    return rc;
}

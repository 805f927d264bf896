/* Page-building helpers (rank.h): top-k, candidate scratch, served filters, ad-slot layout. */
#include <stdlib.h>
#include <string.h>

#include "rank.h"


static inline void swap_at(uint32_t *id, double *score, uint32_t i, uint32_t j)
{
    uint32_t ti = id[i];
    id[i] = id[j];
    id[j] = ti;
    double ts = score[i];
    score[i] = score[j];
    score[j] = ts;
}

static void sift_down(uint32_t *id, double *score, uint32_t n, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && fw_topk_better(score[w], id[w], score[l], id[l]))
            w = l;
        if (r < n && fw_topk_better(score[w], id[w], score[r], id[r]))
            w = r;
        if (w == i)
            return;
        swap_at(id, score, i, w);
        i = w;
    }
}

void fw_topk_offer(uint32_t *id, double *score, uint32_t *n, uint32_t k, uint32_t x, double s)
{
    if (k == 0)
        return;
    if (*n < k) {
        uint32_t i = (*n)++;
        id[i] = x;
        score[i] = s;
        while (i > 0) {   /* sift up: a parent must be worse than its child */
            uint32_t p = (i - 1) / 2;
            if (!fw_topk_better(score[p], id[p], score[i], id[i]))
                break;
            swap_at(id, score, i, p);
            i = p;
        }
        return;
    }
    if (fw_topk_better(s, x, score[0], id[0])) {
        id[0] = x;
        score[0] = s;
        sift_down(id, score, *n, 0);
    }
}

void fw_topk_sort(uint32_t *id, double *score, uint32_t n)
{
    for (uint32_t m = n; m > 1;) {
        swap_at(id, score, 0, --m);
        sift_down(id, score, m, 0);
    }
}

/* The k-th largest of v[0..n) (1 <= k <= n, no NaN), overwriting v and tmp[0..n): a
 * quickselect whose partitions have no branch on the data (a scan of compares that go either
 * way half the time mispredicted about every other element; issue 22). Each pass copies the
 * values above the pivot (the median of three) to the front of tmp and those below it to the
 * back, and goes on in the part that holds the k-th, or returns the pivot when the k-th is
 * among the values equal to it: the same value any selection returns (as a comparison sees
 * it: a signed zero may differ, which no comparison tells). A pass drops the pivot at least,
 * so it ends. Slot n - 1 - nl and slot ng are free when a value is written to both: ng + nl
 * values were kept of the i < n read so far. */
double fw_kth_largest(double *v, double *tmp, uint32_t n, uint32_t k)
{
    for (;;) {
        double a = v[0], b = v[n / 2], c = v[n - 1];
        double lo = a < b ? a : b, hi = a < b ? b : a;
        double p = c < lo ? lo : c > hi ? hi : c;
        uint32_t ng = 0, nl = 0;
        for (uint32_t i = 0; i < n; i++) {
            double x = v[i];
            tmp[ng] = x;
            tmp[n - 1 - nl] = x;
            ng += x > p;
            nl += x < p;
        }
        double *was = v;
        if (k <= ng) {
            v = tmp;
            n = ng;
        } else if (k > n - nl) {
            k -= n - nl;
            v = tmp + (n - nl);
            n = nl;
        } else
            return p;
        tmp = was;
    }
}

fw_err fw_rank_ctx_init(fw_rank_ctx *c, uint32_t cand_cap)
{
    memset(c, 0, sizeof *c);
    uint32_t need = 4 * cand_cap, size = 64;
    while (size < need)
        size *= 2;
    c->set_mask = size - 1;
    c->set_key = calloc(size, sizeof *c->set_key);
    c->set_stamp = calloc(size, sizeof *c->set_stamp);
    c->cand = calloc(cand_cap, sizeof *c->cand);
    c->cand_follow = calloc(cand_cap, sizeof *c->cand_follow);
    c->cand_score = calloc(cand_cap, sizeof *c->cand_score);
    c->order = calloc(cand_cap, sizeof *c->order);
    c->order_score = calloc(cand_cap, sizeof *c->order_score);
    if (!c->set_key || !c->set_stamp || !c->cand || !c->cand_follow || !c->cand_score || !c->order ||
        !c->order_score)
        return FW_ERR_NOMEM;
    return FW_OK;
}

void fw_rank_ctx_fini(fw_rank_ctx *c)
{
    free(c->set_key);
    free(c->set_stamp);
    free(c->cand);
    free(c->cand_follow);
    free(c->cand_score);
    free(c->order);
    free(c->order_score);
    memset(c, 0, sizeof *c);
}

fw_err fw_seen_add(fw_engine *e, uint32_t cell, uint32_t u, uint32_t id)
{
    const fw_cell *cl = &e->cell[cell];
    uint32_t words = cl->seen_words, st = e->seen_fill[u];
    uint32_t cur = st >> 31, both = st & FW_SEEN_BOTH, fill = st & FW_SEEN_FILL;
    if (!e->seen[u] && !(e->seen[u] = calloc(words, sizeof(uint64_t))))
        return FW_ERR_NOMEM;
    if (fill >= cl->seen_half) {   /* rotate: forget the older generation */
        cur ^= 1;
        if (!both) {   /* the first rotation: the second generation comes into being */
            uint64_t *g = realloc(e->seen[u], 2 * (size_t)words * sizeof(uint64_t));
            if (!g)
                return FW_ERR_NOMEM;
            e->seen[u] = g;
            both = FW_SEEN_BOTH;
        }
        memset(e->seen[u] + (size_t)cur * words, 0, words * sizeof(uint64_t));
        fill = 0;
    }
    fw_bloom_add(e->seen[u] + (size_t)cur * words, words, fw_note_hash(id));
    e->seen_fill[u] = cur << 31 | both | (fill + 1);
    return FW_OK;
}

uint32_t fw_seen_add_page(fw_engine *e, uint32_t cell, uint32_t u, const uint32_t *out, uint32_t len)
{
    for (uint32_t k = 0; k < len; k++)
        if (out[k] != FW_NONE && fw_seen_add(e, cell, u, out[k]) != FW_OK)
            return 0;
    return len;
}

static int reserved_slot(const fw_feed_cfg *f, uint32_t p1)
{
    return f->ad_first_slot && p1 >= f->ad_first_slot &&
           (p1 == f->ad_first_slot || (f->ad_every && (p1 - f->ad_first_slot) % f->ad_every == 0));
}

uint32_t fw_feed_organic_slots(const fw_feed_cfg *f, uint32_t cap)
{
    uint32_t len = cap < f->page_size ? cap : f->page_size, n = 0;
    for (uint32_t p1 = 1; p1 <= len; p1++)
        n += !reserved_slot(f, p1);
    return n;
}

uint32_t fw_feed_place_slots(const fw_feed_cfg *f, const uint32_t *org, uint32_t n, uint32_t *out,
                             uint32_t cap)
{
    uint32_t len = cap < f->page_size ? cap : f->page_size, k = 0, pos;
    for (pos = 0; pos < len; pos++) {
        if (reserved_slot(f, pos + 1))   /* 1-based position */
            out[pos] = FW_NONE;
        else if (k < n)
            out[pos] = org[k++];
        else
            break;
    }
    /* A trailing reserved slot with no organic note after it is dropped. */
    while (pos > 0 && out[pos - 1] == FW_NONE)
        pos--;
    return pos;
}

void fw_feed_count(fw_engine_ctx *c, uint64_t looked, uint64_t scored, const uint32_t *out, uint32_t len)
{
    c->work[FW_WORK_FEED_REQUESTS]++;
    c->work[FW_WORK_RECALLED] += looked;
    c->work[FW_WORK_SCORED] += scored;
    for (uint32_t k = 0; k < len; k++)
        c->work[FW_WORK_SERVED] += out[k] != FW_NONE;
}

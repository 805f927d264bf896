/* The re-rank's selection under caps (rec.c): fills a page with the best entries of a list
 * (score desc, id asc), at most max_per_creator of a creator and max_per_topic of a topic
 * unless relaxed, where the scores may be upper bounds that are made exact only for the
 * entries that can be picked (issue 22). A header of static functions, a template of sorts:
 * the includer defines CAP_SCORE(l, i), entry i's exact score, first. rec.c includes it with
 * its scorer, compiled into the request as when this code lived in rec.c; test_capsel with
 * one of its own, to drive it with random lists (bounds, ties, caps, floors) against the
 * plain scan. (Called through a function pointer instead, the exact scoring was no longer
 * inlined and the re-rank was 4.7% slower on bench_feed.)
 * Owns: nothing.  Borrows: the list and page it is handed.  Never touches: the engine. */
#ifndef FLYWHEEL_CAPSEL_H
#define FLYWHEEL_CAPSEL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "flywheel/engine_cfg.h"

#ifndef CAP_SCORE
#error "define CAP_SCORE(l, i), entry i's exact score in list l, before including capsel.h"
#endif

/* The page the selection fills: its notes with their creators and topics. */
typedef struct fw_cap_page {
    uint32_t id[128], creator[128];
    uint16_t topic[128];
    uint32_t n;
} fw_cap_page;

/* The list the re-rank picks from: ids (distinct) with their creators, topics and scores
 * (gathered once: the passes read them in order), m of them; open[m] scratch. With ctx
 * non-NULL, sc[i] is only an upper bound where exact[i] is 0, and CAP_SCORE(l, i) the exact
 * score (at most the bound; it may read ctx and item); exact[i] also carries FW_CAP_PICKED
 * once the entry is on the page. */
typedef struct fw_cap_list {
    const uint32_t *id, *creator;
    const uint16_t *topic;
    double *sc;
    uint32_t m, *open;
    const void *ctx, *item;   /* for CAP_SCORE (rec.c: the request, the first passes) */
    uint8_t *exact;
} fw_cap_list;

/* exact[i] of a fw_cap_list: bit 0 the score is exact; FW_CAP_PICKED the entry is on the page. */
#define FW_CAP_PICKED 2u

/* The best of l's entries open[0..n_open) (score desc, id asc, scanned in index order as a
 * scan of every unblocked entry would); *at: its place in open, *next: the second best
 * (UINT32_MAX when none). UINT32_MAX when none. */
static uint32_t best_open(const fw_cap_list *l, uint32_t n_open, uint32_t *at, uint32_t *next)
{
    uint32_t best = UINT32_MAX, second = UINT32_MAX;
    double bs = -INFINITY, ss = -INFINITY;
    for (uint32_t o = 0; o < n_open; o++) {
        uint32_t i = l->open[o];
        double v = l->sc[i];
        if (best == UINT32_MAX || v > bs || (v == bs && l->id[i] < l->id[best])) {
            second = best;
            ss = bs;
            best = i;
            bs = v;
            *at = o;
        } else if (second == UINT32_MAX || v > ss || (v == ss && l->id[i] < l->id[second])) {
            second = i;
            ss = v;
        }
    }
    *next = second;
    return best;
}

/* Drops from open[0..n) (keeping its order) the entries of creator cr (when full_creator)
 * or topic tp (when full_topic); returns how many are left. */
static uint32_t drop_full(const fw_cap_list *l, uint32_t n, int full_creator, uint32_t cr, int full_topic,
                          uint16_t tp)
{
    uint32_t k = 0;
    for (uint32_t o = 0; o < n; o++) {
        uint32_t i = l->open[o];
        if (!((full_creator && l->creator[i] == cr) || (full_topic && l->topic[i] == tp)))
            l->open[k++] = i;
    }
    return k;
}

/* Whether entry a of l comes before entry b: score desc, id asc (a total order: ids are
 * distinct, and no NaN is compared here). */
static inline int cap_before(const fw_cap_list *l, uint32_t a, uint32_t b)
{
    return l->sc[a] > l->sc[b] || (l->sc[a] == l->sc[b] && l->id[a] < l->id[b]);
}

/* Restores the heap h[0..n) (cap_before first) below position p. */
static void cap_sift(const fw_cap_list *l, uint32_t *h, uint32_t n, uint32_t p)
{
    uint32_t x = h[p];
    for (uint32_t k; (k = 2 * p + 1) < n; p = k) {
        if (k + 1 < n && cap_before(l, h[k + 1], h[k]))
            k++;
        if (!cap_before(l, h[k], x))
            break;
        h[p] = h[k];
    }
    h[p] = x;
}

/* Whether the page has filled the cap of entry i's creator or topic. */
static int cap_full(const fw_rec_cfg *rc, const fw_cap_list *l, const fw_cap_page *pg, uint32_t i)
{
    uint32_t same_creator = 0, same_topic = 0;
    for (uint32_t k = 0; k < pg->n; k++) {
        same_creator += pg->creator[k] == l->creator[i];
        same_topic += pg->topic[k] == l->topic[i];
    }
    return same_creator >= rc->max_per_creator || same_topic >= rc->max_per_topic;
}

/* cap_select_plain's picks on a list with bounds (l->ctx), from a heap of the eligible entries
 * (open[0..n_open)) ordered by sc, in O(m + picks * log m), not a scan of all per pick
 * (issue 22). The top is popped when its creator's or topic's cap is full (it can never
 * become eligible again: the page only grows, as drop_full would have dropped it), scored
 * exactly and sifted back when it is a bound (its exact score is at most the bound), and
 * picked when exact: then its exact score beats every other entry's exact score or bound,
 * by (score desc, id asc) -- the pick of a search over all exact scores. Only the entries
 * that reach the top are scored exactly (the scan this replaced scored every bound reaching
 * the best's score), which changes no pick and no page; a candidate left bounded gets a NaN
 * score, which nothing reads for notes not served. */
static void select_heap(const fw_rec_cfg *rc, const fw_cap_list *l, fw_cap_page *pg, uint32_t page, int relaxed,
                        uint32_t n_open)
{
    uint32_t *h = l->open, n = n_open;
    for (uint32_t p = n / 2; p-- > 0;)
        cap_sift(l, h, n, p);
    while (pg->n < page && n > 0) {
        uint32_t b = h[0];
        int full = !relaxed && cap_full(rc, l, pg, b);
        if (!full && !l->exact[b]) {   /* a bound on top: score it, and look again */
            l->sc[b] = CAP_SCORE(l, b);
            l->exact[b] = 1;
            cap_sift(l, h, n, 0);
            continue;
        }
        if (!full) {
            l->exact[b] |= FW_CAP_PICKED;
            pg->id[pg->n] = l->id[b];
            pg->creator[pg->n] = l->creator[b];
            pg->topic[pg->n++] = l->topic[b];
        }
        h[0] = h[--n];   /* picked, or its cap is full: out of the heap */
        cap_sift(l, h, n, 0);
    }
}

/* Picks into pg, until it holds page notes, the best of l's entries open[0..n_open) (all
 * eligible: not on the page, and unless relaxed not blocked by a full cap), dropping those a
 * pick's creator or topic cap blocks. With l->ctx a bound that is the best is scored exactly:
 * picked at once when it still comes before the second best (whose exact score is at most its
 * sc), else looked for again. Stops at a best whose exact score is below floor
 * (cap_select_capped's window). */
static void scan_open(const fw_rec_cfg *rc, const fw_cap_list *l, fw_cap_page *pg, uint32_t page, int relaxed,
                      uint32_t n_open, double floor)
{
    while (pg->n < page) {
        uint32_t at = 0, next, best = best_open(l, n_open, &at, &next);
        if (best == UINT32_MAX)
            break;
        if (!l->exact[best]) {
            l->sc[best] = CAP_SCORE(l, best);
            l->exact[best] = 1;
            if (next != UINT32_MAX && !cap_before(l, best, next))
                continue;
        }
        if (l->sc[best] < floor)   /* may not beat an entry outside the window */
            break;
        memmove(l->open + at, l->open + at + 1, (n_open - at - 1) * sizeof *l->open);
        n_open--;
        l->exact[best] |= FW_CAP_PICKED;
        uint32_t cr = l->creator[best];
        uint16_t tp = l->topic[best];
        pg->id[pg->n] = l->id[best];
        pg->creator[pg->n] = cr;
        pg->topic[pg->n++] = tp;
        if (relaxed)
            continue;
        uint32_t same_creator = 0, same_topic = 0;
        for (uint32_t k = 0; k < pg->n; k++) {
            same_creator += pg->creator[k] == cr;
            same_topic += pg->topic[k] == tp;
        }
        int full_creator = same_creator >= rc->max_per_creator, full_topic = same_topic >= rc->max_per_topic;
        if (full_creator || full_topic)
            n_open = drop_full(l, n_open, full_creator, cr, full_topic, tp);
    }
}

/* Appends to pg up to page (<= 128) notes from l, every score exact: each time the best
 * (score desc, id asc) candidate not on the page and, unless relaxed, not of a creator or
 * topic whose cap the page has filled. O(page * m), no sort: the plain scan (the oracle,
 * engine.rec.scoring exhaustive, and a request with a NaN score). The candidates still
 * eligible are kept in index order (open), so the scan meets them in the order a scan of all
 * would. */
static void cap_select_plain(const fw_rec_cfg *rc, const fw_cap_list *l, fw_cap_page *pg, uint32_t page, int relaxed)
{
    uint32_t n_open = 0;
    for (uint32_t i = 0; i < l->m; i++) {
        uint32_t same_creator = 0, same_topic = 0, taken = 0;
        for (uint32_t k = 0; k < pg->n; k++) {
            taken |= pg->id[k] == l->id[i];
            same_creator += pg->creator[k] == l->creator[i];
            same_topic += pg->topic[k] == l->topic[i];
        }
        if (!(taken || (!relaxed && (same_creator >= rc->max_per_creator || same_topic >= rc->max_per_topic))))
            l->open[n_open++] = i;
    }
    scan_open(rc, l, pg, page, relaxed, n_open, -INFINITY);
}

/* cap_select_plain's picks on a list with bounds (l->ctx: sc[i] is an upper bound of entry i's
 * score where exact[i] is 0; no NaN among the scores, the caller passes ctx only then, and
 * a finite bound belongs to a finite score), scoring exactly only the candidates that can be
 * picked. The entries on the page carry FW_CAP_PICKED, and the creators and topics whose cap
 * the page has filled are listed once, not counted for every entry.
 * With floor > -inf, a window: only the entries whose sc reaches floor, picked by scan_open
 * until the best left scores below floor exactly, which leaves the page short; its picks are
 * the plain scan's, for any floor: an entry outside scores at most its sc, below floor, so a
 * pick that reaches floor beats it. Without a floor, select_heap picks from every entry. The
 * caller runs the window first (few entries: a scan is cheap), then all (a heap). */
static void cap_select_capped(const fw_rec_cfg *rc, const fw_cap_list *l, fw_cap_page *pg, uint32_t page,
                              int relaxed, double floor)
{
    uint32_t full_cr[128], full_tp[128], n_cr = 0, n_tp = 0;
    for (uint32_t k = 0; k < pg->n && !relaxed; k++) {
        uint32_t same_creator = 0, same_topic = 0, first_cr = 1, first_tp = 1;
        for (uint32_t j = 0; j < pg->n; j++) {
            same_creator += pg->creator[j] == pg->creator[k];
            same_topic += pg->topic[j] == pg->topic[k];
            first_cr &= j >= k || pg->creator[j] != pg->creator[k];
            first_tp &= j >= k || pg->topic[j] != pg->topic[k];
        }
        if (first_cr && same_creator >= rc->max_per_creator)
            full_cr[n_cr++] = pg->creator[k];
        if (first_tp && same_topic >= rc->max_per_topic)
            full_tp[n_tp++] = pg->topic[k];
    }
    uint32_t n_open = 0;
    for (uint32_t i = 0; i < l->m; i++) {
        if (l->sc[i] < floor || l->exact[i] & FW_CAP_PICKED)
            continue;
        uint32_t blocked = 0;
        for (uint32_t k = 0; k < n_cr; k++)
            blocked |= full_cr[k] == l->creator[i];
        for (uint32_t k = 0; k < n_tp; k++)
            blocked |= full_tp[k] == l->topic[i];
        if (!blocked)
            l->open[n_open++] = i;
    }
    if (floor == -INFINITY)
        select_heap(rc, l, pg, page, relaxed, n_open);
    else
        scan_open(rc, l, pg, page, relaxed, n_open, floor);
}


#endif

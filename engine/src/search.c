/* Search: an inverted index over note terms scored with BM25, blended with query intents
 * learned from clicks, the note's engagement and the user's learned topic affinity.
 * Owns: struct fw_search (postings, note lengths, per-topic rings of new notes, learned
 * term -> topic click counts) and struct fw_search_ctx (per-thread request scratch).
 * Borrows: the engine's notes, engagement counts and (when present) the recommender's user
 * and topic vectors, read only. Never touches: the seen filters, feed pools, trending
 * scores, or anything a feed request reads; a request writes only its ctx.
 *
 * Layout. Postings of term t: post[t].id[0..n) (uint32 note ids, ascending because notes
 * are indexed in publication order) and post[t].tl[0..n) (uint8: the posting's tf and its
 * note's length, 4 bits each: a note has at most FW_NOTE_TERMS = 16 terms), each list
 * reserved at the start for the catalog's notes and its share of those the run expects
 * (reserve_postings), then doubling its capacity past that: 5 bytes per posting, plus a
 * bound summary (pblock, 8 bytes) per 64-posting block, per 4096-posting superblock and
 * for the whole list, for exact retrieval's pruning; a dense list (a note in 32 or more)
 * also a bitmap of its notes with a rank per 64 notes (1.5 bits per note indexed). A list of
 * PART_MIN postings or more also holds them split by the note's topic, sub[t] a list of the
 * same kind for topic t holding local ids (see part_build), for exact retrieval's walk topic
 * by topic. len[note] (uint8) is the number of indexed terms of the note, topic[note] its
 * topic and local[note] its local id, its rank among its topic's notes: tn[t].id[l] is the
 * note of topic t with local id l.
 * Learned intents, one model per learner (every cell's own under per-arm isolation, trained
 * on its users' clicks; else one): irow[t] is FW_NONE until term t is first clicked, then the
 * row of icount[row * n_topics + topic] and itotal[row] holding its clicks: memory grows with
 * the terms that were ever clicked, not with vocabulary x topics.
 *
 * Invariants:
 *  - n_docs == e->n_notes whenever the vocabulary is not empty (every published note is
 *    indexed, with length 0 when it has no text); total_len == sum of len[0..n_docs).
 *  - Within a posting list ids strictly increase; a note appears at most once per list,
 *    with tf >= 1 its number of occurrences and its length len[note].
 *  - sub is not NULL exactly for lists of PART_MIN postings or more when n_topics >= 2 (but
 *    for one that ran out of memory splitting), and then sub[t] (or nothing, when NULL or
 *    empty) holds exactly the list's postings of notes of topic t, in the list's order, each
 *    as the note's local id (and no bitmap).
 *  - For every note d < n_docs of topic t < n_topics, tn[t].id[local[d]] == d, and tn[t].id
 *    ascends; tn[t].n is the number of topic t's notes.
 *  - When bits is not NULL, bit d of bits is set exactly for the notes d of the list, and
 *    rank[w] (w < rank_to, rank_to past the last posting's word) counts its postings with
 *    note < 64 * w.
 *  - blk[b] (sup[j], all) summarises exactly postings [b * 64, min(n, (b + 1) * 64)) (of
 *    superblock j, of the list): last is the last posting's id, max_tf the largest tf, and
 *    min_len[c] the shortest length among its postings of tf class c (1, 2, >= 3), 0xff
 *    when there is none.
 *  - fw_search_index either indexes the whole note or changes nothing (capacity is
 *    reserved before anything is appended).
 *  - sum over topics of icount[row][.] == itotal[row] (saturating: a term stops learning
 *    at UINT32_MAX clicks).
 *  - Requests read only state frozen since the last barrier and write only their ctx; the
 *    accumulator acc[n] is valid only when acc_stamp[n] == stamp. Every score is a
 *    function of the engine state and the query alone (accumulation in query-term order,
 *    postings in id order), and ties break on (score desc, id asc). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "aigc_int.h"
#include "engine_int.h"
#include "safety_int.h"
#include "rank.h"
#include "rec_int.h"
#include "search_int.h"

/* A learner's query intents (see the layout note above). */
typedef struct intents {
    uint32_t *irow;         /* [n_terms] */
    uint32_t *icount;       /* [cap_rows * n_topics] */
    uint32_t *itotal;       /* [cap_rows] */
    uint32_t n_rows, cap_rows;
} intents;

/* Postings in blocks of BLK: block b holds postings [b * BLK, (b + 1) * BLK) of its list;
 * superblock j the SUP postings [j * SUP, (j + 1) * SUP) (64 blocks), for long skips. */
#define BLK_SHIFT 6
#define BLK (1u << BLK_SHIFT)
#define SUP_SHIFT 12
#define SUP (1u << SUP_SHIFT)
#define BLK_PER_SUP (1u << (SUP_SHIFT - BLK_SHIFT))
/* Lists of this many postings or more are split by topic too (see part_build). */
#define PART_MIN 1024u
_Static_assert(PART_MIN % BLK == 0 && PART_MIN <= SUP, "a short list's topic view has one superblock");
/* A topic's parts are walked whole, term at a time, when their postings are at least
 * 1 / DENSE_SPAN of the local ids they span (dense_topic); else by prune_run. */
#define DENSE_SPAN 4u
/* Local ids dense_topic adds up at a time: 32 KiB of sums, which stay in the first-level
 * cache while the lists' postings among them are added. */
#define DENSE_CHUNK 4096u

/* What a block's postings may score at most, whatever idf, avgdl, k1 and b are when asked:
 * BM25's term weight rises with tf and falls with the note's length, so the shortest note
 * among the block's postings with tf 1, with tf 2 and with tf >= 3 (BLK_NONE: no such
 * posting), with the block's largest tf, bound it -- exactly for tf 1 and 2, which are
 * most postings. last is the block's last note id (the skip pointer). */
#define BLK_NONE 0xffu
typedef struct pblock {
    uint32_t last;
    uint8_t min_len[3];     /* by tf class: 1, 2, >= 3 */
    uint8_t max_tf;
} pblock;

/* A posting's term frequency and its note's length, both in [1, FW_NOTE_TERMS], packed in
 * one byte so that scoring reads no per-note array: (tf - 1) | (len - 1) << 4. */
_Static_assert(FW_NOTE_TERMS <= 16, "a posting packs tf and the note length in 4 bits each");
static inline uint32_t tl_tf(uint8_t tl) { return (tl & 15u) + 1u; }
static inline uint32_t tl_len(uint8_t tl) { return (tl >> 4) + 1u; }

typedef struct plist {
    uint32_t *id;
    uint8_t *tl;            /* tf and note length (tl_tf, tl_len) */
    pblock *blk;            /* [ceil(cap / BLK)] */
    pblock *sup;            /* [ceil(cap / SUP)] */
    uint32_t n, cap;
    pblock all;             /* the bounds of the whole list (when n > 0) */
    /* A dense list's notes as a bitmap too (NULL for the others; see bits_add). */
    uint64_t *bits;         /* [bit_words] bit d % 64 of word d / 64: note d is in the list */
    uint32_t *rank;         /* [bit_words] postings whose note is < 64 * w, for w < rank_to */
    uint32_t bit_words, rank_to;
    /* A long list's postings again, by their note's topic (see part_build): sub[t] holds the
     * postings of notes of topic t in id order (NULL or empty when none); NULL for a short
     * list and for a topic's own list. */
    struct plist **sub;     /* [n_sub] */
    uint32_t n_sub;         /* n_topics when sub is not NULL */
    /* A dense part's postings again as one code a local id (see code_update): code[l] is
     * the tl of the posting of local id l, CODE_NONE when there is none; NULL for the
     * others. code_n: one past the last posting's local id. */
    uint8_t *code;          /* [code_cap] */
    uint32_t code_n, code_cap;
} plist;

struct fw_search {
    uint32_t n_terms, n_topics;
    plist *post;            /* [n_terms] */
    uint8_t *len;           /* [cap_docs] */
    uint16_t *topic;        /* [cap_docs] the note's topic, dense for the first ranking pass */
    uint32_t *local;        /* [cap_docs] the note's local id: its rank among its topic's notes */
    uint32_t n_docs, cap_docs;
    struct tnotes *tn;      /* [n_topics] each topic's notes by local id */
    uint64_t total_len;
    /* Per topic, a ring of its newest notes: ring[t * ring_cap + k % ring_cap]. */
    uint32_t ring_cap;
    uint32_t *ring;         /* [n_topics * ring_cap] */
    uint64_t *ring_total;   /* [n_topics] notes ever pushed */
    uint32_t n_learn;
    intents *im;            /* [n_learn] */
};

/* A topic's notes in id order: id[l] is the note of local id l (see part_build). */
struct tnotes {
    uint32_t *id;
    uint32_t n, cap;
};

/* A topic to walk and the most its notes may score (topic_run). */
struct tbound {
    double b;
    uint32_t t;
};

struct fw_search_ctx {
    double *acc;            /* [acc_cap] BM25 per note */
    uint32_t *acc_stamp;    /* [acc_cap] */
    uint32_t *cand;         /* [acc_cap] candidates of the request, each once */
    uint32_t acc_cap, stamp;
    double *dist;           /* [n_topics] P(topic | query) */
    double *aff;            /* [n_topics] the user's affinity, valid where aff_stamp == stamp */
    double *gi, *gp;        /* [n_topics] the scan's intent and affinity terms per topic */
    uint32_t *aff_stamp;    /* [n_topics] */
    /* topic_run's scratch: the query's short lists split by topic (list j's postings from
     * j * PART_MIN, topic t's from off[j * (n_topics + 1) + t]; block summaries from
     * boff[j * n_topics + t]; one superblock each, which is also its list bound), and the
     * topics to walk. */
    uint32_t *tv_id;        /* [FW_QUERY_TERMS * PART_MIN] */
    uint8_t *tv_tl;         /* [FW_QUERY_TERMS * PART_MIN] */
    uint16_t *tv_tp;        /* [PART_MIN] */
    uint32_t *tv_off;       /* [FW_QUERY_TERMS * (n_topics + 1)] */
    uint32_t *tv_boff;      /* [FW_QUERY_TERMS * n_topics] */
    pblock *tv_blk;         /* [FW_QUERY_TERMS * (PART_MIN / BLK + n_topics)] */
    pblock *tv_sup;         /* [FW_QUERY_TERMS * n_topics] */
    struct tbound *tv_ord;  /* [n_topics] */
    /* Per topic, the sum of the query's list bounds in its parts and how many parts it has:
     * the same for both passes of a request (topic_order), so summed once; tv_ub_ok says
     * they are this request's. */
    double *tv_ub;          /* [n_topics] */
    uint32_t *tv_mt;        /* [n_topics] */
    int tv_ub_ok;
    /* dense_topic's sums of a chunk of local ids, -0.0 between chunks (each leaves it so). */
    double *dacc;           /* [DENSE_CHUNK] */
    /* The first pass's sums of topic keep_t's notes (FW_NONE: none kept) that may be among
     * the window, local ids ascending, for the second pass (dense_keep, topic_run);
     * keep_s: fw_kth_largest's scratch. */
    uint32_t *keep_l;       /* [keep_cap] */
    double *keep_a, *keep_s;   /* [keep_cap] */
    uint32_t keep_cap, n_keep, keep_t;
    double keep_tau, keep_cut;   /* see dense_keep */
};

/* Search pages are at most this long (engine.search.page_size's range). */
#define SEARCH_PAGE_MAX 100
/* Pages of candidates the engagement term re-ranks (see fw_search_request). */
#define SEARCH_WINDOW 8
/* Expanded topics per intent query at most (engine.search.intent_topics' range). */
#define SEARCH_TOPICS_MAX 64

static uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

/* The index; NULL when the catalog has no vocabulary (search is switched off). */
static struct fw_search *S_of(const fw_engine *e) { return fw_mod(e, FW_MOD_SEARCH); }

static fw_err index_note(fw_engine *e, struct fw_search *s, uint32_t id, const uint32_t *terms);
static fw_err reserve_postings(const fw_catalog *cat, struct fw_search *s);

/* ---- lifetime ---------------------------------------------------------------------- */

static int search_wanted(const fw_catalog *cat, const fw_engine_cfg *cfgs, uint32_t n_cells)
{
    (void)cfgs;
    (void)n_cells;
    return cat->n_terms > 0;
}

static fw_err search_create(fw_engine *e, const fw_catalog *cat, void **state)
{
    struct fw_search *s = *state;
    s->n_terms = cat->n_terms;
    s->n_topics = e->n_topics;
    for (uint32_t a = 0; a < e->n_arms; a++)
        s->ring_cap = max_u32(s->ring_cap, fw_cfg(e, a)->search.intent_candidates);
    s->ring_cap = max_u32(s->ring_cap, 1);
    s->n_learn = e->n_learn;
    if (!fw_alloc(e, &s->post, s->n_terms, sizeof *s->post) || !fw_alloc(e, &s->im, s->n_learn, sizeof *s->im) ||
        (s->n_topics &&
         (!fw_alloc(e, &s->ring, (size_t)s->n_topics * s->ring_cap, sizeof *s->ring) ||
          !fw_alloc(e, &s->ring_total, s->n_topics, sizeof *s->ring_total) ||
          !fw_alloc(e, &s->tn, s->n_topics, sizeof *s->tn))) ||
        /* These grow; the engine frees whatever they hold. */
        !fw_alloc(e, &s->len, 0, sizeof *s->len) || !fw_alloc(e, &s->topic, 0, sizeof *s->topic) ||
        !fw_alloc(e, &s->local, 0, sizeof *s->local))
        return FW_ERR_NOMEM;
    for (uint32_t l = 0; l < s->n_learn; l++) {
        intents *im = &s->im[l];
        if (!fw_alloc(e, &im->irow, (size_t)s->n_terms, sizeof *im->irow) ||
            !fw_alloc(e, &im->icount, 0, sizeof *im->icount) || !fw_alloc(e, &im->itotal, 0, sizeof *im->itotal))
            return FW_ERR_NOMEM;
        for (uint32_t t = 0; t < s->n_terms; t++)
            im->irow[t] = FW_NONE;
    }
    fw_err rc = reserve_postings(cat, s);
    if (rc != FW_OK)
        return rc;
    for (uint32_t i = 0; i < e->n_notes && rc == FW_OK; i++) {
        const uint32_t *terms = cat->note_terms ? cat->note_terms + (size_t)i * FW_NOTE_TERMS : NULL;
        rc = index_note(e, s, i, terms);
    }
    return rc;
}

static void plist_free(plist *p);

static void search_destroy(fw_engine *e, void *state)
{
    (void)e;
    struct fw_search *s = state;
    if (s->post)
        for (uint32_t t = 0; t < s->n_terms; t++)
            plist_free(&s->post[t]);
    if (s->tn)
        for (uint32_t t = 0; t < s->n_topics; t++)
            free(s->tn[t].id);
}

static void search_ctx_destroy(void *ctx);

static fw_err search_ctx_create(const fw_engine *e, const void *state, void **ctx)
{
    (void)state;
    struct fw_search_ctx *x = calloc(1, sizeof *x);
    if (!x)
        return FW_ERR_NOMEM;
    *ctx = x;
    uint32_t T = max_u32(e->n_topics, 1);
    x->acc_cap = max_u32(e->cap_notes, 1024);   /* the notes expected (see acc_reserve) */
    x->stamp = 1;
    if (!(x->acc = malloc((size_t)x->acc_cap * sizeof *x->acc)) ||
        !(x->acc_stamp = calloc(x->acc_cap, sizeof *x->acc_stamp)) ||
        !(x->cand = malloc((size_t)x->acc_cap * sizeof *x->cand)) ||
        !(x->dist = calloc(T, sizeof *x->dist)) ||
        !(x->aff = calloc(T, sizeof *x->aff)) ||
        !(x->aff_stamp = calloc(T, sizeof *x->aff_stamp)) || !(x->gi = calloc(T, sizeof *x->gi)) ||
        !(x->gp = calloc(T, sizeof *x->gp)) ||
        !(x->tv_id = malloc((size_t)FW_QUERY_TERMS * PART_MIN * sizeof *x->tv_id)) ||
        !(x->tv_tl = malloc((size_t)FW_QUERY_TERMS * PART_MIN * sizeof *x->tv_tl)) ||
        !(x->tv_tp = malloc((size_t)PART_MIN * sizeof *x->tv_tp)) ||
        !(x->tv_off = malloc((size_t)FW_QUERY_TERMS * (T + 1) * sizeof *x->tv_off)) ||
        !(x->tv_boff = malloc((size_t)FW_QUERY_TERMS * T * sizeof *x->tv_boff)) ||
        !(x->tv_blk = malloc((size_t)FW_QUERY_TERMS * (PART_MIN / BLK + T) * sizeof *x->tv_blk)) ||
        !(x->tv_sup = malloc((size_t)FW_QUERY_TERMS * T * sizeof *x->tv_sup)) ||
        !(x->tv_ord = malloc((size_t)T * sizeof *x->tv_ord)) || !(x->tv_ub = malloc((size_t)T * sizeof *x->tv_ub)) ||
        !(x->tv_mt = malloc((size_t)T * sizeof *x->tv_mt)) ||
        !(x->dacc = malloc((size_t)DENSE_CHUNK * sizeof *x->dacc)))
        return FW_ERR_NOMEM;
    for (uint32_t i = 0; i < DENSE_CHUNK; i++)
        x->dacc[i] = -0.0;
    return FW_OK;
}

static void search_ctx_destroy(void *ctx)
{
    struct fw_search_ctx *x = ctx;
    if (!x)
        return;
    free(x->acc);
    free(x->acc_stamp);
    free(x->cand);
    free(x->dist);
    free(x->aff);
    free(x->aff_stamp);
    free(x->gi);
    free(x->gp);
    free(x->tv_id);
    free(x->tv_tl);
    free(x->tv_tp);
    free(x->tv_off);
    free(x->tv_boff);
    free(x->tv_blk);
    free(x->tv_sup);
    free(x->tv_ord);
    free(x->tv_ub);
    free(x->tv_mt);
    free(x->dacc);
    free(x->keep_l);
    free(x->keep_a);
    free(x->keep_s);
    free(x);
}

/* ---- indexing ---------------------------------------------------------------------- */

/* A posting list's first capacity; it doubles from there. */
#define PLIST_FIRST 4u

static int plist_reserve(plist *p, uint32_t need)
{
    if (need <= p->cap)
        return 0;
    uint32_t cap = max_u32(need, p->cap ? 2 * p->cap : PLIST_FIRST);
    uint32_t *id = realloc(p->id, (size_t)cap * sizeof *id);
    if (!id)
        return -1;
    p->id = id;
    uint8_t *tl = realloc(p->tl, (size_t)cap * sizeof *tl);
    if (!tl)
        return -1;   /* p->id grew, p->cap did not: harmless */
    p->tl = tl;
    pblock *blk = realloc(p->blk, (size_t)((cap + BLK - 1) >> BLK_SHIFT) * sizeof *blk);
    if (!blk)
        return -1;
    p->blk = blk;
    pblock *sup = realloc(p->sup, (size_t)((cap + SUP - 1) >> SUP_SHIFT) * sizeof *sup);
    if (!sup)
        return -1;
    p->sup = sup;
    p->cap = cap;
    return 0;
}

/* Adds a posting to summary b, which starts afresh when fresh. */
static inline void pblock_add(pblock *b, int fresh, uint32_t id, uint8_t tf, uint8_t len)
{
    if (fresh)
        *b = (pblock){.min_len = {BLK_NONE, BLK_NONE, BLK_NONE}, .max_tf = 0};
    uint32_t cls = tf >= 3 ? 2 : tf - 1u;
    b->last = id;
    b->max_tf = tf > b->max_tf ? tf : b->max_tf;
    b->min_len[cls] = len < b->min_len[cls] ? len : b->min_len[cls];
}

/* Dense lists: a list of at least DENSE_MIN postings holding at least one note in
 * DENSE_RATIO when it is checked (every DENSE_MIN-th posting) gets a bitmap of its notes,
 * kept from then on. Exact retrieval asks a list that MaxScore left non-essential whether a
 * note is in it; for a frequent word (a generic word holds 40% of the bench's notes) a bit
 * and a rank answer in one step what a skip through the blocks answers in ten (the hybrid
 * of bitvectors and posting lists of Culpepper and Moffat, "Efficient set intersection for
 * inverted indexing", ACM TOIS 29(1), 2010). 1.5 bits per note indexed: at most 48 bits a
 * posting at the density threshold, less above it (bench_search, 1M notes: 90 MiB of index
 * instead of 81 at one note in 32; at one in 16, 82 MiB, but a topic's most frequent words
 * went without; at one in 64, 107 MiB). One in 40: in a simulated day (40 topics, 1M notes)
 * each topic's most common word is in about one note in 33.5, just short of one in 32, and
 * the slowest searches spent their time asking those lists, by skips through their blocks,
 * about notes that are not in them: one in 40 gives them bitmaps, +22 bytes a note there
 * (21.5 MB at 1M notes; +2 MiB on the bench), and cut search's p99 by a seventh. */
#define DENSE_MIN 1024u
#define DENSE_RATIO 40u

static void bits_drop(plist *p)
{
    free(p->bits);
    free(p->rank);
    p->bits = NULL;
    p->rank = NULL;
    p->bit_words = p->rank_to = 0;
}

/* Records posting k (note id, the last posting) in p's bitmap, growing it; drops the bitmap
 * (search then skips through the blocks) when out of memory. rank[w] for the words from
 * the last posting's on to id's is k: every earlier posting's note is below them. */
static void bits_add(plist *p, uint32_t id, uint32_t k)
{
    uint32_t w = id >> 6;
    if (w >= p->bit_words) {
        uint32_t cap = max_u32(w + 1, 2 * p->bit_words);
        uint64_t *bits = realloc(p->bits, (size_t)cap * sizeof *bits);
        if (bits)
            p->bits = bits;
        uint32_t *rank = bits ? realloc(p->rank, (size_t)cap * sizeof *rank) : NULL;
        if (!rank) {
            bits_drop(p);
            return;
        }
        p->rank = rank;
        memset(p->bits + p->bit_words, 0, (size_t)(cap - p->bit_words) * sizeof *p->bits);
        p->bit_words = cap;
    }
    for (; p->rank_to <= w; p->rank_to++)
        p->rank[p->rank_to] = k;
    p->bits[w] |= 1ull << (id & 63);
}

/* Keeps p's bitmap, making it when p has become dense. */
static void bits_update(plist *p, uint32_t id)
{
    uint32_t k = p->n - 1;
    if (p->bits) {
        bits_add(p, id, k);
        return;
    }
    if (p->n % DENSE_MIN || (uint64_t)p->n * DENSE_RATIO < (uint64_t)id + 1)
        return;
    for (uint32_t i = 0; i < p->n && (i == 0 || p->bits); i++)
        bits_add(p, p->id[i], i);
}

/* Coded parts. A topic's part holding at least one local id in DENSE_SPAN of those up to
 * its last posting's (checked every CODE_CHECK-th posting) also keeps its postings as one
 * byte a local id, their tl codes, kept from then on: dense_topic reads a chunk's codes in
 * order and adds each one's weight from a table, with no posting's id to load and no
 * accumulator to read back where it is the query's first word (dwalk_add). A local id
 * without a posting holds CODE_NONE, the code of tf 16 in a note of length 1, which no
 * posting has (a term occurs in a note at most as often as the note has terms; a loaded
 * snapshot is checked for it, search_snap): its weight in the tables is -0.0, which added
 * to any sum leaves it as it was, so the sums are the postings' bit for bit. At a million
 * notes (32 topics, bench_large) about six parts a topic are coded: 6 MB for 2.9M postings,
 * where their postings take 14.7 MB. */
#define CODE_NONE 0x0fu
#define CODE_CHECK 256u
_Static_assert(FW_NOTE_TERMS >= 2, "CODE_NONE is the code of tf 16 in a note of length 1");

static void code_drop(plist *p)
{
    free(p->code);
    p->code = NULL;
    p->code_n = p->code_cap = 0;
}

/* Records the posting of local id l (past code_n) with code tl in p's codes, growing them
 * (doubling); drops them (dense_topic then adds the postings) when out of memory. */
static void code_add(plist *p, uint32_t l, uint8_t tl)
{
    if (l >= p->code_cap) {
        uint32_t cap = max_u32(l + 1, 2 * p->code_cap);
        uint8_t *c = realloc(p->code, cap);
        if (!c) {
            code_drop(p);
            return;
        }
        p->code = c;
        p->code_cap = cap;
    }
    memset(p->code + p->code_n, CODE_NONE, l - p->code_n);
    p->code[l] = tl;
    p->code_n = l + 1;
}

/* Keeps part p's codes, making them when p has become dense. */
static void code_update(plist *p)
{
    uint32_t k = p->n - 1;
    if (p->code) {
        code_add(p, p->id[k], p->tl[k]);
        return;
    }
    if (p->n % CODE_CHECK || (uint64_t)p->n * DENSE_SPAN < (uint64_t)p->id[k] + 1)
        return;
    for (uint32_t i = 0; i < p->n && (i == 0 || p->code); i++)
        code_add(p, p->id[i], p->tl[i]);
}

/* Accounts for posting k, the last (p->n == k + 1), in the block bounds and in the bitmap
 * (a whole list) or the codes (a topic's part, part_build; no bitmap): a new block starts
 * at every BLK-th posting, and only the last block ever changes. */
static void plist_account(plist *p, uint32_t k, int part)
{
    uint32_t id = p->id[k];
    uint8_t tf = (uint8_t)tl_tf(p->tl[k]), len = (uint8_t)tl_len(p->tl[k]);
    pblock_add(&p->blk[k >> BLK_SHIFT], (k & (BLK - 1)) == 0, id, tf, len);
    pblock_add(&p->sup[k >> SUP_SHIFT], (k & (SUP - 1)) == 0, id, tf, len);
    pblock_add(&p->all, k == 0, id, tf, len);
    if (part)
        code_update(p);
    else
        bits_update(p, id);
}

/* Appends (id, tf) of a note of length len; room was reserved. part: as plist_account. */
static void plist_append(plist *p, uint32_t id, uint8_t tf, uint8_t len, int part)
{
    uint32_t k = p->n++;
    p->id[k] = id;
    p->tl[k] = (uint8_t)((tf - 1u) | (len - 1u) << 4);
    plist_account(p, k, part);
}

/* Rebuilds p's block bounds and bitmap from its postings (a loaded snapshot's) by accounting
 * for them one by one, as plist_append did when they were appended: the same calls in the
 * same order (tf and len come back whole from tl, both in [1, 16]), hence the same bounds,
 * the same bitmap -- made at the same posting, grown through the same sizes -- and the same
 * ranks. */
static void plist_rebuild(plist *p)
{
    uint32_t n = p->n;
    bits_drop(p);
    for (uint32_t k = 0; k < n; k++) {
        p->n = k + 1;
        plist_account(p, k, 0);
    }
}

/* Topic partitions. In a simulated day a search's window score is mostly its topic terms
 * (intent and affinity: w_intent 1.5 against a text term of at most w_text = 1), which a
 * note's postings do not show: every posting of a word met in another topic's notes has to
 * be looked at to learn that it cannot enter. So a list of PART_MIN postings or more keeps
 * them twice: in id order (every retrieval mode, the probes, the pruning's first pass) and
 * split by the note's topic, each part a list of its own (its own block bounds, no bitmap)
 * which exact retrieval walks topic by topic, the topics with the best bounds first
 * (topic_run). A part holds its notes' local ids, not their ids: a note's local id is its
 * rank among its topic's notes (s->local; s->tn[t].id maps back), so a topic's parts span
 * only its own notes and dense_topic can add them up over that range. Local ids
 * ascend with ids within a topic, so a part is in id order too. (A part kept no bitmap
 * before either: the density test counted all notes; counted against the topic's notes it
 * would give many parts one, 30 MB more at a million notes for 10% of the pruned walks'
 * time, about 0.6% of a simulated day.) The split starts when the list reaches PART_MIN
 * postings (part_build, from the postings it has) and grows with each posting after;
 * a topic's part is never split again. What it costs: 5 bytes a posting of a long list
 * (about 13 of a note's 16 at a million notes) and each part's block summaries, 8 bytes a
 * note for the local ids both ways, and a
 * list with a part in every topic keeps n_topics parts; no part when n_topics < 2. When
 * out of memory the split is dropped (tried again PART_MIN postings later) and, while a long
 * list of the query has none, exact retrieval walks the lists whole (prune_run): slower, not
 * different. */

/* Drops p's split by topic (p keeps its postings). */
static void part_drop(plist *p)
{
    for (uint32_t t = 0; p->sub && t < p->n_sub; t++)
        if (p->sub[t]) {
            plist_free(p->sub[t]);
            free(p->sub[t]);
        }
    free(p->sub);
    p->sub = NULL;
    p->n_sub = 0;
}

static void plist_free(plist *p)
{
    part_drop(p);
    free(p->id);
    free(p->tl);
    free(p->blk);
    free(p->sup);
    free(p->bits);
    free(p->rank);
    free(p->code);
    *p = (plist){0};
}

/* Room for one more posting in p's part of topic t (made when p has none); -1 when out
 * of memory (an empty part may be left: readers treat it as none). */
static int part_reserve(plist *p, uint32_t t)
{
    if (!p->sub[t] && !(p->sub[t] = calloc(1, sizeof *p->sub[t])))
        return -1;
    return plist_reserve(p->sub[t], p->sub[t]->n + 1);
}

/* Splits p (PART_MIN postings or more) by topic, appending its postings to their parts in
 * id order as index_note appends the later ones; every note's topic is known. Leaves p
 * whole when out of memory. */
static void part_build(const struct fw_search *s, plist *p)
{
    if (!(p->sub = calloc(s->n_topics, sizeof *p->sub)))
        return;
    p->n_sub = s->n_topics;
    for (uint32_t i = 0; i < p->n; i++) {
        uint32_t t = s->topic[p->id[i]];
        if (part_reserve(p, t)) {
            part_drop(p);
            return;
        }
        plist_append(p->sub[t], s->local[p->id[i]], (uint8_t)tl_tf(p->tl[i]), (uint8_t)tl_len(p->tl[i]), 1);
    }
}

/* Whether p is long enough to be split, and is not split yet. */
static int part_due(const struct fw_search *s, const plist *p)
{
    return !p->sub && s->n_topics >= 2 && p->n >= PART_MIN;
}

/* A note's distinct indexable terms ut[0..return) with their frequencies utf, and its
 * length *len (its indexable terms, repeats counted). terms may be NULL (no text). */
static uint32_t note_terms(const struct fw_search *s, const uint32_t *terms, uint32_t *ut, uint32_t *utf,
                           uint32_t *len)
{
    uint32_t nu = 0;
    *len = 0;
    if (terms)
        for (uint32_t k = 0; k < FW_NOTE_TERMS; k++) {
            uint32_t t = terms[k];
            if (t >= s->n_terms)
                continue;   /* FW_NONE padding or outside the vocabulary */
            ++*len;
            uint32_t j = 0;
            while (j < nu && ut[j] != t)
                j++;
            if (j == nu) {
                ut[nu] = t;
                utf[nu++] = 0;
            }
            utf[j]++;
        }
    return nu;
}

/* The notes' lengths and topics: room for the first DOCS_FIRST, then doubling. */
#define DOCS_FIRST 1024u

/* Makes room for cap notes' lengths and topics; -1 when out of memory (cap_docs unchanged). */
static int docs_reserve(struct fw_search *s, uint32_t cap)
{
    if (cap <= s->cap_docs)
        return 0;
    uint8_t *l = realloc(s->len, cap);
    if (!l)
        return -1;
    s->len = l;
    uint16_t *tp = realloc(s->topic, (size_t)cap * sizeof *tp);
    if (!tp)
        return -1;
    s->topic = tp;
    uint32_t *lc = realloc(s->local, (size_t)cap * sizeof *lc);
    if (!lc)
        return -1;
    s->local = lc;
    s->cap_docs = cap;
    return 0;
}

/* A topic's notes by local id: room for the first TNOTES_FIRST, then doubling. */
#define TNOTES_FIRST 64u

/* Room for one more note of topic t (t < n_topics) in its local ids; -1 when out of memory. */
static int tnotes_reserve(struct fw_search *s, uint32_t t)
{
    struct tnotes *tn = &s->tn[t];
    if (tn->n < tn->cap)
        return 0;
    uint32_t cap = tn->cap ? 2 * tn->cap : TNOTES_FIRST;
    if (fw_resize(&tn->id, tn->cap, cap, sizeof *tn->id))
        return -1;
    tn->cap = cap;
    return 0;
}

/* Room in each posting list for the catalog's notes and its share of the notes the run
 * expects to publish (cat->reserve_notes, in the catalog's proportions), so that the lists
 * do not double their way up to the start: most would end a third empty. Capacity only:
 * the postings are those that doubling would hold. */
static fw_err reserve_postings(const fw_catalog *cat, struct fw_search *s)
{
    if (!cat->note_terms || cat->n_notes == 0)
        return FW_OK;
    uint32_t *cnt = calloc(s->n_terms, sizeof *cnt);
    if (!cnt)
        return FW_ERR_NOMEM;
    uint32_t ut[FW_NOTE_TERMS], utf[FW_NOTE_TERMS], len;
    for (uint32_t i = 0; i < cat->n_notes; i++)
        for (uint32_t j = 0, nu = note_terms(s, cat->note_terms + (size_t)i * FW_NOTE_TERMS, ut, utf, &len); j < nu; j++)
            cnt[ut[j]]++;
    /* The notes' lengths and topics likewise, for every note expected. */
    uint64_t docs = (uint64_t)cat->n_notes + cat->reserve_notes;
    fw_err rc = docs_reserve(s, docs > UINT32_MAX ? UINT32_MAX : (uint32_t)docs) ? FW_ERR_NOMEM : FW_OK;
    for (uint32_t t = 0; t < s->n_terms && rc == FW_OK; t++) {
        uint64_t want = cnt[t] + ((uint64_t)cnt[t] * cat->reserve_notes + cat->n_notes - 1) / cat->n_notes;
        if (want && plist_reserve(&s->post[t], want > UINT32_MAX ? UINT32_MAX : (uint32_t)want))
            rc = FW_ERR_NOMEM;
    }
    free(cnt);
    return rc;
}

/* Note id's topic: in the dense array, its local id (room reserved: tnotes_reserve), and
 * into its topic's ring. */
static void note_topic(const fw_engine *e, struct fw_search *s, uint32_t id)
{
    uint32_t topic = e->notes[id].topic;
    s->topic[id] = (uint16_t)topic;
    s->local[id] = FW_NONE;
    if (topic < s->n_topics) {
        s->local[id] = s->tn[topic].n;
        s->tn[topic].id[s->tn[topic].n++] = id;
        s->ring[(size_t)topic * s->ring_cap + s->ring_total[topic] % s->ring_cap] = id;
        s->ring_total[topic]++;
    }
}

static fw_err index_note(fw_engine *e, struct fw_search *s, uint32_t id, const uint32_t *terms)
{
    if (id != s->n_docs)
        return FW_ERR_INVAL;   /* notes are indexed in publication order, each once */
    uint32_t ut[FW_NOTE_TERMS], utf[FW_NOTE_TERMS], len;
    uint32_t nu = note_terms(s, terms, ut, utf, &len);
    /* Reserve everything first so that a failure leaves the index as it was. */
    if (id >= s->cap_docs && docs_reserve(s, max_u32(id + 1, s->cap_docs ? 2 * s->cap_docs : DOCS_FIRST)))
        return FW_ERR_NOMEM;
    uint32_t topic = e->notes[id].topic;   /* < n_topics where a list is split */
    if (topic < s->n_topics && tnotes_reserve(s, topic))
        return FW_ERR_NOMEM;
    for (uint32_t j = 0; j < nu; j++)
        if (plist_reserve(&s->post[ut[j]], s->post[ut[j]].n + 1) ||
            (s->post[ut[j]].sub && part_reserve(&s->post[ut[j]], topic)))
            return FW_ERR_NOMEM;
    for (uint32_t j = 0; j < nu; j++) {
        plist *p = &s->post[ut[j]];
        plist_append(p, id, (uint8_t)utf[j], (uint8_t)len, 0);
        if (p->sub)   /* the note's local id: note_topic below gives it */
            plist_append(p->sub[topic], s->tn[topic].n, (uint8_t)utf[j], (uint8_t)len, 1);
    }
    s->len[id] = (uint8_t)len;
    s->total_len += len;
    s->n_docs = id + 1;
    note_topic(e, s, id);
    /* A list that reached PART_MIN postings is split (tried again every PART_MIN postings
     * after running out of memory). */
    for (uint32_t j = 0; j < nu; j++)
        if (part_due(s, &s->post[ut[j]]) && s->post[ut[j]].n % PART_MIN == 0)
            part_build(s, &s->post[ut[j]]);
    return FW_OK;
}

/* ---- intents ----------------------------------------------------------------------- */

/* The distinct terms of a query that are in the vocabulary, in query order; returns how
 * many (0 for a malformed query). */
static uint32_t parse_terms(const struct fw_search *s, const uint32_t *terms, uint32_t n,
                            uint32_t *out)
{
    if (n > FW_QUERY_TERMS)
        return 0;
    uint32_t m = 0;
    for (uint32_t k = 0; k < n; k++) {
        uint32_t t = terms[k], j = 0;
        if (t >= s->n_terms)
            continue;
        while (j < m && out[j] != t)
            j++;
        if (j == m)
            out[m++] = t;
    }
    return m;
}

/* P(topic | terms) into dist[n_topics] and the confidence (see engine.h). Each term with
 * c clicks contributes its smoothed click distribution weighted by c / (c + prior). */
static double intent_dist(const struct fw_search *s, const intents *im, const uint32_t *terms, uint32_t n,
                          double prior, double *dist)
{
    uint32_t T = s->n_topics;
    for (uint32_t k = 0; k < T; k++)
        dist[k] = 0.0;
    if (n == 0 || T == 0)
        return 0.0;
    double wsum = 0.0;
    for (uint32_t j = 0; j < n; j++) {
        uint32_t row = im->irow[terms[j]];
        if (row == FW_NONE)
            continue;
        double c = im->itotal[row];
        if (c <= 0.0)
            continue;
        double w = c / (c + prior), scale = w / (c + prior), base = prior / T;
        const uint32_t *cnt = im->icount + (size_t)row * T;
        for (uint32_t k = 0; k < T; k++)
            dist[k] += scale * (cnt[k] + base);
        wsum += w;
    }
    if (wsum <= 0.0)
        return 0.0;
    for (uint32_t k = 0; k < T; k++)
        dist[k] /= wsum;
    return wsum / n;
}

double fw_search_intent(const fw_engine *e, const fw_search_req *q, double *dist)
{
    const struct fw_search *s = S_of(e);
    if (!s) {
        for (uint32_t k = 0; k < e->n_topics; k++)
            dist[k] = 0.0;
        return 0.0;
    }
    uint32_t arm = q->arm < e->n_arms ? q->arm : 0, u = q->user < e->n_users ? q->user : 0;
    uint32_t terms[FW_QUERY_TERMS];
    uint32_t n = parse_terms(s, q->terms, q->n_terms, terms);
    return intent_dist(s, &s->im[fw_learner(e, arm, u)], terms, n, fw_cfg(e, arm)->search.intent_prior, dist);
}

/* A learner's first rows of intents; they double from there. */
#define INTENT_FIRST 64u

/* Makes room for cap rows in a learner's intents; -1 when out of memory. */
static int intent_reserve(const struct fw_search *s, intents *im, uint32_t cap)
{
    if (cap <= im->cap_rows)
        return 0;
    uint32_t *cnt = realloc(im->icount, (size_t)cap * s->n_topics * sizeof *cnt);
    if (!cnt)
        return -1;
    im->icount = cnt;
    uint32_t *tot = realloc(im->itotal, (size_t)cap * sizeof *tot);
    if (!tot)
        return -1;
    im->itotal = tot;
    im->cap_rows = cap;
    return 0;
}

/* Row of term t's click counts, created on its first click; FW_NONE when out of memory. */
static uint32_t intent_row(struct fw_search *s, intents *im, uint32_t t)
{
    if (im->irow[t] != FW_NONE)
        return im->irow[t];
    uint32_t T = s->n_topics;
    if (im->n_rows == im->cap_rows && intent_reserve(s, im, im->cap_rows ? 2 * im->cap_rows : INTENT_FIRST))
        return FW_NONE;
    uint32_t row = im->n_rows++;
    memset(im->icount + (size_t)row * T, 0, (size_t)T * sizeof *im->icount);
    im->itotal[row] = 0;
    im->irow[t] = row;
    return row;
}

/* The tick's clicks, in the order given: which topics each query term leads to. */
static fw_err learn(fw_engine *e, struct fw_search *s, fw_engine_ctx *ctx, const fw_log *l)
{
    size_t n_clicks = fw_log_n(l, FW_RECORD_SEARCH_CLICK);
    if (n_clicks == 0)
        return FW_OK;
    int64_t t0 = fw_now_ns();
    fw_err rc = FW_OK;
    uint64_t learned = 0;
    for (size_t i = 0; i < n_clicks; i++) {
        const fw_search_click *k = &fw_log_at(l, FW_RECORD_SEARCH_CLICK, i)->u.click;
        if (k->note >= e->n_notes || k->user >= e->n_users || k->n_terms > FW_QUERY_TERMS) {
            rc = FW_ERR_INVAL;
            continue;
        }
        uint32_t topic = e->notes[k->note].topic;
        if (!s || s->n_terms == 0 || topic >= s->n_topics)
            continue;   /* nothing to learn: no vocabulary, or the note has no known topic */
        uint32_t terms[FW_QUERY_TERMS];
        uint32_t m = parse_terms(s, k->terms, k->n_terms, terms);
        intents *im = &s->im[fw_user_learner(e, k->user)];   /* the clicker's cell learns */
        for (uint32_t j = 0; j < m; j++) {
            uint32_t row = intent_row(s, im, terms[j]);
            if (row == FW_NONE) {
                rc = FW_ERR_NOMEM;
                goto done;
            }
            if (im->itotal[row] == UINT32_MAX)
                continue;
            im->icount[(size_t)row * s->n_topics + topic]++;
            im->itotal[row]++;
        }
        learned++;
    }
done:
    ctx->work[FW_WORK_SEARCH_CLICKS] += learned;
    fw_hist_record(&ctx->lat[FW_STAGE_SEARCH_LEARN], fw_now_ns() - t0);
    return rc;
}

static fw_err search_log(fw_engine *e, void *state, fw_engine_ctx *ctx, const fw_log *l)
{
    return learn(e, state, ctx, l);
}

fw_err fw_engine_log_search(fw_engine *e, fw_engine_ctx *ctx, const fw_search_click *c, size_t n)
{
    fw_record *rec = malloc((n ? n : 1) * sizeof *rec);
    if (!rec)
        return FW_ERR_NOMEM;
    for (size_t i = 0; i < n; i++)
        rec[i] = (fw_record){.kind = FW_RECORD_SEARCH_CLICK, .u.click = c[i]};
    fw_log l = fw_log_of(rec, n, FW_RECORD_SEARCH_CLICK);
    fw_err rc = learn(e, S_of(e), ctx, &l);
    free(rec);
    return rc;
}

/* ---- requests ---------------------------------------------------------------------- */

/* Makes ctx's accumulator cover every note; 0 on success. The only allocation of a
 * request, and only after notes were published since the ctx last grew. */
/* Room in the request scratch for n_notes notes: the engine's note capacity (cap_notes, made
 * at creation for the notes the run expects), doubling only past it -- not double the
 * catalog at the first note published, 16 bytes a note per thread. */
static int acc_reserve(struct fw_search_ctx *x, uint32_t n_notes, uint32_t cap_notes)
{
    if (n_notes <= x->acc_cap)
        return 0;
    uint32_t cap = max_u32(n_notes, n_notes <= cap_notes ? cap_notes : 2 * x->acc_cap);
    double *acc = realloc(x->acc, (size_t)cap * sizeof *acc);
    if (!acc)
        return -1;
    x->acc = acc;
    uint32_t *cand = realloc(x->cand, (size_t)cap * sizeof *cand);
    if (!cand)
        return -1;
    x->cand = cand;
    uint32_t *st = realloc(x->acc_stamp, (size_t)cap * sizeof *st);
    if (!st)
        return -1;
    memset(st + x->acc_cap, 0, (size_t)(cap - x->acc_cap) * sizeof *st);
    x->acc_stamp = st;
    x->acc_cap = cap;
    return 0;
}

static void next_stamp(struct fw_search_ctx *x, uint32_t n_topics)
{
    if (++x->stamp == 0) {   /* wrapped: really clear once every 2^32 requests */
        memset(x->acc_stamp, 0, (size_t)x->acc_cap * sizeof *x->acc_stamp);
        memset(x->aff_stamp, 0, (size_t)max_u32(n_topics, 1) * sizeof *x->aff_stamp);
        x->stamp = 1;
    }
}

/* Postings the scan prefetches ahead (retrieve_bm25). */
#define SCAN_AHEAD 16

/* Adds note id to the request's candidates (BM25 0) unless it is already one. */
static inline void add_candidate(struct fw_search_ctx *x, uint32_t id, uint32_t *n_cand)
{
    if (x->acc_stamp[id] != x->stamp) {
        x->acc_stamp[id] = x->stamp;
        x->acc[id] = 0.0;
        x->cand[(*n_cand)++] = id;
    }
}

enum { L = FW_NOTE_TERMS + 1 };

/* The per-request table of BM25's saturated term weight w[dl][tf] (it depends only on the
 * note's length and the term's frequency, both at most FW_NOTE_TERMS). */
static void bm25_table(const struct fw_search *s, const fw_search_cfg *cf, double w[L][L])
{
    double avgdl = (double)s->total_len / s->n_docs;
    for (uint32_t dl = 0; dl < L; dl++) {
        double norm = cf->k1 * (1.0 - cf->b + cf->b * dl / avgdl);
        for (uint32_t tf = 0; tf < L; tf++)
            w[dl][tf] = tf * (cf->k1 + 1.0) / (tf + norm);
    }
}

/* Term t's idf with N notes indexed. */
static inline double bm25_idf(const plist *p, double N)
{
    double df = p->n;
    return log(1.0 + (N - df + 0.5) / (df + 0.5));
}

/* BM25 of the postings of the query's terms into the accumulator -- of each word only its
 * newest cap postings (UINT32_MAX: all) --; returns the postings read, and in *max_acc the
 * largest sum (0 when none). Every weight added is finite and >= 0 (idf > 0; tf and the
 * length are >= 1 in a posting), so a note's sum only grows: the largest sum seen along
 * the way is the largest final one, which spares a pass over the candidates. */
static uint64_t retrieve_bm25(const struct fw_search *s, struct fw_search_ctx *x, const fw_search_cfg *cf,
                              const uint32_t *terms, uint32_t n_q, uint32_t cap, uint32_t *n_cand,
                              double *max_acc)
{
    double mx = 0.0;
    *max_acc = 0.0;
    if (s->n_docs == 0 || s->total_len == 0)
        return 0;
    double w[L][L];
    bm25_table(s, cf, w);
    uint64_t read = 0;
    double N = s->n_docs;
    for (uint32_t j = 0; j < n_q; j++) {
        const plist *p = &s->post[terms[j]];
        if (p->n == 0)
            continue;
        double idf = bm25_idf(p, N);
        /* Postings are in publication order: the newest cap of a common word. */
        uint32_t from = p->n > cap ? p->n - cap : 0;
        for (uint32_t k = from; k < p->n; k++) {
            if (k + SCAN_AHEAD < p->n) {   /* sparse ids: each posting is a new line of both */
                __builtin_prefetch(&x->acc_stamp[p->id[k + SCAN_AHEAD]], 1);
                __builtin_prefetch(&x->acc[p->id[k + SCAN_AHEAD]], 1);
            }
            uint32_t id = p->id[k];
            add_candidate(x, id, n_cand);
            double a = x->acc[id] += idf * w[tl_len(p->tl[k])][tl_tf(p->tl[k])];
            mx = a > mx ? a : mx;
        }
        read += p->n - from;
    }
    *max_acc = mx;
    return read;
}

/* A topic's window of intent candidates: its ring's entries at..at + left - 1 (mod ring_cap),
 * oldest first. */
typedef struct iwin {
    const uint32_t *ring;
    uint64_t at;
    uint32_t left;
} iwin;

static inline uint32_t iwin_id(const struct fw_search *s, const iwin *w)
{
    return w->ring[w->at % s->ring_cap];
}

/* Restores the min-heap h[0..n) of windows (by their next id) below position p. */
static void iwin_sift(const struct fw_search *s, iwin *h, uint32_t n, uint32_t p)
{
    iwin x = h[p];
    uint32_t xid = iwin_id(s, &x);
    for (uint32_t k; (k = 2 * p + 1) < n; p = k) {
        if (k + 1 < n && iwin_id(s, &h[k + 1]) < iwin_id(s, &h[k]))
            k++;
        if (iwin_id(s, &h[k]) >= xid)
            break;
        h[p] = h[k];
    }
    h[p] = x;
}

/* The intent candidates: the newest notes of the query's most likely topics, added in
 * ascending id order, which the pruned path's lookups need (bm25_lookup and marked move
 * forward only; the scan's window does not depend on the order of its offers): a topic's
 * ring holds its notes in publication order, which is id order (note_topic, at indexing and
 * at a snapshot's load), so each topic's window read oldest first ascends, and a heap merges
 * the windows (the topics' notes are disjoint). A qsort of the candidates instead took about
 * 1% of a simulated day. */
static void retrieve_intent(const struct fw_search *s, struct fw_search_ctx *x, const fw_search_cfg *cf,
                            uint32_t *n_cand)
{
    uint32_t top[SEARCH_TOPICS_MAX], n_top = 0, k_top = min_u32(cf->intent_topics, SEARCH_TOPICS_MAX);
    for (uint32_t t = 0; t < s->n_topics; t++) {
        double p = x->dist[t];
        if (p <= 0.0 || p < cf->intent_min)
            continue;
        /* Insertion into top[0..n_top), best first by (P desc, topic asc). */
        uint32_t i = n_top < k_top ? n_top++ : k_top;
        while (i > 0 && x->dist[top[i - 1]] < p) {
            if (i < k_top)
                top[i] = top[i - 1];
            i--;
        }
        if (i < k_top)
            top[i] = t;
    }
    iwin h[SEARCH_TOPICS_MAX];
    uint32_t n = 0;
    for (uint32_t i = 0; i < n_top; i++) {
        uint32_t t = top[i];
        uint64_t total = s->ring_total[t];
        uint32_t take = (uint32_t)(total < s->ring_cap ? total : s->ring_cap);
        take = min_u32(take, cf->intent_candidates);
        if (take)
            h[n++] = (iwin){.ring = s->ring + (size_t)t * s->ring_cap, .at = total - take, .left = take};
    }
    for (uint32_t p = n / 2; p-- > 0;)
        iwin_sift(s, h, n, p);
    while (n > 0) {
        add_candidate(x, iwin_id(s, &h[0]), n_cand);
        h[0].at++;
        if (--h[0].left == 0)
            h[0] = h[--n];
        iwin_sift(s, h, n, 0);
    }
}

/* Whether v[0..n) ascends strictly. */
static int ascending(const uint32_t *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++)
        if (v[i] <= v[i - 1])
            return 0;
    return 1;
}

static inline double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* The user's learned affinity to topic t (the recommender's user . topic vectors through a
 * sigmoid), cached in ctx for the request; 0 without the recommender. */
static double affinity(const fw_engine *e, struct fw_search_ctx *x, uint32_t cell, uint32_t u, uint32_t t)
{
    if (t >= e->n_topics)
        return 0.0;
    if (x->aff_stamp[t] != x->stamp) {
        double d;
        x->aff[t] = fw_rec_user_topic(e, cell, u, t, &d) ? sigmoid(d) : 0.0;
        x->aff_stamp[t] = x->stamp;
    }
    return x->aff[t];
}

/* The note's smoothed open rate relative to the platform's, in [-1, 5]. */
static inline double quality(const fw_engine *e, uint32_t id, double p0)
{
    const uint32_t *c = e->counts + (size_t)id * FW_EV__COUNT;
    double v = (c[FW_EV_OPEN] + 20.0 * p0) / (c[FW_EV_IMPRESSION] + 20.0) / p0 - 1.0;
    return v < -1.0 ? -1.0 : (v > 5.0 ? 5.0 : v);
}

/* ---- exact retrieval: block-max MaxScore ---------------------------------------------- */

/* The exact mode finds what the exhaustive scan finds -- the best `k` notes by the window
 * score below, ties by (score desc, id asc) -- while scoring only notes that could still
 * enter: dynamic pruning over docid-ordered postings, against a threshold theta, the k-th
 * best score so far.
 *
 * Algorithm: MaxScore (Turtle and Flood, "Query evaluation: strategies and optimizations",
 * IP&M 31(6), 1995), document at a time, with block-max bounds (Ding and Suel, "Faster top-k
 * document retrieval using block-max indexes", SIGIR 2011; the block-max MaxScore variant
 * of Chakrabarti, Chaudhuri and Ganti, ICDE 2011, compared with WAND (Broder et al., CIKM
 * 2003) and block-max WAND by Mallia, Siedlaczek and Suel, ECIR 2019). The query's terms
 * are sorted by their list-wide bound; the longest prefix whose bounds sum to no more than
 * theta is non-essential: a note holding only those terms cannot enter, so only the other,
 * essential, lists are walked. theta starts from a floor (seed_floor: the best blocks of
 * the list with the largest bound, fully scored; initial thresholds as in Kane and Tompa,
 * SIGIR 2018), so a frequent word's list is non-essential from the first note instead of
 * being walked until the heap has filled with good notes. With several essential lists,
 * for each note met there: (1) every list's superblock, then block, bounds at the note --
 * when they cannot beat theta, every essential list skips past the end of the shortest of
 * those (super)blocks; notes up to that end are not checked again; (2) the smallest list
 * runs alone, in a tight loop on its weight plus the non-essential bounds, up to the next
 * list's note; (3) the note's essential weights plus, from the largest down, each
 * non-essential term's block bound, then its real weight (a cursor seek; in a dense list a
 * bit test, see bits_add), leaving as soon as what is left cannot beat theta; (4) the full
 * score. With one essential list left (the usual state once theta has risen) walk_one runs
 * through it alone: each block whose bound plus the others' block bounds over the same
 * notes cannot beat theta is skipped, then each posting whose weight plus those cannot
 * (a weight cut per block and per theta spares the float test), then (3) and (4). A
 * one-word query is the degenerate case: its superblocks and blocks are skipped or scored
 * whole. (A first version used block-max WAND's pivot; on the bench's 1-3 word queries with
 * a window of 80 it scored 2.5 times the postings MaxScore scores, at a higher cost per
 * step. Tried on top of this version and dropped, for saving nothing measurable on the
 * bench: a per-interval partition, one essential list wherever the block bounds allow; a
 * weight cut in the one-word walk.) Once a note is known -- its posting has passed the
 * bound with the largest topic terms -- its own topic terms replace them (note_bound)
 * before the other lists are probed: on the synthetic bench, whose notes' topics are
 * uniform, that saved little, but in a simulated day (intent mode with the recommender's
 * affinity, 1M notes) it cut search's p50 by a fifth, the pages unchanged.
 *
 * Bounds stay valid while the index grows and whatever the arm's k1 and b: a block stores
 * no score, only the shortest note among its postings of tf 1, of tf 2 and of tf >= 3 (with
 * its largest tf), kept up to date as postings are appended (plist_append), and the bound
 * idf * max over those of wb[len][tf] is taken with the request's idf, avgdl, k1 and b;
 * wb[dl][tf] is the largest w[dl'][tf'] over dl' >= dl, tf' <= tf, so the bound is at least
 * every posting's weight in floating point too, not only in exact arithmetic. Superblocks
 * (64 blocks) and the whole list have the same summary.
 *
 * Exactness, floating point included. A note's BM25 is summed exactly as the exhaustive scan
 * sums it (0.0, then its terms in query order), and its window score by the same operations
 * (window_score). Bounds are pushed through the same monotone operations (each IEEE
 * operation is monotone in each argument), so bound >= score holds bit for bit; a sum of
 * more than one term bound is summed in another order than the score, so it is widened by
 * a relative 1e-12 (six terms' rounding is below 1e-15). Pruning drops a note only when its
 * bound is <= the threshold: a note scoring exactly the heap's k-th score loses the tie
 * anyway, because every note in the heap was met before it, so has a smaller id; the seeds'
 * floor is the largest double below their k-th score f_k, so it drops only bounds < f_k,
 * which lose to the k seeds (all of them in the lists, so offered in turn) whatever their
 * ids. A dense list's bitmap and ranks give the very posting a seek would find. Intent
 * candidates (which enter with any id) are kept out of that heap and offered after it is
 * complete: the best k of a union is the best k of (best k of one part) and the other part
 * (the seeds' floor may come from candidates too: they are offered all the same).
 *
 * The window score blends BM25 scaled by the page's best (text_scale = w_text / max BM25)
 * with the topic terms; max BM25 comes from a first pass with k = 1 (by topic where the
 * second pass is: topic_max), so the scaling is the exhaustive scan's. With the topic terms (intent mode, or w_personal > 0) the bound adds
 * their largest value over topics: still exact, but the more those terms weigh against the
 * text, the less it prunes. */

#define END UINT32_MAX
#define BOUND_SLACK (1.0 + 1e-12)
/* Postings ahead whose note's topic a walk fetches early: at a million notes the topic array
 * (2 MB) is read at random, one miss per posting that passes the text bound. */
#define TOPIC_AHEAD 16

typedef struct cursor {
    const plist *p;
    double idf;
    double ub;              /* idf * wb over the whole list */
    uint32_t pos, doc;      /* current posting and its note (END past the end) */
} cursor;

/* The window score's topic terms and scale (see fw_search_request's ranking). */
typedef struct blend {
    double text_scale;
    int intent, personal;
    double w_intent, w_personal;
    const double *dist, *aff;   /* [n_topics] */
    uint32_t n_topics;
    double gi_max, gp_max;      /* the largest w_intent * dist[t], w_personal * aff[t] (>= 0) */
    double g_max;               /* the largest w_intent * dist[t] + w_personal * aff[t] */
    int joint;                  /* window_bound adds g_max, not gi_max + gp_max (fw_search_request) */
    /* Every note scored has topic fixed_t (topic_run's walk of one topic): the topic terms
     * are that topic's, gi_max and gp_max, and no note's topic is read. */
    int fixed;
    uint32_t fixed_t;
    /* Notes are not met in id order (topic_run): a note scoring exactly the heap's worst
     * may have the smaller id, so theta is kept just below it (heap_theta). */
    int strict;
    /* The lists hold local ids (a topic's parts, see part_build): note gid[d] is the one
     * offered to the heap and checked against the marks; NULL when they hold note ids. */
    const uint32_t *gid;
} blend;

/* The note id of d, a posting's id in lists walked under bl. */
static inline uint32_t note_id(const blend *bl, uint32_t d)
{
    return bl->gid ? bl->gid[d] : d;
}

typedef struct pquery {
    cursor c[FW_QUERY_TERMS];   /* in query order */
    uint32_t m;
    double w[L][L], wb[L][L];
} pquery;

/* The window score of note d with BM25 bm: the exhaustive scan's expression (the note's
 * topic is read only when a topic term counts). */
static inline double window_score(const blend *bl, double bm, const uint16_t *topic, uint32_t d)
{
    double sc = bl->text_scale * bm;
    if (!bl->intent && !bl->personal)
        return sc;
    uint32_t t = bl->fixed ? bl->fixed_t : topic[d];
    if (bl->intent && t < bl->n_topics)
        sc += bl->w_intent * bl->dist[t];
    if (bl->personal)
        sc += bl->w_personal * (t < bl->n_topics ? bl->aff[t] : 0.0);
    return sc;
}

/* The most any note may score whose BM25 is at most ub_sum, a sum of n_terms bounds. With
 * both topic terms it adds g_max, their largest sum over topics (tighter than gi_max + gp_max
 * when the query's likeliest topic is not the user's favourite), widened by BOUND_SLACK:
 * a score adds its two terms one at a time, g_max was summed on its own, so the roundings
 * differ; each is within a relative 2^-53 of the exact value (every operand >= 0) and five
 * of them stay far below the slack's 1e-12. */
/* The threshold a full heap whose worst score is worst sets: a note whose bound is at most
 * it cannot enter. Met in id order, a note scoring exactly worst loses the tie (every note
 * in the heap was met before it, so has a smaller id); otherwise (bl->strict) only a
 * score below worst is out. */
static inline double heap_theta(const blend *bl, double worst)
{
    return bl->strict ? nextafter(worst, -INFINITY) : worst;
}

static inline double window_bound(const blend *bl, double ub_sum, uint32_t n_terms)
{
    double sc = bl->text_scale * (n_terms > 1 ? ub_sum * BOUND_SLACK : ub_sum);
    if (bl->joint)
        return (sc + bl->g_max) * BOUND_SLACK;
    if (bl->intent)
        sc += bl->gi_max;
    if (bl->personal)
        sc += bl->gp_max;
    return sc;
}

/* The most note d may score whose BM25 is at most ub_sum, a sum of n_terms bounds, with d's
 * own topic terms: window_score's operations on the bound, so at least d's score bit for
 * bit (each operation is monotone). Tighter than window_bound, which adds the largest topic
 * terms of any note, by what the note's topic lacks: in intent mode a note off the query's
 * topics gets nothing from the intent term, and it is most of a window score (w_intent 1.5
 * against a text term scaled to at most w_text = 1). It costs a read of the note's topic,
 * so it is used once a posting has passed window_bound, before the other lists are probed. */
static inline double note_bound(const blend *bl, double ub_sum, uint32_t n_terms, const uint16_t *topic, uint32_t d)
{
    return window_score(bl, n_terms > 1 ? ub_sum * BOUND_SLACK : ub_sum, topic, d);
}

/* The first block of p at or after block b whose last note is >= d; n_blocks when none. */
static uint32_t block_at(const plist *p, uint32_t b, uint32_t d)
{
    uint32_t nb = (p->n + BLK - 1) >> BLK_SHIFT;
    if (b >= nb || p->blk[b].last >= d)
        return b;
    /* Gallop, then bisect (lo: last < d; hi: last >= d or nb). */
    uint32_t lo = b, step = 1, hi;
    for (;;) {
        hi = lo + step;
        if (hi >= nb) {
            hi = nb;
            break;
        }
        if (p->blk[hi].last >= d)
            break;
        lo = hi;
        step *= 2;
    }
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p->blk[mid].last >= d)
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* Moves c to its first posting with note >= d in block b, the first block of its list at
 * or after c's whose last note is >= d (block_at's answer; n_blocks: past the end). The
 * note sought is mostly a few postings on: gallop from c, then bisect. */
static void cursor_seek_in(cursor *c, uint32_t b, uint32_t d)
{
    const plist *p = c->p;
    if (b << BLK_SHIFT >= p->n) {
        c->pos = p->n;
        c->doc = END;
        return;
    }
    uint32_t lo = c->pos > b << BLK_SHIFT ? c->pos : b << BLK_SHIFT;
    uint32_t hi = min_u32((b + 1) << BLK_SHIFT, p->n) - 1;   /* id[hi] == blk[b].last >= d */
    if (p->id[lo] < d) {
        uint32_t step = 1;
        while (lo + step < hi && p->id[lo + step] < d) {
            lo += step;
            step *= 2;
        }
        hi = min_u32(lo + step, hi);
        lo++;   /* id[lo - 1] < d <= id[hi] */
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (p->id[mid] >= d)
                hi = mid;
            else
                lo = mid + 1;
        }
    }
    c->pos = lo;
    c->doc = p->id[lo];
}

/* Moves c to its first posting with note >= d (never back). */
static void cursor_seek(cursor *c, uint32_t d)
{
    if (c->doc < d)
        cursor_seek_in(c, block_at(c->p, c->pos >> BLK_SHIFT, d), d);
}

/* Moves c to note d's posting when d is in its list and c is before d (afterwards c->doc ==
 * d exactly when d is in the list). A dense list answers from its bitmap and, when d is not
 * in it, stays where it is, before d: callers then read c->doc == d only. */
static void cursor_probe(cursor *c, uint32_t d)
{
    const plist *p = c->p;
    if (!p->bits) {
        cursor_seek(c, d);
        return;
    }
    uint32_t w = d >> 6;
    if (c->doc >= d || w >= p->rank_to)
        return;
    uint64_t word = p->bits[w], bit = 1ull << (d & 63);
    if (word & bit) {
        c->pos = p->rank[w] + (uint32_t)__builtin_popcountll(word & (bit - 1));
        c->doc = d;
    }
}

static inline void cursor_next(cursor *c)
{
    c->doc = ++c->pos < c->p->n ? c->p->id[c->pos] : END;
}

/* The largest BM25 weight (before idf) of any posting in block b (see pblock). */
static inline double block_weight(const pquery *q, const pblock *b)
{
    double v = 0.0;
    if (b->min_len[0] != BLK_NONE)
        v = q->wb[b->min_len[0]][1];
    if (b->min_len[1] != BLK_NONE && q->wb[b->min_len[1]][2] > v)
        v = q->wb[b->min_len[1]][2];
    if (b->min_len[2] != BLK_NONE && q->wb[b->min_len[2]][b->max_tf] > v)
        v = q->wb[b->min_len[2]][b->max_tf];
    return v;
}

/* BM25's saturated weight (before idf) of posting i of p. */
static inline double posting_weight(const pquery *q, const plist *p, uint32_t i)
{
    uint8_t tl = p->tl[i];
    return q->w[tl_len(tl)][tl_tf(tl)];
}

/* The query's cursors and weight tables; 0 when no term has a posting. */
static uint32_t prune_init(const struct fw_search *s, const fw_search_cfg *cf, const uint32_t *terms, uint32_t n_q,
                         pquery *q)
{
    q->m = 0;
    if (s->n_docs == 0 || s->total_len == 0)
        return 0;
    bm25_table(s, cf, q->w);
    /* wb[dl][tf] = max of w[dl'][tf'] over dl' >= dl, tf' <= tf. */
    for (uint32_t dl = L; dl-- > 0;)
        for (uint32_t tf = 0; tf < L; tf++) {
            double v = q->w[dl][tf];
            if (dl + 1 < L && q->wb[dl + 1][tf] > v)
                v = q->wb[dl + 1][tf];
            if (tf > 0 && q->wb[dl][tf - 1] > v)
                v = q->wb[dl][tf - 1];
            q->wb[dl][tf] = v;
        }
    double N = s->n_docs;
    for (uint32_t j = 0; j < n_q; j++) {
        const plist *p = &s->post[terms[j]];
        if (p->n == 0)
            continue;
        cursor *c = &q->c[q->m++];
        c->p = p;
        c->idf = bm25_idf(p, N);
        c->ub = c->idf * block_weight(q, &p->all);
        c->pos = 0;
        c->doc = p->id[0];
    }
    return q->m;
}

static void prune_rewind(pquery *q)
{
    for (uint32_t j = 0; j < q->m; j++) {
        q->c[j].pos = 0;
        q->c[j].doc = q->c[j].p->id[0];
    }
}

/* seed_floor scores the postings of the fewest best blocks that hold at least SEED_MIN
 * postings and SEED_PER_K per result wanted, and of SEED_BLOCKS_MAX blocks at most. */
#define SEED_MIN 128u
#define SEED_PER_K 2u
#define SEED_BLOCKS_MAX 16u

/* BM25 of note d summed as the exhaustive scan sums it (query order), the lists other than
 * lead read by cursors cc that only move forward; lead's posting of d is lpos. */
static double seed_bm25(const pquery *q, cursor *cc, uint32_t lead, uint32_t lpos, uint32_t d, uint32_t *read)
{
    double bm = 0.0;
    for (uint32_t j = 0; j < q->m; j++) {
        if (j == lead) {
            bm += cc[j].idf * posting_weight(q, cc[j].p, lpos);
            (*read)++;
            continue;
        }
        cursor_probe(&cc[j], d);
        if (cc[j].doc == d) {
            bm += cc[j].idf * posting_weight(q, cc[j].p, cc[j].pos);
            (*read)++;
        }
    }
    return bm;
}

/* The blocks of p with the largest bounds, at most nbest of them (ties: the earlier), in id
 * order into best; returns how many. */
static uint32_t best_blocks(const pquery *q, const plist *p, uint32_t nbest, uint32_t *best)
{
    double bw[SEED_BLOCKS_MAX];
    uint32_t nb = (p->n + BLK - 1) >> BLK_SHIFT, n = 0;
    for (uint32_t b = 0; b < nb; b++) {
        double w = block_weight(q, &p->blk[b]);
        if (n == nbest && w <= bw[n - 1])
            continue;
        uint32_t i = n < nbest ? n++ : n - 1;
        while (i > 0 && bw[i - 1] < w) {
            bw[i] = bw[i - 1];
            best[i] = best[i - 1];
            i--;
        }
        bw[i] = w;
        best[i] = b;
    }
    for (uint32_t i = 1; i < n; i++)   /* id order: the cursors only move forward */
        for (uint32_t j = i; j > 0 && best[j - 1] > best[j]; j--) {
            uint32_t tmp = best[j];
            best[j] = best[j - 1];
            best[j - 1] = tmp;
        }
    return n;
}

/* An initial threshold (Kane and Tompa, "Split-lists and initial thresholds for WAND-based
 * search", SIGIR 2018): the notes of the blocks of the list `lead` (the query's largest
 * bound) whose bounds are the largest, fully scored; when there are at least k, their k-th
 * best window score f_k is a floor on the k-th best of the whole query (k distinct notes
 * score at least f_k). Returns the largest double below f_k, so that the loop's test,
 * bound <= theta, drops only notes whose bound is < f_k: those lose to the k seeds whatever
 * their ids; -INFINITY when there is no floor. The cursors are not moved (the seeds are
 * scored again, in order, by the loop). */
static double seed_floor(const struct fw_search *s, const pquery *q, const blend *bl, uint32_t lead, uint32_t k,
                         uint64_t *postings, uint64_t *scored)
{
    const plist *p = q->c[lead].p;
    uint32_t want = max_u32(SEED_MIN, SEED_PER_K * k);
    uint32_t best[SEED_BLOCKS_MAX], nbest = min_u32((want + BLK - 1) >> BLK_SHIFT, SEED_BLOCKS_MAX);
    if (k > SEARCH_PAGE_MAX * SEARCH_WINDOW || k > nbest * BLK)
        return -INFINITY;
    nbest = best_blocks(q, p, nbest, best);
    cursor cc[FW_QUERY_TERMS];
    memcpy(cc, q->c, (size_t)q->m * sizeof *cc);
    for (uint32_t j = 0; j < q->m; j++) {
        cc[j].pos = 0;
        cc[j].doc = cc[j].p->id[0];
    }
    uint32_t sid[SEARCH_PAGE_MAX * SEARCH_WINDOW], ns = 0, read = 0, n = 0;
    double ssc[SEARCH_PAGE_MAX * SEARCH_WINDOW];
    for (uint32_t j = 0; j < nbest; j++)
        for (uint32_t i = best[j] << BLK_SHIFT; i < min_u32((best[j] + 1) << BLK_SHIFT, p->n); i++, n++) {
            uint32_t d = p->id[i];
            fw_topk_offer(sid, ssc, &ns, k, d, window_score(bl, seed_bm25(q, cc, lead, i, d, &read), s->topic, d));
        }
    *postings += read;
    *scored += n;
    return ns < k ? -INFINITY : nextafter(ssc[0], -INFINITY);
}

/* One run of maxscore_loop: the query, the heap it fills and its threshold. */
typedef struct mrun {
    const struct fw_search *s;
    const struct fw_search_ctx *x;
    pquery *q;
    const blend *bl;
    int prune;                /* theta > -INFINITY */
    const uint32_t *mark;     /* [n_mark] notes to skip (the intent candidates), ascending */
    uint32_t n_mark, mark_at; /* mark[0..mark_at) are below every note met so far */
    uint32_t k, m;
    uint32_t *hid, *hn;
    double *hsc;
    uint64_t *postings, *scored;
    double theta;             /* a note whose bound is <= theta cannot enter */
    uint32_t t[FW_QUERY_TERMS];   /* the query's lists by bound ascending */
    double pre[FW_QUERY_TERMS];   /* pre[i]: the bounds of t[0..i] summed */
} mrun;

/* Whether note d is one of the sorted marks (the intent candidates, offered after the loop),
 * for notes met in ascending order: a merge with the marks instead of a read of the request's
 * per-note stamps, which at a million notes is a cache miss a posting. */
static inline int marked(const uint32_t *mark, uint32_t n, uint32_t *at, uint32_t d)
{
    uint32_t i = *at;
    while (i < n && mark[i] < d)
        i++;
    *at = i;
    return i < n && mark[i] == d;
}

/* Runs ce through its block, up to (not including) note d2, to the first posting whose weight
 * plus rest could beat theta; 1 when it stopped on such a posting, 0 when it reached the end
 * of the block or d2 (the loop then picks its next note afresh). */
static int run_list(const mrun *r, cursor *ce, uint32_t d2, double rest)
{
    const plist *p = ce->p;
    uint32_t i = ce->pos, end = min_u32(((i >> BLK_SHIFT) + 1) << BLK_SHIFT, p->n);
    while (i < end && p->id[i] < d2 &&
           window_bound(r->bl, ce->idf * posting_weight(r->q, p, i) + rest, r->m) <= r->theta)
        i++;
    ce->pos = i;
    ce->doc = i < p->n ? p->id[i] : END;
    return i < end && ce->doc < d2;
}

/* Adds to *part (the weights of d in the essential lists) d's weights in the non-essential
 * lists t[0..ess), from the largest bound down: a dense list's from its bitmap, another's
 * after its block's bound at d; 0 as soon as what is left cannot beat theta. */
static int probe_rest(mrun *r, uint32_t ess, uint32_t d, double *part)
{
    const pquery *q = r->q;
    for (uint32_t i = ess; i-- > 0;) {
        cursor *ci = &r->q->c[r->t[i]];
        double below = i ? r->pre[i - 1] : 0.0;
        if (ci->p->bits)
            cursor_probe(ci, d);
        else if (ci->doc < d) {
            uint32_t b = block_at(ci->p, ci->pos >> BLK_SHIFT, d);
            double bb = b << BLK_SHIFT < ci->p->n ? ci->idf * block_weight(q, &ci->p->blk[b]) : 0.0;
            if (note_bound(r->bl, *part + bb + below, r->m, r->s->topic, d) <= r->theta)
                return 0;
            cursor_seek_in(ci, b, d);
        }
        if (ci->doc == d)
            *part += ci->idf * posting_weight(q, ci->p, ci->pos);
        if (note_bound(r->bl, *part + below, r->m, r->s->topic, d) <= r->theta)
            return 0;
    }
    return 1;
}

/* Scores note d as the exhaustive scan does (a list holds d exactly when its cursor is on
 * d) and offers it to the heap, raising theta. */
static void score_offer(mrun *r, uint32_t d)
{
    const pquery *q = r->q;
    double bm = 0.0;
    uint32_t read = 0;
    for (uint32_t j = 0; j < r->m; j++)
        if (q->c[j].doc == d) {
            bm += q->c[j].idf * posting_weight(q, q->c[j].p, q->c[j].pos);
            read++;
        }
    fw_topk_offer(r->hid, r->hsc, r->hn, r->k, note_id(r->bl, d), window_score(r->bl, bm, r->s->topic, d));
    *r->postings += read;
    (*r->scored)++;
    if (*r->hn >= r->k && heap_theta(r->bl, r->hsc[0]) > r->theta) {
        r->theta = heap_theta(r->bl, r->hsc[0]);
        r->prune = 1;
    }
}

/* A weight (before idf) at or below which a posting of a list with this idf, beside other
 * lists bounded by rest, certainly cannot beat theta: window_bound is monotone in the
 * weight, so the one check here covers every smaller weight; -1 (no weight) when the check
 * fails or theta is -INFINITY. Just below the exact cut (a relative 1e-9): a posting above
 * it gets the exact test. */
static double weight_cut(const blend *bl, double idf, double rest, uint32_t m, double theta)
{
    double room = theta - (bl->intent ? bl->gi_max : 0.0) - (bl->personal ? bl->gp_max : 0.0);
    if (bl->joint)
        room = theta / BOUND_SLACK - bl->g_max;
    double w = (room / bl->text_scale / (m > 1 ? BOUND_SLACK : 1.0) - rest) / idf * (1.0 - 1e-9);
    if (!(w >= 0.0) || !(window_bound(bl, idf * w + rest, m) <= theta))
        return -1.0;   /* also NaN and infinities (text_scale 0, theta -INFINITY) */
    return w;
}

/* Blocks a range bound reads in one list at most; past them it takes the list's bound. */
#define RANGE_BLOCKS 16u

/* The most the non-essential lists t[0..ne) add to a note in [lo, hi]: per list, the largest
 * bound of its blocks that overlap [lo, hi] (rb[i]: the first block of list t[i] that may,
 * moved forward) -- a note there is in one of them or not in the list -- or, over more than
 * RANGE_BLOCKS blocks, the list's bound. */
static double range_rest(const mrun *r, uint32_t ne, uint32_t lo, uint32_t hi, uint32_t *rb)
{
    double sum = 0.0;
    for (uint32_t i = 0; i < ne; i++) {
        const cursor *ci = &r->q->c[r->t[i]];
        const plist *p = ci->p;
        uint32_t nb = (p->n + BLK - 1) >> BLK_SHIFT, b = rb[i] = block_at(p, rb[i], lo), seen = 0;
        double w = 0.0;
        for (; b < nb && seen < RANGE_BLOCKS; b++, seen++) {
            double v = block_weight(r->q, &p->blk[b]);
            w = v > w ? v : w;
            if (p->blk[b].last >= hi)
                break;
        }
        sum += b < nb && seen == RANGE_BLOCKS ? ci->ub : ci->idf * w;
    }
    return sum;
}

/* MaxScore with one essential list, t[m - 1] (the state the loop spends most of its time
 * in): walks it to its end -- or until theta leaves nothing that can enter -- skipping each
 * superblock and block whose bound plus the other lists' bounds cannot beat theta, and
 * each posting whose weight plus those bounds cannot; probes the others for the rest. */
static void walk_one(mrun *r)
{
    const pquery *q = r->q;
    const blend *bl = r->bl;
    uint32_t m = r->m;
    cursor *ce = &r->q->c[r->t[m - 1]];
    const plist *p = ce->p;
    double idf = ce->idf;
    uint32_t nb = (p->n + BLK - 1) >> BLK_SHIFT, rb[FW_QUERY_TERMS];
    int topic_pf = (bl->intent || bl->personal) && !bl->fixed;   /* note_bound reads the note's topic */
    for (uint32_t i = 0; i + 1 < m; i++)
        rb[i] = r->q->c[r->t[i]].pos >> BLK_SHIFT;
    for (uint32_t b = ce->pos >> BLK_SHIFT; b < nb; b++) {
        if ((b & (BLK_PER_SUP - 1)) == 0 &&
            window_bound(bl, idf * block_weight(q, &p->sup[b / BLK_PER_SUP]) + r->pre[m - 2], m) <= r->theta) {
            b += BLK_PER_SUP - 1;   /* the whole superblock */
            continue;
        }
        uint32_t end = min_u32((b + 1) << BLK_SHIFT, p->n);
        /* the other lists' bounds over this block's notes (block-max MaxScore) */
        double rest = range_rest(r, m - 1, p->id[max_u32(b << BLK_SHIFT, ce->pos)], p->blk[b].last, rb);
        if (window_bound(bl, idf * block_weight(q, &p->blk[b]) + rest, m) <= r->theta)
            continue;
        double cut = weight_cut(bl, idf, rest, m, r->theta);
        for (uint32_t i = max_u32(b << BLK_SHIFT, ce->pos); i < end; i++) {
            if (topic_pf && i + TOPIC_AHEAD < p->n)
                __builtin_prefetch(&r->s->topic[p->id[i + TOPIC_AHEAD]]);
            double w = posting_weight(q, p, i);
            if (w <= cut)
                continue;
            double part = idf * w;
            if (window_bound(bl, part + rest, m) <= r->theta)
                continue;
            uint32_t d = p->id[i];
            if (marked(r->mark, r->n_mark, &r->mark_at, note_id(bl, d)))
                continue;
            if (note_bound(bl, part + rest, m, r->s->topic, d) <= r->theta || !probe_rest(r, m - 1, d, &part))
                continue;
            ce->pos = i;
            ce->doc = d;
            score_offer(r, d);
            if (window_bound(bl, r->pre[m - 1], m) <= r->theta)
                goto done;   /* no note can enter any more */
            cut = weight_cut(bl, idf, rest, m, r->theta);
        }
    }
done:
    ce->pos = p->n;
    ce->doc = END;
}

/* Which lists are non-essential. MaxScore needs only that the bounds of the lists left
 * non-essential sum to no more than theta (a note in none of the others cannot enter); the
 * usual choice, the longest prefix of the lists by bound ascending, walks the lists with the
 * largest bounds, which are often the longest (in a simulated day, a topic's commonest
 * word). Once theta has risen so that no single list can make a note enter, any list can be
 * left out that the others make up for: with three words each note that can enter holds two,
 * so the two shortest lists can be walked and the longest probed. nonsel_choose keeps, among
 * the sets of lists whose bounds fit under theta, the one with the most postings, so the
 * walk reads the fewest. The sets' bounds and sizes do not change during a walk: they are
 * tabulated once (nonsel_init) in the order of their sizes, and as theta rises the first set
 * that fits is taken. */
typedef struct nonsel {
    uint32_t n_mask;                    /* sets 1 .. 2^m - 2, by postings descending */
    uint8_t mask[1u << FW_QUERY_TERMS];
    double bound[1u << FW_QUERY_TERMS]; /* window_bound of the set's list bounds, by mask */
    uint32_t best;                      /* the first set that fits (n_mask: none yet) */
    double next;                        /* the least bound of the sets before it */
    uint32_t cur;                       /* the set left non-essential by the last reorder */
} nonsel;

static void nonsel_init(const mrun *r, nonsel *sp)
{
    uint32_t m = r->m, full = (1u << m) - 1;
    const cursor *c = r->q->c;
    uint64_t len[1u << FW_QUERY_TERMS];
    sp->n_mask = 0;
    sp->cur = 0;
    sp->next = -INFINITY;
    for (uint32_t mask = 1; mask < full; mask++) {
        double sum = 0.0;
        len[mask] = 0;
        for (uint32_t j = 0; j < m; j++)
            if (mask >> j & 1) {
                sum += c[j].ub;
                len[mask] += c[j].p->n;
            }
        sp->bound[mask] = window_bound(r->bl, sum, m);
        uint32_t i = sp->n_mask++;
        for (; i > 0 && len[sp->mask[i - 1]] < len[mask]; i--)
            sp->mask[i] = sp->mask[i - 1];
        sp->mask[i] = (uint8_t)mask;
    }
    sp->best = sp->n_mask;
}

/* Leaves the lists of set `non` non-essential: r->t becomes those lists, then the others,
 * each group by bound ascending, with pre[] to match. A list that becomes essential is
 * moved to the essential lists' first note (below it every note is decided: the notes the
 * walk met, and those no essential list holds). */
static void nonsel_apply(mrun *r, uint32_t non, uint32_t ess)
{
    uint32_t m = r->m, *t = r->t, front = END, was[FW_QUERY_TERMS] = {0}, n = 0;
    cursor *c = r->q->c;
    for (uint32_t i = ess; i < m; i++) {
        was[t[i]] = 1;
        front = c[t[i]].doc < front ? c[t[i]].doc : front;
    }
    for (uint32_t g = 0; g < 2; g++)
        for (uint32_t j = 0, from = n; j < m; j++) {
            if ((non >> j & 1) != (g == 0))
                continue;
            uint32_t i = n++;
            for (; i > from && c[t[i - 1]].ub > c[j].ub; i--)
                t[i] = t[i - 1];
            t[i] = j;
            if (g == 1 && !was[j])
                cursor_seek(&c[j], front);
        }
    double sum = 0.0;
    for (uint32_t i = 0; i < m; i++)
        r->pre[i] = sum += c[t[i]].ub;
}

/* After theta rose: the set with the most postings whose bound fits (see nonsel), applied
 * when it differs from the one in force; 1 when the order changed. */
static int nonsel_choose(mrun *r, nonsel *sp, uint32_t ess)
{
    if (!(r->theta >= sp->next))
        return 0;   /* no set before the best fits yet */
    uint32_t i = 0;
    while (i < sp->best && sp->bound[sp->mask[i]] > r->theta)
        i++;
    sp->best = i;
    sp->next = INFINITY;
    for (uint32_t j = 0; j < i; j++)
        sp->next = sp->bound[sp->mask[j]] < sp->next ? sp->bound[sp->mask[j]] : sp->next;
    if (i == sp->n_mask || sp->mask[i] == sp->cur)
        return 0;
    sp->cur = sp->mask[i];
    nonsel_apply(r, sp->cur, ess);
    return 1;
}

/* Block-max MaxScore over q's cursors (two or more): see the exact retrieval's note;
 * arguments as prune_run's. */
static void maxscore_loop(const struct fw_search *s, const struct fw_search_ctx *x, pquery *q, const blend *bl,
                          const uint32_t *mark, uint32_t n_mark, uint32_t k, uint32_t *hid, double *hsc,
                          uint32_t *hn, uint64_t *postings, uint64_t *scored)
{
    mrun r = {.s = s, .x = x, .q = q, .bl = bl, .mark = mark, .n_mark = n_mark, .k = k, .m = q->m, .hid = hid,
              .hn = hn, .hsc = hsc, .postings = postings, .scored = scored};
    uint32_t m = q->m, *t = r.t;
    cursor *c = q->c;
    for (uint32_t i = 0; i < m; i++) {
        uint32_t j = i;
        while (j > 0 && c[t[j - 1]].ub > c[i].ub) {
            t[j] = t[j - 1];
            j--;
        }
        t[j] = i;
    }
    double sum = 0.0;
    for (uint32_t i = 0; i < m; i++)
        r.pre[i] = sum += c[t[i]].ub;
    /* theta: the heap's k-th score once the heap is full (ties lose, see the note), and at
     * least the seeds' floor. */
    nonsel sp;
    nonsel_init(&r, &sp);
    double floor = seed_floor(s, q, bl, t[m - 1], k, postings, scored);
    r.theta = *hn >= k && heap_theta(bl, hsc[0]) > floor ? heap_theta(bl, hsc[0]) : floor;
    r.prune = r.theta > -INFINITY;
    uint32_t ess = 0;   /* t[0..ess) are non-essential: together they cannot beat theta */
    uint32_t open_to = 0;   /* notes <= open_to lie in blocks whose bound could beat theta (when open) */
    int open = 0;
    int topic_pf = (bl->intent || bl->personal) && !bl->fixed;   /* note_bound reads the note's topic */
    for (;;) {
        while (r.prune && ess < m && window_bound(bl, r.pre[ess], m) <= r.theta)
            ess++;
        if (ess == m)
            break;
        if (r.prune && nonsel_choose(&r, &sp, ess)) {
            ess = 0;
            continue;   /* the new order's essential lists */
        }
        if (r.prune && ess + 1 == m) {
            walk_one(&r);
            break;
        }
        double rest = ess ? r.pre[ess - 1] : 0.0;
        /* d: the smallest note of the essential lists, t[lead]'s; d2: the next list's. */
        uint32_t d = END, d2 = END, lead = ess;
        for (uint32_t i = ess; i < m; i++) {
            uint32_t di = c[t[i]].doc;
            if (di < d) {
                d2 = d;
                d = di;
                lead = i;
            } else if (di < d2)
                d2 = di;
        }
        if (d == END)
            break;
        if (r.prune && !(open && d <= open_to)) {
            /* Block-max: every list's superblock, then block, at d (the first block whose
             * last note is >= d; a list that ends before d adds nothing). A note up to the
             * end of the shortest of those blocks lies in the same blocks: while theta has
             * not made them skippable they are not checked again (open_to). */
            double bsum = 0.0, ssum = 0.0;
            uint32_t next = END, snext = END;
            for (uint32_t i = 0; i < m; i++) {
                const plist *p = c[t[i]].p;
                if (i < ess && p->bits) {
                    /* probed by bitmap, its cursor may lag: its list bound */
                    ssum += c[t[i]].ub;
                    bsum += c[t[i]].ub;
                    continue;
                }
                uint32_t b = c[t[i]].doc == END ? END : block_at(p, c[t[i]].pos >> BLK_SHIFT, d);
                if (b == END || b << BLK_SHIFT >= p->n)
                    continue;
                const pblock *sb = &p->sup[b / BLK_PER_SUP];
                ssum += c[t[i]].idf * block_weight(q, sb);
                if (sb->last < snext)
                    snext = sb->last;
                bsum += c[t[i]].idf * block_weight(q, &p->blk[b]);
                if (p->blk[b].last < next)
                    next = p->blk[b].last;
            }
            int skip = window_bound(bl, ssum, m) <= r.theta;
            if (skip)
                next = snext;   /* no note in [d, snext] can enter */
            else
                skip = window_bound(bl, bsum, m) <= r.theta;
            if (skip) {
                /* No note in [d, next] can enter: skip the essential lists past it (the
                 * others are sought when needed). */
                for (uint32_t i = ess; i < m; i++)
                    if (next == END) {
                        c[t[i]].pos = c[t[i]].p->n;
                        c[t[i]].doc = END;
                    } else
                        cursor_seek(&c[t[i]], next + 1);
                continue;
            }
            open = 1;
            open_to = next;
        }
        if (r.prune && d < d2) {
            /* Notes in [d, d2) are in no essential list but t[lead]: a note there scores at
             * most its weight in that list plus the non-essential bounds. Run through them in
             * a tight loop on that test. */
            if (!run_list(&r, &c[t[lead]], d2, rest))
                continue;
            d = c[t[lead]].doc;
        }
        if (marked(mark, n_mark, &r.mark_at, note_id(bl, d)))
            goto advance;
        if (r.prune) {
            /* The essential terms' weights at d, then the others' from the largest bound
             * down, leaving as soon as what is left cannot beat theta. */
            double part = 0.0;
            for (uint32_t i = ess; i < m; i++)
                if (c[t[i]].doc == d)
                    part += c[t[i]].idf * posting_weight(q, c[t[i]].p, c[t[i]].pos);
            if (note_bound(bl, part + rest, m, s->topic, d) <= r.theta || !probe_rest(&r, ess, d, &part))
                goto advance;
        } else
            for (uint32_t i = 0; i < ess; i++)
                cursor_probe(&c[t[i]], d);
        score_offer(&r, d);
    advance:
        for (uint32_t i = ess; i < m; i++)
            if (c[t[i]].doc == d) {
                cursor_next(&c[t[i]]);
                if (topic_pf && c[t[i]].pos + TOPIC_AHEAD < c[t[i]].p->n)
                    __builtin_prefetch(&s->topic[c[t[i]].p->id[c[t[i]].pos + TOPIC_AHEAD]]);
            }
    }
}

/* The best k notes by window score into the heap (hid, hsc, *hn) (fw_topk_offer's), skipping
 * the notes mark[0..n_mark) (ascending; the intent candidates, offered after); adds the postings scored to
 * *postings and the notes scored to *scored. */
static void prune_run(const struct fw_search *s, const struct fw_search_ctx *x, pquery *q, const blend *bl,
                    const uint32_t *mark, uint32_t n_mark, uint32_t k, uint32_t *hid, double *hsc, uint32_t *hn,
                    uint64_t *postings, uint64_t *scored)
{
    uint32_t m = q->m;
    cursor *c = q->c;
    double theta = -INFINITY;
    uint32_t mark_at = 0;
    int full = *hn >= k;
    if (full)
        theta = heap_theta(bl, hsc[0]);
    if (m == 1) {
        /* One word: walk its blocks, skipping each whose bound cannot beat theta, and score
         * the other blocks' postings straight. */
        const cursor *c0 = &c[0];
        const plist *p = c0->p;
        uint32_t nb = (p->n + BLK - 1) >> BLK_SHIFT;
        int topic_pf = (bl->intent || bl->personal) && !bl->fixed;   /* window_score reads the note's topic */
        for (uint32_t b = (c0->pos >> BLK_SHIFT); b < nb; b++) {
            if (full && (b & (BLK_PER_SUP - 1)) == 0 &&
                window_bound(bl, c0->idf * block_weight(q, &p->sup[b / BLK_PER_SUP]), 1) <= theta) {
                b += BLK_PER_SUP - 1;   /* the whole superblock */
                continue;
            }
            if (full && window_bound(bl, c0->idf * block_weight(q, &p->blk[b]), 1) <= theta)
                continue;
            uint32_t end = min_u32((b + 1) << BLK_SHIFT, p->n);
            for (uint32_t i = b << BLK_SHIFT; i < end; i++) {
                if (topic_pf && i + TOPIC_AHEAD < p->n)
                    __builtin_prefetch(&s->topic[p->id[i + TOPIC_AHEAD]]);
                uint32_t d = p->id[i];
                if (marked(mark, n_mark, &mark_at, note_id(bl, d)))
                    continue;
                double bm = 0.0;
                bm += c0->idf * posting_weight(q, p, i);
                double f = window_score(bl, bm, s->topic, d);
                (*postings)++;
                (*scored)++;
                if (full && f <= theta)
                    continue;   /* ties lose: every note in the heap has a smaller id */
                fw_topk_offer(hid, hsc, hn, k, note_id(bl, d), f);
                if (*hn >= k) {
                    full = 1;
                    theta = heap_theta(bl, hsc[0]);
                }
            }
        }
        return;
    }
    maxscore_loop(s, x, q, bl, mark, n_mark, k, hid, hsc, hn, postings, scored);
}

/* ---- exact retrieval by topic -------------------------------------------------------- */

/* With topic terms in the window score (intent mode, or the user's affinity) the window is
 * walked one topic at a time over the lists split by topic (part_build; a short list is
 * split per query, view_split): topic t's notes are exactly the postings of the query's
 * lists' parts of topic t, every one of them scores t's topic terms, so (1) the most any of
 * them may score is window_bound with t's terms and the parts' list bounds, and (2) within
 * the walk no note's topic is read. The topics are walked from the best bound down, all
 * into the one heap, and the walk stops at the first topic whose bound cannot beat the
 * heap's k-th score: the later ones cannot either. In a simulated day the query's topic
 * fills the window and the other topics' bounds, a whole unit of intent below it, end the
 * search there: a generic word's list (a note in 33) is read as its part in that topic
 * (one note in a thousand). A topic's parts hold local ids (part_build), which the walks
 * map back to note ids (blend.gid) where they offer a note or test a mark; where the parts'
 * postings are dense in the topic's notes they are added up whole (dense_topic). Exactness:
 * each topic's walk is prune_run's, scan_one's or dense_topic's, exact for the notes of
 * that topic; the heap's answer does not depend on the order of offers; the notes
 * of a topic skipped score at most its bound, at most theta. What changes is that notes are
 * no longer met in id order, so a note scoring exactly the heap's worst may win on its
 * smaller id: the walks run strict (heap_theta). */

/* Splits the query's list j, p (short: not split in the index), by topic into the scratch:
 * its postings grouped by topic in id order, each group's block summaries and superblock
 * (its list bound: a group has fewer than PART_MIN <= SUP postings). */
static void view_split(const struct fw_search *s, struct fw_search_ctx *x, uint32_t j, const plist *p)
{
    uint32_t T = s->n_topics, n = p->n, nb = 0;
    uint32_t *off = x->tv_off + (size_t)j * (T + 1), *boff = x->tv_boff + (size_t)j * T;
    uint32_t *id = x->tv_id + (size_t)j * PART_MIN;
    uint8_t *tl = x->tv_tl + (size_t)j * PART_MIN;
    pblock *blk = x->tv_blk + (size_t)j * (PART_MIN / BLK + T), *sup = x->tv_sup + (size_t)j * T;
    memset(off, 0, (size_t)(T + 1) * sizeof *off);
    for (uint32_t i = 0; i < n; i++) {
        if (i + TOPIC_AHEAD < n) {
            __builtin_prefetch(&s->topic[p->id[i + TOPIC_AHEAD]]);
            __builtin_prefetch(&s->local[p->id[i + TOPIC_AHEAD]]);
        }
        x->tv_tp[i] = s->topic[p->id[i]];
        off[x->tv_tp[i] + 1]++;
    }
    for (uint32_t t = 0; t < T; t++) {
        off[t + 1] += off[t];
        boff[t] = nb;
        nb += (off[t + 1] - off[t] + BLK - 1) >> BLK_SHIFT;
    }
    /* Scatter (off[t] moves to the end of group t, which is where group t + 1 starts),
     * then shift the starts back. */
    for (uint32_t i = 0; i < n; i++) {
        uint32_t at = off[x->tv_tp[i]]++;
        id[at] = s->local[p->id[i]];
        tl[at] = p->tl[i];
    }
    for (uint32_t t = T; t > 0; t--)
        off[t] = off[t - 1];
    off[0] = 0;
    for (uint32_t t = 0; t < T; t++)
        for (uint32_t i = off[t]; i < off[t + 1]; i++) {
            uint32_t k = i - off[t];
            uint8_t tf = (uint8_t)tl_tf(tl[i]), len = (uint8_t)tl_len(tl[i]);
            pblock_add(&blk[boff[t] + (k >> BLK_SHIFT)], (k & (BLK - 1)) == 0, id[i], tf, len);
            pblock_add(&sup[t], k == 0, id[i], tf, len);
        }
}

/* The query's list j, p, in topic t: its part (a view of view_split's scratch, made in
 * *store, for a short list); NULL when no note of topic t is in it. */
static const plist *topic_view(const struct fw_search *s, const struct fw_search_ctx *x, const plist *p,
                               uint32_t j, uint32_t t, plist *store)
{
    if (p->sub)
        return p->sub[t] && p->sub[t]->n ? p->sub[t] : NULL;
    uint32_t T = s->n_topics;
    const uint32_t *off = x->tv_off + (size_t)j * (T + 1);
    uint32_t n = off[t + 1] - off[t];
    if (n == 0)
        return NULL;
    const pblock *sup = &x->tv_sup[(size_t)j * T + t];
    *store = (plist){.id = x->tv_id + (size_t)j * PART_MIN + off[t],
                     .tl = x->tv_tl + (size_t)j * PART_MIN + off[t],
                     .blk = x->tv_blk + (size_t)j * (PART_MIN / BLK + T) + x->tv_boff[(size_t)j * T + t],
                     .sup = (pblock *)sup,
                     .n = n,
                     .cap = n,
                     .all = *sup};
    return store;
}

/* bl with topic t's terms fixed (see blend). */
static blend topic_blend(const blend *bl, uint32_t t)
{
    blend bt = *bl;
    bt.fixed = 1;
    bt.fixed_t = t;
    bt.strict = 1;
    bt.gi_max = bl->intent ? bl->w_intent * bl->dist[t] : 0.0;
    bt.gp_max = bl->personal ? bl->w_personal * bl->aff[t] : 0.0;
    bt.g_max = bt.gi_max + bt.gp_max;
    bt.joint = 0;
    return bt;
}

static int cmp_tbound(const void *a, const void *b)
{
    const struct tbound *x = a, *y = b;
    if (x->b != y->b)
        return x->b > y->b ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

/* One topic's part of a one-word query (bl->fixed) into the heap, every posting: its window
 * score is a function of the posting's code (tf and length) alone -- the topic terms are the
 * topic's constants -- so it is looked up in a table of the 256 codes' scores (window_score
 * of idf x w[len][tf], the BM25 the scan sums: 0.0 + x is x), and only a posting that beats
 * theta is offered. About 2 to 9 ns a posting in a simulated day at a million notes, where
 * the pruned walk (block bounds, weight cuts) took 3 to 11: a topic's part of its own word
 * has no block without a posting of the best codes to skip. */
static void scan_one(const pquery *q, const blend *bl, const uint32_t *mark, uint32_t n_mark, uint32_t k,
                     uint32_t *hid, double *hsc, uint32_t *hn, uint64_t *postings, uint64_t *scored)
{
    const cursor *c = &q->c[0];
    const plist *p = c->p;
    uint32_t mark_at = 0;
    double worst = *hn >= k ? hsc[0] : -INFINITY, fs[256];
    for (uint32_t code = 0; code < 256; code++)
        fs[code] = window_score(bl, c->idf * q->w[tl_len((uint8_t)code)][tl_tf((uint8_t)code)], NULL, 0);
    for (uint32_t i = 0; i < p->n; i++) {
        double f = fs[p->tl[i]];
        if (f < worst)
            continue;
        uint32_t d = note_id(bl, p->id[i]);   /* a tie enters on a smaller id (dense_topic) */
        if ((*hn >= k && !fw_topk_better(f, d, hsc[0], hid[0])) || marked(mark, n_mark, &mark_at, d))
            continue;
        fw_topk_offer(hid, hsc, hn, k, d, f);
        if (*hn >= k)
            worst = hsc[0];
    }
    *postings += p->n;
    *scored += p->n;
}


/* A BM25 sum below which a note of bl's fixed topic scores below worst (window_score),
 * -INFINITY when there is none to tell (an empty heap, no text term). The score is
 * ((text_scale * a) + gi) + gp, each operation rounded; a sum a >= 0 below (worst - gi - gp
 * - slack) / text_scale, with a slack of a relative 1e-12 of the magnitudes involved (far
 * above the few roundings' 2^-53 each, the threshold's own included), scores below worst. */
static double sum_below(const blend *bl, double worst)
{
    if (!(worst > -INFINITY) || !(bl->text_scale > 0.0))
        return -INFINITY;
    double gi = bl->intent ? bl->w_intent * bl->dist[bl->fixed_t] : 0.0;
    double gp = bl->personal ? bl->w_personal * bl->aff[bl->fixed_t] : 0.0;
    double slack = 1e-12 * (fabs(worst) + fabs(gi) + fabs(gp));
    return (worst - gi - gp - slack) / bl->text_scale;
}

/* One topic's parts of a query of several words (q: local ids, in query order; bl fixed,
 * gid the topic's notes) into the heap, every posting, term at a time (the accumulators of
 * Moffat and Zobel, "Self-indexing inverted files for fast text retrieval", ACM TOIS 14(4),
 * 1996, over the topic's notes only): the local ids the parts span, lo..hi, a chunk of
 * DENSE_CHUNK at a time: acc (the chunk's sums) is -0.0, each list in query order adds its
 * postings in the chunk (their weights from a table of the 256 codes, as scan_one), then
 * one pass reads every sum, leaves -0.0 behind for the next chunk, and scores and offers in
 * local id order the notes with a posting (the sum is no longer -0.0: a weight is >= +0.0,
 * and -0.0 + w is w). Each sum is the exhaustive scan's bit for bit: its terms in query
 * order from a zero (0.0 + w and -0.0 + w are both w). Measured with temporary timers over a
 * simulated day at a million notes (bench_large, 50,000 users, one thread): the 29,826 walks
 * dense enough took 5.4-5.9 s for 1.50 billion postings and 1.88 billion local ids spanned,
 * about 1.6 ns for each of both, where the pruned walk had taken about 8.3 s, about 5.5 ns a
 * posting (their words' parts hold thousands of postings whose block bounds rarely fall
 * below the window's threshold). Only where the postings are at least a quarter of the span
 * (DENSE_SPAN; 2, 8 and 16 were slower in all); chunks of 4,096 ran as fast as one array
 * over the whole span (the work is instructions, not misses) and keep the scratch at 32 KiB
 * a thread. acc: the request's, DENSE_CHUNK long, -0.0 throughout between walks. */
/* Whether a topic's parts, n_post postings over local ids lo..hi, are summed whole
 * (dense_topic, dense_keep) rather than walked: DENSE_SPAN. */
static inline int dense_enough(uint64_t n_post, uint32_t lo, uint32_t hi)
{
    return (uint64_t)(hi - lo + 1) <= DENSE_SPAN * n_post;
}

/* The window's selection over a topic's sums (dense_topic, kept_select): the heap's worst
 * and the sum below which a note cannot reach it, and the marks' merge position. */
typedef struct dsel {
    double worst, amin;
    uint32_t mark_at;
} dsel;

static void dsel_init(dsel *z, const blend *bl, uint32_t k, const double *hsc, uint32_t hn)
{
    z->worst = hn >= k ? hsc[0] : -INFINITY;
    z->amin = sum_below(bl, z->worst);
    z->mark_at = 0;
}

/* Offers the note of local id l, whose sum is a (-0.0: it has no posting; ascending l from
 * one dsel_init on), to the heap. The first test is nearly always true once the heap is
 * full: whether a local id has a posting is as likely as not, and a branch on that alone
 * mispredicts half the time. A note tying the heap's worst enters only on a smaller id:
 * tested here, not by an offer (scores take few values). */
static inline void dsel_offer(dsel *z, const blend *bl, uint32_t l, double a, const uint32_t *mark, uint32_t n_mark,
                              uint32_t k, uint32_t *hid, double *hsc, uint32_t *hn)
{
    if (a < z->amin)
        return;
    double f = window_score(bl, a, NULL, 0);
    if (signbit(a) || f < z->worst)
        return;
    uint32_t d = note_id(bl, l);
    if ((*hn >= k && !fw_topk_better(f, d, hsc[0], hid[0])) || marked(mark, n_mark, &z->mark_at, d))
        return;
    fw_topk_offer(hid, hsc, hn, k, d, f);
    if (*hn >= k && hsc[0] > z->worst) {
        z->worst = hsc[0];
        z->amin = sum_below(bl, z->worst);
    }
}

/* dense_topic's walk: the chunks of lo..hi in turn, each summed (query order) into acc and
 * then read back and reset by the caller's loop; c[j]: word j's cursor, past the chunks
 * done. */
typedef struct dwalk {
    double wt[FW_QUERY_TERMS][256];
    cursor c[FW_QUERY_TERMS];
} dwalk;

/* q's cursors are at their lists' starts (topic_query). */
static void dwalk_init(dwalk *w, const pquery *q)
{
    for (uint32_t j = 0; j < q->m; j++) {
        const cursor *c = &q->c[j];
        for (uint32_t code = 0; code < 256; code++)
            w->wt[j][code] = c->idf * q->w[tl_len((uint8_t)code)][tl_tf((uint8_t)code)];
        w->wt[j][CODE_NONE] = -0.0;   /* a coded part's local id without a posting */
        w->c[j] = *c;
    }
}

/* Moves c to its first posting with note >= d (cursor_seek), adding the postings passed to
 * *postings when count is set. */
static void dwalk_seek(cursor *c, uint32_t d, int count, uint64_t *postings)
{
    uint32_t was = c->pos;
    cursor_seek(c, d);
    *postings += count ? c->pos - was : 0;
}

/* Adds q's postings of local ids [base, end) into acc[0 .. end - base), counting them into
 * *postings: a coded part's (code_update) by reading its codes in order, the query's first
 * word's by writing its weights over the -0.0 there (-0.0 + w is w, and CODE_NONE's -0.0
 * leaves -0.0), the others' posting by posting. Each cursor ends at its first posting past
 * end. */
static void dwalk_add(dwalk *w, const pquery *q, double *acc, uint32_t base, uint32_t end, uint64_t *postings)
{
    for (uint32_t j = 0; j < q->m; j++) {
        cursor *c = &w->c[j];
        const plist *p = c->p;
        const double *wt = w->wt[j];
        if (p->code) {
            const uint8_t *code = p->code;
            uint32_t to = min_u32(end, p->code_n);
            if (j == 0)
                for (uint32_t l = base; l < to; l++)
                    acc[l - base] = wt[code[l]];
            else
                for (uint32_t l = base; l < to; l++)
                    acc[l - base] += wt[code[l]];
            dwalk_seek(c, end, 1, postings);
            continue;
        }
        const uint32_t *id = p->id;
        const uint8_t *tl = p->tl;
        uint32_t i = c->pos;
        for (; i < p->n && id[i] < end; i++)
            acc[id[i] - base] += wt[tl[i]];
        *postings += i - c->pos;
        c->pos = i;
        c->doc = i < p->n ? id[i] : END;
    }
}

static void dense_topic(double *acc, const pquery *q, const blend *bl, uint32_t lo, uint32_t hi,
                        const uint32_t *mark, uint32_t n_mark, uint32_t k, uint32_t *hid, double *hsc, uint32_t *hn,
                        uint64_t *postings, uint64_t *scored)
{
    dwalk w;
    dsel z;
    uint32_t n = 0;
    dwalk_init(&w, q);
    dsel_init(&z, bl, k, hsc, *hn);
    for (uint32_t base = lo; base <= hi; base += DENSE_CHUNK) {
        uint32_t end = hi - base < DENSE_CHUNK ? hi + 1 : base + DENSE_CHUNK;
        dwalk_add(&w, q, acc, base, end, postings);
        for (uint32_t l = 0; l < end - base; l++) {
            double a = acc[l];
            acc[l] = -0.0;   /* for the next chunk */
            n += !signbit(a);
            dsel_offer(&z, bl, base + l, a, mark, n_mark, k, hid, hsc, hn);
        }
        if (end == hi + 1)
            break;
    }
    *scored += n;
}

/* The word a note must hold for its sum to reach cut: of the words whose absence leaves
 * too little (the others' list bounds, ub, summed and widened by BOUND_SLACK, below cut),
 * the one with the fewest postings; FW_NONE when every word could be missing. */
static uint32_t keep_driver(const pquery *q, double cut)
{
    uint32_t drv = FW_NONE;
    for (uint32_t j = 0; j < q->m; j++) {
        double rest = 0.0;
        for (uint32_t i = 0; i < q->m; i++)
            rest += i == j ? 0.0 : q->c[i].ub;
        if (rest * BOUND_SLACK < cut && (drv == FW_NONE || q->c[j].p->n < q->c[drv].p->n))
            drv = j;
    }
    return drv;
}

/* dense_keep's reading of [base, end) when every note reaching cut holds word drv
 * (keep_driver): only drv's postings there are summed, each from every word in query order
 * -- a coded word's code at the note, another's posting found by its cursor moving forward
 * -- which is the accumulator's sum; those reaching cut are kept into kl, ka after n (the
 * new count is returned), *n_sum counts the sums made and *postings the postings read.
 * Every other note of the range sums below cut: dense_keep would not have kept it. */
static uint32_t keep_driven(dwalk *w, const pquery *q, uint32_t drv, uint32_t base, uint32_t end, double cut,
                            uint32_t *kl, double *ka, uint32_t n, uint32_t *n_sum, uint64_t *postings)
{
    cursor *dc = &w->c[drv];
    const plist *dp = dc->p;
    dwalk_seek(dc, base, 0, postings);
    uint32_t i = dc->pos, i0 = i;
    for (; i < dp->n && dp->id[i] < end; i++) {
        uint32_t l = dp->id[i];
        double a = -0.0;
        for (uint32_t j = 0; j < q->m; j++) {
            cursor *c = &w->c[j];
            const plist *p = c->p;
            if (j == drv)
                a += w->wt[j][dp->tl[i]];
            else if (p->code)
                a += w->wt[j][l < p->code_n ? p->code[l] : CODE_NONE];
            else {
                dwalk_seek(c, l, 1, postings);
                if (c->doc == l)
                    a += w->wt[j][p->tl[c->pos]];
            }
        }
        if (a >= cut) {
            kl[n] = l;
            ka[n++] = a;
        }
    }
    *n_sum += i - i0;
    *postings += i - i0;
    dc->pos = i;
    dc->doc = i < dp->n ? dp->id[i] : END;
    for (uint32_t j = 0; j < q->m; j++)   /* every cursor past the range */
        if (j != drv)
            dwalk_seek(&w->c[j], end, !w->c[j].p->code, postings);
    return n;
}

/* The relative margin below the k-th largest sum down to which dense_keep keeps sums: far
 * above the few roundings' 2^-53 each that sum_below allows for, so that the second pass
 * can nearly always show that what was dropped cannot enter (kept_holds). */
#define KEEP_SLACK 1e-9

/* dense_topic's sums without the selection, for the first pass: the largest sum, its note's
 * local id in *arg (the first: smallest), -INFINITY when no note has a posting; and in x the
 * sums the second pass may need, for topic_run's kept_select: every note with a posting
 * while fewer than 2 * keep of them are known, then only those whose sum is at least
 * keep_cut, KEEP_SLACK below keep_tau, the keep-th largest sum among those kept when they
 * last reached twice as many as were left after the one before (a selection,
 * fw_kth_largest; keep_tau is -INFINITY when none was made: nothing was dropped). The
 * second pass chose its window from every sum of the topic before; keep is the window's
 * size, and at least keep notes of the topic sum to keep_tau or more, every one of them
 * offered to the window (kept_select, or with the marks after it: a marked note is
 * offered all the same), so the window's worst is at least their score: kept_holds tells
 * when every sum below keep_cut scores below that. Past the first selection a chunk is
 * summed from the postings of one word alone where every note reaching the cut holds it
 * (keep_driver, keep_driven). Selecting costs about as much as reading the sums back once;
 * offering every sum, as the second pass did, cost more than adding them up (perf: the
 * selection's loop and the largest's were a fifth of search's time on a simulated day at a
 * million notes). Counting the marks into keep, as first written, kept three times as many
 * sums and made the cut later: the retrieval 10% slower on that day. x's keep arrays hold
 * hi - lo + 1 (keep_reserve). */
static double dense_keep(struct fw_search_ctx *x, const pquery *q, uint32_t lo, uint32_t hi, uint32_t keep,
                         uint32_t *arg, uint64_t *postings, uint64_t *scored)
{
    dwalk w;
    double *acc = x->dacc, *ka = x->keep_a, cut = 0.0, tau = -INFINITY;
    uint32_t *kl = x->keep_l, n = 0, n_sum = 0, next = 2 * max_u32(keep, 1);
    dwalk_init(&w, q);
    for (uint32_t base = lo; base <= hi; base += DENSE_CHUNK) {
        uint32_t end = hi - base < DENSE_CHUNK ? hi + 1 : base + DENSE_CHUNK;
        uint32_t drv = cut > 0.0 ? keep_driver(q, cut) : FW_NONE;
        if (drv != FW_NONE)   /* a word every note reaching cut holds: its postings alone */
            n = keep_driven(&w, q, drv, base, end, cut, kl, ka, n, &n_sum, postings);
        else {
            dwalk_add(&w, q, acc, base, end, postings);
            if (cut > 0.0)   /* after a selection: few reach cut, and a branch on it predicts well */
                for (uint32_t l = 0; l < end - base; l++) {
                    double a = acc[l];
                    acc[l] = -0.0;
                    n_sum += !signbit(a);
                    if (a >= cut) {
                        kl[n] = base + l;
                        ka[n++] = a;
                    }
                }
            else   /* every other local id has a posting: no branch on it */
                for (uint32_t l = 0; l < end - base; l++) {
                    double a = acc[l];
                    acc[l] = -0.0;
                    kl[n] = base + l;   /* written always, kept when it has a posting and reaches cut */
                    ka[n] = a;
                    n_sum += !signbit(a);
                    n += !signbit(a) & (a >= cut);
                }
        }
        if (n >= next && n > keep) {
            memcpy(x->keep_s, ka, (size_t)n * sizeof *ka);
            tau = fw_kth_largest(x->keep_s, x->keep_s + n, n, keep);   /* keep_s holds 2 * cap */
            cut = tau - tau * KEEP_SLACK;
            uint32_t m = 0;
            for (uint32_t i = 0; i < n; i++) {
                kl[m] = kl[i];
                ka[m] = ka[i];
                m += ka[i] >= cut;
            }
            n = m;
            next = 2 * n;
        }
        if (end == hi + 1)
            break;
    }
    double mx = -INFINITY;
    for (uint32_t i = 0; i < n; i++)
        mx = ka[i] > mx ? ka[i] : mx;
    for (uint32_t i = 0; i < n; i++)
        if (ka[i] == mx) {
            *arg = kl[i];
            break;
        }
    x->n_keep = n;
    x->keep_tau = tau;
    x->keep_cut = cut;
    *scored += n_sum;
    return mx;
}

/* Whether the sums dense_keep kept hold the window's notes of its topic under bt (the
 * topic's blend): nothing was dropped, or every sum below keep_cut scores below the
 * keep_tau's score (sum_below), which the window's worst reaches. When not (a topic term
 * that dwarfs the text term's differences), topic_run adds the topic up again. */
static int kept_holds(const struct fw_search_ctx *x, const blend *bt)
{
    return x->keep_tau == -INFINITY || x->keep_cut <= sum_below(bt, window_score(bt, x->keep_tau, NULL, 0));
}

/* dense_topic's selection over the sums dense_keep kept. */
static void kept_select(const uint32_t *kl, const double *ka, uint32_t n_keep, const blend *bl, const uint32_t *mark,
                        uint32_t n_mark, uint32_t k, uint32_t *hid, double *hsc, uint32_t *hn)
{
    dsel z;
    dsel_init(&z, bl, k, hsc, *hn);
    for (uint32_t i = 0; i < n_keep; i++)
        dsel_offer(&z, bl, kl[i], ka[i], mark, n_mark, k, hid, hsc, hn);
}

/* Room for n kept sums (and fw_kth_largest's scratch, twice that); -1 when out of memory. */
static int keep_reserve(struct fw_search_ctx *x, uint32_t n)
{
    if (n <= x->keep_cap)
        return 0;
    uint32_t cap = max_u32(n, 2 * x->keep_cap);
    if (fw_resize(&x->keep_l, x->keep_cap, cap, sizeof *x->keep_l) ||
        fw_resize(&x->keep_a, x->keep_cap, cap, sizeof *x->keep_a) ||
        fw_resize(&x->keep_s, 2 * (size_t)x->keep_cap, 2 * (size_t)cap, sizeof *x->keep_s))
        return -1;   /* some may have grown, keep_cap did not: harmless */
    x->keep_cap = cap;
    return 0;
}

/* Whether q's lists (as prune_init made them) can be walked by topic: not when a long one
 * is not split (it ran out of memory). Splits the short ones into x's scratch (view_split). */
static int topic_split(const struct fw_search *s, struct fw_search_ctx *x, const pquery *q)
{
    for (uint32_t j = 0; j < q->m; j++)
        if (!q->c[j].p->sub && q->c[j].p->n >= PART_MIN)
            return 0;
    for (uint32_t j = 0; j < q->m; j++)
        if (!q->c[j].p->sub)
            view_split(s, x, j, q->c[j].p);
    return 1;
}

/* The topics with a part in q's lists, with the most their notes may score under bl with
 * the topic's terms, best first, into x->tv_ord; returns how many. The parts' bounds are
 * summed at the request's first call (both passes walk the same q). The order is total
 * (cmp_tbound: ties on the topic), so the insertion sort of a few dozen topics (the default
 * 32), cheaper than qsort's calls, gives qsort's order. */
static uint32_t topic_order(const struct fw_search *s, struct fw_search_ctx *x, const pquery *q, const blend *bl)
{
    uint32_t n_ord = 0, T = s->n_topics;
    if (!x->tv_ub_ok) {
        plist store;
        for (uint32_t t = 0; t < T; t++) {
            double ub = 0.0;
            uint32_t mt = 0;
            for (uint32_t j = 0; j < q->m; j++) {
                const plist *v = topic_view(s, x, q->c[j].p, j, t, &store);
                if (v) {
                    ub += q->c[j].idf * block_weight(q, &v->all);
                    mt++;
                }
            }
            x->tv_ub[t] = ub;
            x->tv_mt[t] = mt;
        }
        x->tv_ub_ok = 1;
    }
    for (uint32_t t = 0; t < T; t++)
        if (x->tv_mt[t]) {
            blend bt = topic_blend(bl, t);
            x->tv_ord[n_ord++] = (struct tbound){window_bound(&bt, x->tv_ub[t], x->tv_mt[t]), t};
        }
    if (n_ord > 64)
        qsort(x->tv_ord, n_ord, sizeof *x->tv_ord, cmp_tbound);
    else
        for (uint32_t i = 1; i < n_ord; i++) {
            struct tbound v = x->tv_ord[i];
            uint32_t j = i;
            for (; j > 0 && cmp_tbound(&v, &x->tv_ord[j - 1]) < 0; j--)
                x->tv_ord[j] = x->tv_ord[j - 1];
            x->tv_ord[j] = v;
        }
    return n_ord;
}

/* qt's weight tables, q's (topic_query fills in the rest, topic by topic). */
static void topic_tables(pquery *qt, const pquery *q)
{
    memcpy(qt->w, q->w, sizeof qt->w);
    memcpy(qt->wb, q->wb, sizeof qt->wb);
}

/* Topic t's parts of q's lists as a query of their own, qt (its cursors at their starts,
 * in query order, on views kept in store; q's weight tables), the parts' postings in
 * *n_post and the local ids they span in [*lo, *hi]; returns qt->m. */
static uint32_t topic_query(const struct fw_search *s, const struct fw_search_ctx *x, const pquery *q, uint32_t t,
                            plist *store, pquery *qt, uint64_t *n_post, uint32_t *lo, uint32_t *hi)
{
    qt->m = 0;
    *n_post = 0;
    *lo = END;
    *hi = 0;
    for (uint32_t j = 0; j < q->m; j++) {   /* in query order: the sums are the scan's */
        const plist *v = topic_view(s, x, q->c[j].p, j, t, &store[j]);
        if (!v)
            continue;
        cursor *c = &qt->c[qt->m++];
        c->p = v;
        c->idf = q->c[j].idf;
        c->ub = c->idf * block_weight(q, &v->all);
        c->pos = 0;
        c->doc = v->id[0];
        *n_post += v->n;
        *lo = min_u32(*lo, v->id[0]);
        *hi = max_u32(*hi, v->id[v->n - 1]);
    }
    return qt->m;
}

/* The first pass by topic (q's lists split: topic_split): the best BM25 of any note into the
 * one-note heap (id1, best, n1) as prune_run with k = 1 and b1 (text alone) would find it,
 * topic by topic from the best text bound down, stopping at the first topic whose bound is
 * not above the best so far (only the value is wanted: a tie cannot change it). The notes
 * of a query's topic hold its words together, so its walk meets the best sum early and
 * every other topic's bound falls below it; over the whole lists the walk met every
 * topic's postings of a generic word first. The first topic whose parts are dense enough
 * (dense_topic's test) is summed whole instead (dense_keep) and its sums kept in x for the
 * second pass (kept_select, topic_run), which in a simulated day walks that topic first
 * and then need not add its postings again: the pruned k = 1 walk of that topic had cost
 * about 110 us a query there, most of what summing it whole costs. The value is the whole
 * lists' walk's: each note's sum is the same operations in the same order. keep: the second
 * pass's window (dense_keep). */
static void topic_max(const struct fw_search *s, struct fw_search_ctx *x, const pquery *q, const blend *b1,
                      uint32_t keep, uint32_t *id1, double *best, uint32_t *n1, uint64_t *postings,
                      uint64_t *scored)
{
    uint32_t n_ord = topic_order(s, x, q, b1);
    plist store[FW_QUERY_TERMS];
    pquery qt;
    topic_tables(&qt, q);
    for (uint32_t i = 0; i < n_ord; i++) {
        uint32_t t = x->tv_ord[i].t;
        if (*n1 >= 1 && x->tv_ord[i].b <= *best)
            break;   /* and every topic after it */
        uint64_t n_post;
        uint32_t lo, hi;
        topic_query(s, x, q, t, store, &qt, &n_post, &lo, &hi);
        if (qt.m >= 2 && x->keep_t == FW_NONE && dense_enough(n_post, lo, hi) &&
            !keep_reserve(x, hi - lo + 1)) {
            /* The topic's sums, kept for the second pass, which walks this topic first in
             * a simulated day (its words' topic). */
            uint32_t arg = 0;
            double mx = dense_keep(x, &qt, lo, hi, keep, &arg, postings, scored);
            x->keep_t = t;
            if (x->n_keep)
                fw_topk_offer(id1, best, n1, 1, s->tn[t].id[arg], mx);
            continue;
        }
        blend bt = *b1;
        bt.gid = s->tn[t].id;
        prune_run(s, x, &qt, &bt, NULL, 0, 1, id1, best, n1, postings, scored);
    }
}

/* prune_run's answer (bl has topic terms; q's lists split: topic_split), topic by topic; the
 * topic whose sums the first pass kept (x->keep_t) is selected from them. */
static void topic_run(const struct fw_search *s, struct fw_search_ctx *x, const pquery *q, const blend *bl,
                      const uint32_t *mark, uint32_t n_mark, uint32_t k, uint32_t *hid, double *hsc, uint32_t *hn,
                      uint64_t *postings, uint64_t *scored)
{
    uint32_t n_ord = topic_order(s, x, q, bl);
    plist store[FW_QUERY_TERMS];
    pquery qt;
    topic_tables(&qt, q);
    for (uint32_t i = 0; i < n_ord; i++) {
        uint32_t t = x->tv_ord[i].t;
        blend bt = topic_blend(bl, t);
        if (*hn >= k && x->tv_ord[i].b <= heap_theta(&bt, hsc[0]))
            break;   /* and every topic after it */
        bt.gid = s->tn[t].id;
        uint64_t n_post;
        uint32_t lo, hi;
        topic_query(s, x, q, t, store, &qt, &n_post, &lo, &hi);
        if (t == x->keep_t && kept_holds(x, &bt))
            kept_select(x->keep_l, x->keep_a, x->n_keep, &bt, mark, n_mark, k, hid, hsc, hn);
        else if (qt.m == 1)
            scan_one(&qt, &bt, mark, n_mark, k, hid, hsc, hn, postings, scored);
        else if (dense_enough(n_post, lo, hi))
            dense_topic(x->dacc, &qt, &bt, lo, hi, mark, n_mark, k, hid, hsc, hn, postings, scored);
        else
            prune_run(s, x, &qt, &bt, mark, n_mark, k, hid, hsc, hn, postings, scored);
    }
}

/* Note id's BM25, summed as the exhaustive scan sums it; q's cursors move forward to id
 * (ids asked in ascending order after a rewind). Adds the postings found to *postings. */
static double bm25_lookup(pquery *q, uint32_t id, uint64_t *postings)
{
    double bm = 0.0;
    for (uint32_t j = 0; j < q->m; j++) {
        cursor *c = &q->c[j];
        cursor_seek(c, id);
        if (c->doc == id) {
            bm += c->idf * posting_weight(q, c->p, c->pos);
            (*postings)++;
        }
    }
    return bm;
}

/* Exact retrieval scans -- scores every posting, as exhaustive does -- when the query's
 * lists hold fewer than FW_SEARCH_SCAN_POSTINGS postings in all: lists this short have few
 * postings to skip, and the scan's work per posting (an add into the accumulator, then one
 * compare against the window's worst) is a few nanoseconds where the pruned walk's (cursors,
 * block bounds, heap offers) is tens. Measured with bench_search (README, Search): at 100k
 * notes 8,000 took the mean from 61 to 40 us (intent) and 52 to 33 us (keyword) without
 * slowing the most frequent words' queries, which 16,000 did in keyword mode; neutral at 1M
 * notes. */
static int scan_cheaper(const struct fw_search *s, const uint32_t *terms, uint32_t n_q)
{
    uint64_t sum = 0;
    for (uint32_t j = 0; j < n_q; j++)
        sum += s->post[terms[j]].n;
    return sum < FW_SEARCH_SCAN_POSTINGS;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

uint32_t fw_search_request(fw_engine *e, fw_engine_ctx *ctx, const fw_search_req *q, uint32_t *out,
                           uint32_t cap)
{
    const struct fw_search *s = S_of(e);
    struct fw_search_ctx *x = ctx->mod[FW_MOD_SEARCH];
    if (!s || q->user >= e->n_users || q->arm >= e->n_arms || q->n_terms > FW_QUERY_TERMS || cap == 0)
        return 0;
    const fw_search_cfg *cf = &fw_cfg(e, q->arm)->search;
    int intent = cf->mode == FW_SEARCH_INTENT;
    if (acc_reserve(x, e->n_notes, e->cap_notes))
        return 0;   /* out of memory: an empty page rather than a partial one */
    int64_t t_start = fw_now_ns();

    /* Parse: distinct known terms, and what the query means. */
    uint32_t terms[FW_QUERY_TERMS];
    uint32_t n_q = parse_terms(s, q->terms, q->n_terms, terms);
    next_stamp(x, e->n_topics);
    x->keep_t = FW_NONE;
    x->tv_ub_ok = 0;
    if (intent)
        intent_dist(s, &s->im[fw_learner(e, q->arm, q->user)], terms, n_q, cf->intent_prior, x->dist);
    int64_t t_parse = fw_now_ns();
    fw_hist_record(&ctx->lat[FW_STAGE_SEARCH_PARSE], t_parse - t_start);

    /* Two passes: text, intent and personal affinity (from dense per-note arrays) pick the
     * best SEARCH_WINDOW pages; the engagement term, which reads each note's counts, re-ranks
     * only those. A note outside the window cannot enter the page on engagement alone. */
    uint32_t k = min_u32(min_u32(cap, cf->page_size), SEARCH_PAGE_MAX), n_top = 0;
    uint32_t kw = min_u32(k * SEARCH_WINDOW, SEARCH_PAGE_MAX * SEARCH_WINDOW), n_win = 0;
    uint32_t top_id[SEARCH_PAGE_MAX], win_id[SEARCH_PAGE_MAX * SEARCH_WINDOW];
    double top_score[SEARCH_PAGE_MAX], win_score[SEARCH_PAGE_MAX * SEARCH_WINDOW];
    uint32_t n_cand = 0;
    int64_t t_retrieve;
    /* Exact retrieval scores every posting where that is cheaper than pruning (scan_cheaper):
     * the exhaustive branch below is the oracle pruning is tested against, so either way the
     * page is the same, bit for bit. */
    if (cf->retrieval == FW_RETRIEVAL_PRUNED ||
        (cf->retrieval == FW_RETRIEVAL_EXACT && !scan_cheaper(s, terms, n_q))) {
        /* Retrieve and rank at once: the window exhaustive retrieval would pick (see the
         * exact retrieval's note). Intent candidates are marked first and offered last. */
        if (intent && n_q)
            retrieve_intent(s, x, cf, &n_cand);
        uint64_t read = 0, scored = 0;
        pquery bq;
        blend bl = {.intent = intent, .personal = cf->w_personal > 0.0, .w_intent = cf->w_intent,
                    .w_personal = cf->w_personal, .dist = x->dist, .aff = x->aff, .n_topics = s->n_topics};
        double max_bm25 = 0.0;
        prune_init(s, cf, terms, n_q, &bq);
        for (uint32_t t = 0; t < s->n_topics; t++) {
            double gi = bl.intent ? cf->w_intent * x->dist[t] : 0.0;
            double gp = bl.personal ? cf->w_personal * affinity(e, x, q->arm, q->user, t) : 0.0;
            bl.gi_max = gi > bl.gi_max ? gi : bl.gi_max;
            bl.gp_max = gp > bl.gp_max ? gp : bl.gp_max;
            bl.g_max = gi + gp > bl.g_max ? gi + gp : bl.g_max;
        }
        /* A topic term that is 0 for every topic adds +0.0 to a score >= +0.0: leaving it out
         * changes no bit, and spares reading the note's topic. */
        bl.intent = bl.intent && bl.gi_max > 0.0;
        bl.personal = bl.personal && bl.gp_max > 0.0;
        bl.joint = bl.intent && bl.personal && bl.g_max < (bl.gi_max + bl.gp_max) * (1.0 - 1e-9);
        /* With topic terms both passes walk topic by topic where the lists are split. */
        int by_topic = bq.m && (bl.intent || bl.personal) && s->n_topics >= 2 && topic_split(s, x, &bq);
        if (bq.m) {
            /* Pass 1: the best BM25 (k = 1, text alone). */
            blend b1 = {.text_scale = 1.0};
            uint32_t id1, n1 = 0;
            if (by_topic && bq.m >= 2)
                topic_max(s, x, &bq, &b1, kw, &id1, &max_bm25, &n1, &read, &scored);
            else
                prune_run(s, x, &bq, &b1, NULL, 0, 1, &id1, &max_bm25, &n1, &read, &scored);
            prune_rewind(&bq);
        }
        bl.text_scale = max_bm25 > 0.0 ? cf->w_text / max_bm25 : 0.0;
        /* Pass 2: the window among notes with postings, intent candidates (if any) aside;
         * then the candidates in id order (the heap's answer does not depend on the order of
         * offers), looked up by cursors that only move forward. */
        if (!ascending(x->cand, n_cand))   /* retrieve_intent adds them in order: never taken */
            qsort(x->cand, n_cand, sizeof *x->cand, cmp_u32);
        if (by_topic)
            topic_run(s, x, &bq, &bl, x->cand, n_cand, kw, win_id, win_score, &n_win, &read, &scored);
        else if (bq.m)
            prune_run(s, x, &bq, &bl, x->cand, n_cand, kw, win_id, win_score, &n_win, &read, &scored);
        prune_rewind(&bq);
        for (uint32_t i = 0; i < n_cand; i++) {
            uint32_t id = x->cand[i];
            double bm = bq.m ? bm25_lookup(&bq, id, &read) : 0.0;
            fw_topk_offer(win_id, win_score, &n_win, kw, id, window_score(&bl, bm, s->topic, id));
        }
        n_cand += (uint32_t)scored;
        ctx->work[FW_WORK_POSTINGS] += read;
        t_retrieve = fw_now_ns();
        fw_hist_record(&ctx->lat[FW_STAGE_SEARCH_RETRIEVE], t_retrieve - t_parse);
    } else {
        /* Retrieve: every posting, or the newest max_postings of each word. */
        uint32_t from_cap = cf->retrieval == FW_RETRIEVAL_NEWEST ? cf->max_postings : UINT32_MAX;
        double max_bm25;
        ctx->work[FW_WORK_POSTINGS] += retrieve_bm25(s, x, cf, terms, n_q, from_cap, &n_cand, &max_bm25);
        if (intent && n_q)
            retrieve_intent(s, x, cf, &n_cand);
        t_retrieve = fw_now_ns();
        fw_hist_record(&ctx->lat[FW_STAGE_SEARCH_RETRIEVE], t_retrieve - t_parse);

        /* Rank: the window. Each candidate's score is text_scale x BM25, plus the intent
         * term, plus the affinity term (in that order: the exact path's window_score adds
         * the same terms in the same order), the topic terms looked up per topic, computed
         * once. Once the window is full a candidate that does not beat its worst (score
         * desc, id asc) is passed over without a heap offer, which would refuse it. The
         * intent candidates' BM25 is 0, so max_bm25 (the scan's) is the largest of all. */
        double text_scale = max_bm25 > 0.0 ? cf->w_text / max_bm25 : 0.0;
        uint32_t T = s->n_topics;
        int personal = cf->w_personal > 0.0;
        double *gi = x->gi, *gp = x->gp;
        for (uint32_t t = 0; t < T; t++) {
            gi[t] = intent ? cf->w_intent * x->dist[t] : 0.0;
            gp[t] = personal ? cf->w_personal * affinity(e, x, q->arm, q->user, t) : 0.0;
        }
        const double *acc = x->acc;
        const uint32_t *cand = x->cand;
        const uint16_t *topic = s->topic;
        for (uint32_t i = 0; i < n_cand; i++) {
            if (i + SCAN_AHEAD < n_cand) {   /* the candidates' sums and topics, at random */
                __builtin_prefetch(&acc[cand[i + SCAN_AHEAD]]);
                __builtin_prefetch(&topic[cand[i + SCAN_AHEAD]]);
            }
            uint32_t id = cand[i], t = topic[id];
            double sc = text_scale * acc[id];
            if (t < T) {
                if (intent)
                    sc += gi[t];
                if (personal)
                    sc += gp[t];
            } else if (personal)
                sc += cf->w_personal * 0.0;   /* affinity() of a note without a topic */
            if (n_win == kw && !fw_topk_better(sc, id, win_score[0], win_id[0]))
                continue;
            fw_topk_offer(win_id, win_score, &n_win, kw, id, sc);
        }
    }
    /* The window's engagement counts (quality), read at random below: asked for all at once
     * first, so that their misses overlap. */
    for (uint32_t i = 0; i < n_win; i++)
        __builtin_prefetch(e->counts + (size_t)win_id[i] * FW_EV__COUNT);
    double p0 = fw_rec_ctr_prior(e, q->arm, q->user, 0.08), aigc_mult;
    const uint8_t *aigc_flags = fw_aigc_downrank_flags(e, q->arm, &aigc_mult);   /* issue 20 */
    for (uint32_t i = 0; i < n_win; i++) {
        /* Moderation acts on the final ranking: an actioned note is dropped or down-ranked
         * here, after the window (so exact and exhaustive retrieval still agree). */
        double w = fw_safety_w(e, q->arm, q->user, win_id[i]);
        if (w > 0.0)
            fw_topk_offer(top_id, top_score, &n_top, k, win_id[i],
                          fw_aigc_score(aigc_flags, aigc_mult, win_id[i],
                                        fw_safety_scale(win_score[i] + cf->w_quality * quality(e, win_id[i], p0), w)));
    }
    fw_topk_sort(top_id, top_score, n_top);
    memcpy(out, top_id, (size_t)n_top * sizeof *out);
    int64_t t_end = fw_now_ns();
    fw_hist_record(&ctx->lat[FW_STAGE_SEARCH_RANK], t_end - t_retrieve);
    fw_hist_record(&ctx->lat[FW_STAGE_SEARCH], t_end - t_start);
    ctx->work[FW_WORK_SEARCHES]++;
    ctx->work[FW_WORK_SEARCH_CANDIDATES] += n_cand;
    return n_top;
}

/* The topic the engine reads in q: its learned intent's most likely topic (ties: the lower),
 * or FW_NONE when it knows none of the words. Uses ctx's scratch. */
uint32_t fw_search_query_topic(const fw_engine *e, fw_engine_ctx *ctx, const fw_search_req *q)
{
    struct fw_search_ctx *x = ctx->mod[FW_MOD_SEARCH];
    if (!x || fw_search_intent(e, q, x->dist) <= 0.0)
        return FW_NONE;
    uint32_t best = FW_NONE;
    for (uint32_t t = 0; t < e->n_topics; t++)
        if (best == FW_NONE || x->dist[t] > x->dist[best])
            best = t;
    return best;
}

static fw_err search_publish(fw_engine *e, void *state, fw_engine_ctx *ctx, uint32_t id, const fw_publication *p)
{
    (void)ctx;
    return index_note(e, state, id, p->terms);
}

/* Users were placed in cells: under per-arm isolation every learner's intents start as a
 * copy of learner 0's (what the pre-period's clicks taught). */
static fw_err search_fork(fw_engine *e, void *state)
{
    (void)e;
    struct fw_search *s = state;
    const intents *i0 = &s->im[0];
    for (uint32_t l = 1; l < s->n_learn; l++) {
        intents *im = &s->im[l];
        if (intent_reserve(s, im, i0->cap_rows))
            return FW_ERR_NOMEM;
        memcpy(im->irow, i0->irow, (size_t)s->n_terms * sizeof *im->irow);
        memcpy(im->icount, i0->icount, (size_t)i0->n_rows * s->n_topics * sizeof *im->icount);
        memcpy(im->itotal, i0->itotal, (size_t)i0->n_rows * sizeof *im->itotal);
        im->n_rows = i0->n_rows;
    }
    return FW_OK;
}

static size_t search_cell_bytes(const fw_engine *e, const void *state)
{
    (void)e;
    const struct fw_search *s = state;
    size_t sum = 0;
    for (uint32_t l = 1; l < s->n_learn; l++)
        sum += sizeof(intents) + ((size_t)s->n_terms + (size_t)s->im[l].cap_rows * (s->n_topics + 1)) * sizeof(uint32_t);
    return sum;
}

/* ---- snapshots (issue 21) ---------------------------------------------------------- */

/* The capacity that doubling from cap (first when 0) reaches to hold need items: what
 * appending one at a time grew it to, so that a resumed run holds, and later grows, the
 * same memory as an uninterrupted one. */
static uint32_t doubled_cap(uint32_t cap, uint32_t need, uint32_t first)
{
    uint64_t c = cap;
    while (c < need)
        c = c ? 2 * c : first;
    return c > UINT32_MAX ? need : (uint32_t)c;
}

/* Loading, the index holds the catalog's notes (search_create) and every field below is
 * overwritten or rebuilt.
 *  Transferred: n_docs (== e->n_notes), the notes' lengths and total_len; every posting list
 *    (its ids, bound-checked and strictly ascending, and tl, its tf at most its length);
 *    every learner's intents (irow,
 *    its rows' counts and totals, n_rows and cap_rows: rows grow as in the run).
 *  Rebuilt: each list's block bounds, all and bitmap (plist_rebuild: the same calls as the
 *    appends made); the notes' topics, local ids (tn) and the topic rings, ring_total
 *    included (note_topic for notes 0 .. n_docs in order, as index_note called it: the topics
 *    are the core's, restored first, and every ring slot the run wrote is written again in
 *    the same order); the splits by topic and their codes (part_build).
 *  Grown as the run grew them (doubled_cap): cap_docs, each list's cap.
 *  Skipped: n_terms and n_learn (the scenario's: checked), n_topics and ring_cap (the
 *  scenario's), and the per-thread ctx (request scratch, stamped per request). */
static void search_snap(fw_engine *e, void *state, fw_snap *sn)
{
    struct fw_search *s = state;
    int load = fw_snap_loading(sn);
    fw_snap_same_u32(sn, s->n_terms, "search's vocabulary");
    fw_snap_same_u32(sn, s->n_learn, "search's learners");
    uint32_t n_docs = s->n_docs;
    fw_snap_u32(sn, &n_docs);
    if (load && !fw_snap_failed(sn)) {
        if (n_docs != e->n_notes)
            fw_snap_fail(sn, "%u notes indexed, the engine holds %u", n_docs, e->n_notes);
        else if (docs_reserve(s, doubled_cap(s->cap_docs, n_docs, DOCS_FIRST)))
            fw_snap_fail(sn, "out of memory for %u notes", n_docs);
        else
            s->n_docs = n_docs;
    }
    fw_snap_array(sn, s->len, s->n_docs, sizeof *s->len);
    fw_snap_u64(sn, &s->total_len);
    for (uint32_t t = 0; t < s->n_terms && !fw_snap_failed(sn); t++) {
        plist *p = &s->post[t];
        uint32_t n = p->n;
        fw_snap_u32(sn, &n);
        if (load && !fw_snap_failed(sn)) {
            if (n > s->n_docs)
                fw_snap_fail(sn, "term %u has %u postings, more than the %u notes", t, n, s->n_docs);
            else if (plist_reserve(p, doubled_cap(p->cap, n, PLIST_FIRST)))
                fw_snap_fail(sn, "out of memory for term %u's %u postings", t, n);
            else
                p->n = n;
        }
        fw_snap_indexes(sn, p->id, p->n, s->n_docs, s->n_docs);
        fw_snap_array(sn, p->tl, p->n, sizeof *p->tl);
        if (!load || fw_snap_failed(sn))
            continue;
        for (uint32_t k = 1; k < p->n; k++)
            if (p->id[k] <= p->id[k - 1]) {
                fw_snap_fail(sn, "term %u's postings are not in ascending note order", t);
                break;
            }
        for (uint32_t k = 0; k < p->n && !fw_snap_failed(sn); k++)
            if (tl_tf(p->tl[k]) > tl_len(p->tl[k]))   /* no note holds a word more often (CODE_NONE) */
                fw_snap_fail(sn, "term %u's posting %u counts it %u times in a note of %u terms", t, k,
                             tl_tf(p->tl[k]), tl_len(p->tl[k]));
        if (!fw_snap_failed(sn))
            plist_rebuild(p);
    }
    /* A row per term ever clicked, doubling from INTENT_FIRST while a term is left. */
    uint64_t max_rows = 2 * (uint64_t)s->n_terms > INTENT_FIRST ? 2 * (uint64_t)s->n_terms : INTENT_FIRST;
    for (uint32_t l = 0; l < s->n_learn && !fw_snap_failed(sn); l++) {
        intents *im = &s->im[l];
        uint32_t n = im->n_rows, cap = im->cap_rows;
        fw_snap_u32(sn, &n);
        fw_snap_u32(sn, &cap);
        if (load && !fw_snap_failed(sn)) {
            if (n > cap || n > s->n_terms || cap > max_rows)
                fw_snap_fail(sn, "learner %u: %u intent rows of %u, for %u terms", l, n, cap, s->n_terms);
            else if (intent_reserve(s, im, cap))
                fw_snap_fail(sn, "out of memory for learner %u's %u intent rows", l, cap);
            else
                im->n_rows = n;
        }
        fw_snap_indexes(sn, im->irow, s->n_terms, im->n_rows, FW_NONE);
        fw_snap_array(sn, im->icount, (size_t)im->n_rows * s->n_topics, sizeof *im->icount);
        fw_snap_array(sn, im->itotal, im->n_rows, sizeof *im->itotal);
    }
    if (load && !fw_snap_failed(sn)) {
        for (uint32_t t = 0; t < s->n_topics; t++) {
            s->ring_total[t] = 0;
            s->tn[t].n = 0;
        }
        for (uint32_t id = 0; id < s->n_docs && !fw_snap_failed(sn); id++) {
            uint32_t t = e->notes[id].topic;
            if (t < s->n_topics && tnotes_reserve(s, t))
                fw_snap_fail(sn, "out of memory for topic %u's notes", t);
            else
                note_topic(e, s, id);
        }
    }
    if (load && !fw_snap_failed(sn)) {
        /* The splits by topic, from the loaded postings and topics: the appends the run
         * made, in the same order, so the same parts and capacities. */
        for (uint32_t t = 0; t < s->n_terms; t++) {
            part_drop(&s->post[t]);
            if (part_due(s, &s->post[t]))
                part_build(s, &s->post[t]);
        }
    }
}

const fw_engine_module fw_search_module = {
    .name = "search",
    .wanted = search_wanted,
    .state_size = sizeof(struct fw_search),
    .create = search_create,
    .destroy = search_destroy,
    .ctx_create = search_ctx_create,
    .ctx_destroy = search_ctx_destroy,
    .publish = search_publish,
    .log = search_log,
    .fork = search_fork,
    .cell_bytes = search_cell_bytes,
    .snap = search_snap,
};

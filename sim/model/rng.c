/* Philox4x32-10 as a gsl_rng_type, and the splitmix64 finaliser.
 *
 * Invariants of a stream's state (philox_state):
 *   - key[] = {seed low 32 bits, seed high 32 bits}; day, entity, purpose are the fixed
 *     counter words 1..3; these never change between seeks.
 *   - block[] = philox({next_block - 1, day, entity, purpose}, key) whenever pos < 4, and
 *     pos counts the words of block[] already returned. pos == 4 means "no block yet":
 *     the next get() computes block next_block and advances it.
 *   - So the n-th output (from 0) of a stream is word n % 4 of counter block n / 4, a pure
 *     function of (key, n): nothing depends on threads, time or other streams.
 * The block index is 32 bits, so a stream repeats after 2^34 outputs; no simulator stream
 * comes near that (a session draws thousands at most). */
#include "model/rng.h"

#include <assert.h>
#include <stdlib.h>

/* Salmon et al. (SC'11), Philox4x32: round multipliers and Weyl key increments. */
#define PHILOX_M0 UINT32_C(0xD2511F53)
#define PHILOX_M1 UINT32_C(0xCD9E8D57)
#define PHILOX_W0 UINT32_C(0x9E3779B9)
#define PHILOX_W1 UINT32_C(0xBB67AE85)
#define PHILOX_ROUNDS 10

typedef struct philox_state {
    uint32_t key[2];
    uint32_t day, entity, purpose;
    uint32_t next_block;
    uint32_t block[4];
    unsigned pos;
} philox_state;

/* One Philox S-box round: two 32x32->64 products; the high halves are mixed with the other
 * two counter words and the round key, and the words are permuted. */
static void philox_round(uint32_t x[4], const uint32_t k[2])
{
    uint64_t p0 = (uint64_t)PHILOX_M0 * x[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * x[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t y0 = hi1 ^ x[1] ^ k[0];
    uint32_t y2 = hi0 ^ x[3] ^ k[1];
    x[0] = y0;
    x[1] = lo1;
    x[2] = y2;
    x[3] = lo0;
}

void fw_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t x[4] = { ctr[0], ctr[1], ctr[2], ctr[3] };
    uint32_t k[2] = { key[0], key[1] };
    for (int round = 0; round < PHILOX_ROUNDS; round++) {
        if (round > 0) {
            k[0] += PHILOX_W0; /* unsigned: wraps mod 2^32 as the definition requires */
            k[1] += PHILOX_W1;
        }
        philox_round(x, k);
    }
    for (int i = 0; i < 4; i++)
        out[i] = x[i];
}

static void state_seek(philox_state *s, uint64_t seed, uint32_t purpose, uint32_t entity,
                       uint32_t day)
{
    s->key[0] = (uint32_t)seed;
    s->key[1] = (uint32_t)(seed >> 32);
    s->day = day;
    s->entity = entity;
    s->purpose = purpose;
    s->next_block = 0;
    s->pos = 4;
}

static void philox_set(void *vstate, unsigned long int seed)
{
    state_seek(vstate, (uint64_t)seed, 0, 0, 0);
}

static unsigned long int philox_get(void *vstate)
{
    philox_state *s = vstate;
    if (s->pos >= 4) {
        const uint32_t ctr[4] = { s->next_block, s->day, s->entity, s->purpose };
        fw_philox4x32_10(ctr, s->key, s->block);
        s->next_block++;
        s->pos = 0;
    }
    return s->block[s->pos++];
}

static double philox_get_double(void *vstate)
{
    /* k * 2^-32: in [0, 1), exactly representable, as gsl_rng_uniform promises. */
    return (double)philox_get(vstate) * (1.0 / 4294967296.0);
}

static const gsl_rng_type philox_type = {
    "fw-philox4x32-10",
    UINT32_C(0xFFFFFFFF),
    0,
    sizeof(philox_state),
    philox_set,
    philox_get,
    philox_get_double,
};

const gsl_rng_type *fw_rng_philox = &philox_type;

void fw_rng_seek(gsl_rng *r, uint64_t seed, uint32_t purpose, uint32_t entity, uint32_t day)
{
    assert(r != NULL && r->type == &philox_type);
    state_seek(r->state, seed, purpose, entity, day);
}

gsl_rng *fw_rng_create(uint64_t seed, uint32_t purpose, uint32_t entity, uint32_t day)
{
    /* Built by hand rather than with gsl_rng_alloc: its failure path calls the GSL error
     * handler, which aborts by default, and our contract is to return NULL. gsl_rng_free
     * releases exactly these two blocks with free(). */
    gsl_rng *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    r->state = calloc(1, sizeof(philox_state));
    if (r->state == NULL) {
        free(r);
        return NULL;
    }
    r->type = &philox_type;
    state_seek(r->state, seed, purpose, entity, day);
    return r;
}

uint64_t fw_hash64(uint64_t x)
{
    uint64_t z = x + UINT64_C(0x9e3779b97f4a7c15);
    z ^= z >> 30;
    z *= UINT64_C(0xbf58476d1ce4e5b9);
    z ^= z >> 27;
    z *= UINT64_C(0x94d049bb133111eb);
    z ^= z >> 31;
    return z;
}

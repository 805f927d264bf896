/* world.optout_share: who opts out of personalisation (optout.h). */
#include <stdlib.h>

#include "model/optout.h"
#include "model/rng.h"

/* The users' own stream (FW_RNG_USER, their traits are drawn at day 0) at a day key no
 * trait uses, so adding the knob moves no other draw. */
#define OPTOUT_DAY UINT32_C(0x6f707400)   /* "opt" */

fw_err fw_optout_draw(uint64_t seed, uint32_t n_users, double share, uint8_t **out)
{
    *out = NULL;
    if (!(share > 0.0))
        return FW_OK;
    uint8_t *v = malloc(n_users ? n_users : 1);
    gsl_rng *r = fw_rng_create(seed, FW_RNG_USER, 0, OPTOUT_DAY);
    if (!v || !r) {
        free(v);
        if (r)
            gsl_rng_free(r);
        return FW_ERR_NOMEM;
    }
    for (uint32_t u = 0; u < n_users; u++) {
        fw_rng_seek(r, seed, FW_RNG_USER, u, OPTOUT_DAY);
        v[u] = gsl_rng_uniform(r) < share;
    }
    gsl_rng_free(r);
    *out = v;
    return FW_OK;
}

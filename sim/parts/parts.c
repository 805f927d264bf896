/* The table of parts: the simulator side of every capability, in the order the driver runs
 * them in every phase (sim/driver/part.h), and the order of their counters in a cell's row
 * and in the result file's /days/<arm>/. A new capability is a part file and one row here
 * (at the end, so that no existing column moves).
 *
 * Where parts meet, the order matters, and is kept by phases rather than rows: in a session
 * the shop's arrive step (a waiting cart) runs before the search's seek step, which runs
 * before the feed's and then the shop's browse steps; the notes' and the market's day starts
 * queue notes that the driver publishes in (tick, creator, sequence) order whatever the
 * order they came in; reach reads and grows creators' follower counts in one pass over the
 * log. */
#include <string.h>

#include "driver/part.h"

/* X(name): the part fw_<name>_part, defined in parts/<name>.c. */
#define FW_PARTS(X) \
    X(feed)         \
    X(notes)        \
    X(search)       \
    X(shop)         \
    X(ads)          \
    X(reach)        \
    X(oracle)       \
    X(market)       \
    X(notify)       \
    X(tables)       \
    X(promo)        \
    X(adnotes)      \
    X(advertisers)  \
    X(searchprod)   \
    X(safety)       \
    X(aigc)         \
    X(media)         \
    X(living)       \
    X(live)         \
    X(unfollow)     \
    X(followback)   \
    X(suggest)

#define FW_PART_EXTERN(name) extern const fw_part fw_##name##_part;
FW_PARTS(FW_PART_EXTERN)

const fw_part *const fw_parts[] = {
#define FW_PART_ROW(name) &fw_##name##_part,
    FW_PARTS(FW_PART_ROW)
};

const uint32_t fw_n_parts = sizeof fw_parts / sizeof fw_parts[0];

void fw_part_no_state(fw_sim *S, fw_part_inst *p, fw_snap *s)
{
    (void)S;
    (void)p;
    (void)s;
}

const fw_part *fw_part_by_name(const char *name)
{
    for (uint32_t k = 0; k < fw_n_parts; k++)
        if (strcmp(fw_parts[k]->name, name) == 0)
            return fw_parts[k];
    return NULL;
}

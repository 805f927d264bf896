/* The searchprod part: blended search results (engine.search.product_slot). The search part
 * examines a page's product result with the page's position bias and the shop part decides
 * the click (a card-click model with the searched category's bonus; a click plants intent
 * from search, so an order it leads to counts in paid_from_search, and opens the product
 * page); this part counts them per arm. Runs only when some cell blends products into search
 * and the world has products, so a scenario without it keeps its result file as it was. */
#include "driver/part.h"

#define SEARCHPROD_COUNTERS(X)                                                                 \
    X(search_product_impressions, "results", "product results of search pages examined")       \
    X(search_product_clicks, "clicks", "product results clicked (each opens the product page)")

FW_DECLARE_COUNTERS(SEARCHPROD_COUNTERS);

static const fw_rate_desc rates[] = {
    {"search_product_ctr", "search_product_clicks", "search_product_impressions", 1.0, "1",
     "product results clicked / examined"},
};

static int searchprod_active(const fw_sim *S)
{
    if (S->w.n_products == 0)
        return 0;
    for (uint32_t c = 0; c < S->n_cells; c++)
        if (S->cell_engine[c].search.product_slot > 0)
            return 1;
    return 0;
}

static int searchprod_on_event(fw_session *ss, fw_part_inst *p, fw_sess_event *ev)
{
    if (ev->kind != FW_SE_PRODUCT_RESULT)
        return 0;
    ss->row[p->base + C_search_product_impressions]++;
    ss->row[p->base + C_search_product_clicks] += ev->handled != 0;
    return 0;
}

const fw_part fw_searchprod_part = {
    .name = "searchprod",
    FW_PART_COUNTERS_AND_RATES,
    .active = searchprod_active,
    .on_event = searchprod_on_event,
    .snap = fw_part_no_state,   /* no state at all */
};

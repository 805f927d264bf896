/* What other parts of the engine may ask of search (search.c): the topic it reads in a query.
 * Owns: nothing here.  Borrows: the engine and the caller's ctx.
 * Never touches: shared state; safe in concurrent requests. */
#ifndef FLYWHEEL_SEARCH_INT_H
#define FLYWHEEL_SEARCH_INT_H

#include "engine_int.h"

/* The topic the engine reads in q -- its learned intent's most likely topic (ties: the
 * lower) -- or FW_NONE when it knows none of the words or search is off. Uses ctx's scratch. */
uint32_t fw_search_query_topic(const fw_engine *e, fw_engine_ctx *ctx, const fw_search_req *q);

#endif

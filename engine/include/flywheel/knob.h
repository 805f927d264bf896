/* The knob X-macro convention shared by engine and simulator configuration.
 * Owns: nothing; only macros.  Borrows: nothing.  Never touches: parsing (sim/scenario does).
 *
 * A knob list is an X-macro whose entries read
 *     X(section, SCOPE, TYPE, name, default, min, max, unit, "one-line description")
 * section is the list's section (feed, rec, world, ...: the same word on every line of a
 * list, so that generic expansions know where a knob lives: engine.<section>.<name> is
 * fw_engine_cfg.<section>.<name>). SCOPE says who may set the knob: ARM (an experiment arm
 * may give it its own value; the engine reads it per cell, for that cell's traffic only), RUN
 * (one value for the whole run; the scenario loader refuses it in an arm), or ISO, SPLIT, OWN
 * (an arm may set it when the experiment gives each arm its own copy of the state it
 * configures: see fw_knob_scope). TYPE is one of U32, U64, F64, BOOL, STR, ENUM. For ENUM, min is the name of a value
 * list macro V(ENUM_CONSTANT, "yaml-name") and max is unused (0); the default is an enum
 * constant. For STR, min/max are unused (0). The list is the one place where a knob's
 * default lives: structs, YAML schema, defaults, range checks, --set and the documentation
 * dump are all expanded from it. */
#ifndef FLYWHEEL_KNOB_H
#define FLYWHEEL_KNOB_H

#include <stdbool.h>
#include <stdint.h>

#define FW_KNOB_CTYPE_U32  uint32_t
#define FW_KNOB_CTYPE_U64  uint64_t
#define FW_KNOB_CTYPE_F64  double
#define FW_KNOB_CTYPE_BOOL bool
#define FW_KNOB_CTYPE_STR  char *
#define FW_KNOB_CTYPE_ENUM int

/* Who may set a knob (the SCOPE column). An arm's value of a knob configures only what
 * belongs to the arm: its users' requests, its users' logs, and -- where the experiment gives
 * each arm its own copy -- the learned state and the campaign budgets it owns. A knob of state
 * that every arm shares is one value per run unless the experiment splits that state:
 *   ISO   the state is learned (models, embeddings, neighbours, pCTR): an arm may set it when
 *         experiment.isolation is per_arm (each arm learns its own copy), not under shared;
 *   SPLIT the state is a campaign's budget and pacing: an arm may set it when
 *         experiment.budget_split is on (each arm paces its own share), not with one budget;
 *   OWN   both (attribution bills budgets and counts the conversions pCVR learns from). */
typedef enum fw_knob_scope {
    FW_SCOPE_ARM = 0,   /* each experiment arm may set its own value */
    FW_SCOPE_RUN,       /* one value for the whole run */
    FW_SCOPE_ISO,       /* arm, when experiment.isolation is per_arm */
    FW_SCOPE_SPLIT,     /* arm, when experiment.budget_split is on */
    FW_SCOPE_OWN        /* arm, when both */
} fw_knob_scope;
#define FW_KNOB_SCOPE_ARM FW_SCOPE_ARM
#define FW_KNOB_SCOPE_RUN FW_SCOPE_RUN
#define FW_KNOB_SCOPE_ISO FW_SCOPE_ISO
#define FW_KNOB_SCOPE_SPLIT FW_SCOPE_SPLIT
#define FW_KNOB_SCOPE_OWN FW_SCOPE_OWN

/* Whether an arm may set a knob of scope s, given the experiment's isolation (per_arm
 * nonzero: each arm learns its own state) and budget split. */
static inline bool fw_knob_scope_arm_ok(int s, int per_arm, int budget_split)
{
    switch (s) {
    case FW_SCOPE_ARM: return true;
    case FW_SCOPE_ISO: return per_arm != 0;
    case FW_SCOPE_SPLIT: return budget_split != 0;
    case FW_SCOPE_OWN: return per_arm != 0 && budget_split != 0;
    default: return false;
    }
}

/* The scope as `flywheel defaults` writes it. */
static inline const char *fw_knob_scope_name(int s)
{
    switch (s) {
    case FW_SCOPE_ARM: return "arm";
    case FW_SCOPE_ISO: return "arm when experiment.isolation is per_arm, else run";
    case FW_SCOPE_SPLIT: return "arm when experiment.budget_split is on, else run";
    case FW_SCOPE_OWN: return "arm when experiment.isolation is per_arm and budget_split on, else run";
    default: return "run";
    }
}

/* Expands one knob into a struct member. */
#define FW_KNOB_FIELD(sec, scope, type, name, def, lo, hi, unit, doc) FW_KNOB_CTYPE_##type name;

/* Expands a value list into enum constants. */
#define FW_KNOB_ENUM_CONST(constant, yaml) constant,

#endif

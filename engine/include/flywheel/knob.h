/* The knob X-macro convention shared by engine and simulator configuration.
 * Owns: nothing; only macros.  Borrows: nothing.  Never touches: parsing (sim/scenario does).
 *
 * A knob list is an X-macro whose entries read
 *     X(section, SCOPE, TYPE, name, default, min, max, unit, "one-line description")
 * section is the list's section (feed, rec, world, ...: the same word on every line of a
 * list, so that generic expansions know where a knob lives: engine.<section>.<name> is
 * fw_engine_cfg.<section>.<name>). SCOPE says who may set the knob: ARM (an experiment arm
 * may give it its own value; the engine reads it per cell) or RUN (one value for the whole
 * run: the engine reads it from the first cell, or from every cell combined, whatever an arm
 * says). TYPE is one of U32, U64, F64, BOOL, STR, ENUM. For ENUM, min is the name of a value
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

/* Who may set a knob (the SCOPE column). */
typedef enum fw_knob_scope {
    FW_SCOPE_ARM = 0,   /* each experiment arm may set its own value */
    FW_SCOPE_RUN        /* one value for the whole run */
} fw_knob_scope;
#define FW_KNOB_SCOPE_ARM FW_SCOPE_ARM
#define FW_KNOB_SCOPE_RUN FW_SCOPE_RUN

/* Expands one knob into a struct member. */
#define FW_KNOB_FIELD(sec, scope, type, name, def, lo, hi, unit, doc) FW_KNOB_CTYPE_##type name;

/* Expands a value list into enum constants. */
#define FW_KNOB_ENUM_CONST(constant, yaml) constant,

#endif

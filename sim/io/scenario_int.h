/* Scenario internals shared with the unit tests only.
 * Owns: nothing.  Borrows: nothing.  Never touches: scenarios; these are pure text checks.
 *
 * No knob list holds a BOOL knob yet, so the BOOL spelling rule (exactly "true" or "false",
 * in a file and in --set alike) is exposed here to be tested before the first one appears. */
#ifndef FLYWHEEL_SCENARIO_INT_H
#define FLYWHEEL_SCENARIO_INT_H

#include <stdbool.h>

/* Parses text as a BOOL knob value into *out. Returns 1 on success, 0 (and leaves *out
 * untouched) for any other spelling: "yes", "1", "True" and friends are rejected on purpose,
 * so a file means the same thing to every YAML reader. */
int fw_scenario_parse_bool(const char *text, bool *out);

#endif

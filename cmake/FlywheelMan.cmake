# Writes the man page OUT (roff) from the program's own help: `FLYWHEEL --help` and each
# command's --help, so the page says what the program says. Run at build time:
#   cmake -DFLYWHEEL=path/to/flywheel -DOUT=flywheel.1 -DVERSION=x.y.z -P FlywheelMan.cmake
function(fw_help out)
  execute_process(COMMAND ${FLYWHEEL} ${ARGN} --help OUTPUT_VARIABLE text RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${FLYWHEEL} ${ARGN} --help failed (${rc})")
  endif()
  # roff: a backslash is \e; a line starting with . or ' would be a request: \& first.
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

fw_help(main)
string(TIMESTAMP date "%Y-%m-%d" UTC)   # SOURCE_DATE_EPOCH, when set, fixes it
set(page ".TH FLYWHEEL 1 \"${date}\" \"flywheel ${VERSION}\" \"User Commands\"\n")
string(APPEND page ".SH NAME\nflywheel \\- simulate a content-commerce platform and record what happened to HDF5\n")
string(APPEND page ".SH SYNOPSIS\n.B flywheel\n.I COMMAND\n[\\fIoptions\\fR]\n")
string(APPEND page ".SH DESCRIPTION\n.nf\n${main}.fi\n")
foreach(cmd run validate generate bench report)
  fw_help(text ${cmd})
  string(TOUPPER ${cmd} up)
  string(APPEND page ".SH \"FLYWHEEL ${up}\"\n.nf\n${text}.fi\n")
endforeach()
string(APPEND page ".SH FILES\n.TP\n.I share/flywheel/scenarios/\nthe scenarios; default.yaml lists every knob\n")
string(APPEND page ".TP\n.I lib/flywheel/policies/\nthe example ranker and bidder plug-ins (engine.feed.algorithm: plugin, engine.ads.bidder: plugin; flywheel/policy.h)\n")
string(APPEND page ".SH SEE ALSO\nREADME.md and docs/ARCHITECTURE.md in the source tree; pkg-config flywheel.\n")
file(WRITE ${OUT}.tmp "${page}")
file(RENAME ${OUT}.tmp ${OUT})

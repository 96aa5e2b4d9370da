# Writes IN (the systemd unit template) as a C string to OUT for cli/cmd_service.c
# (included by CMakeLists.txt at configure time),
# so the unit mm service install writes and the one cmake --install puts in
# place are one text.
file(READ ${IN} hex HEX)
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
file(WRITE ${OUT}.tmp "/* generated from cli/mm-serve.service.in: do not edit */\n"
     "static const char unit_template[] = { ${bytes} 0x00 };\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)

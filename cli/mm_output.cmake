# Run mm with up to two arguments and write its stdout to OUT, whole or
# not at all: cmake -DMM=path/to/mm -DARG1=.. [-DARG2=..] -DOUT=file -P this
execute_process(COMMAND ${MM} ${ARG1} ${ARG2}
                OUTPUT_FILE ${OUT}.tmp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  file(REMOVE ${OUT}.tmp)
  message(FATAL_ERROR "mm ${ARG1} ${ARG2} failed (${rc})")
endif()
file(RENAME ${OUT}.tmp ${OUT})

# Writes a C++ header that holds a file's bytes as a string literal, so the binary serves it without
# reading anything at run time (the status page). No xxd: file(READ ... HEX) does the work.
#   cmake -DINPUT=page.html -DOUTPUT=page_html.h -DNAMESPACE=sluice::admin::embedded
#         -DSYMBOL=kStatusPageHtml -P embed_file.cmake
# The header defines `inline constexpr char SYMBOL[]` (the bytes plus a terminating NUL) and
# `inline constexpr size_t SYMBOL_size` (the byte count, without the NUL).
foreach(var INPUT OUTPUT NAMESPACE SYMBOL)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "embed_file.cmake: -D${var}= is required")
    endif()
endforeach()

file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
# Every byte as a \xHH escape inside string literals of 32 bytes a line (adjacent literals are
# concatenated): a char array initialised from numbers above 127 would be a narrowing error.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "\\\\x\\1" bytes "${hex}")
string(REGEX REPLACE "((\\\\x[0-9a-f][0-9a-f]){32})" "\\1\"\n    \"" bytes "${bytes}")
get_filename_component(input_name "${INPUT}" NAME)

set(text "#pragma once\n// Generated from ${input_name} by cmake/embed_file.cmake at build time: do not edit.\n\n")
string(APPEND text "#include <cstddef>\n\nnamespace ${NAMESPACE} {\n\n")
string(APPEND text "inline constexpr char ${SYMBOL}[] =\n    \"${bytes}\";\n")
string(APPEND text "inline constexpr std::size_t ${SYMBOL}_size = ${size};\n\n}  // namespace ${NAMESPACE}\n")

# Rewrite only on change, so an unchanged page does not recompile its users.
if(EXISTS "${OUTPUT}")
    file(READ "${OUTPUT}" old)
    if(old STREQUAL text)
        return()
    endif()
endif()
file(WRITE "${OUTPUT}" "${text}")

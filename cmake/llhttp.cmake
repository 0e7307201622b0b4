# Builds Node.js's llhttp parser (Debian package node-llhttp ships its C
# sources, not a library) as the static target overlap_llhttp.
include_guard(GLOBAL)

set(OVERLAP_LLHTTP_SOURCE_DIR "/usr/share/llhttp" CACHE PATH
  "Directory holding llhttp's api.c, http.c and llhttp.c")
set(OVERLAP_LLHTTP_INCLUDE_DIR "/usr/share/include/llhttp" CACHE PATH
  "Directory holding llhttp.h")

set(_overlap_llhttp_sources
  ${OVERLAP_LLHTTP_SOURCE_DIR}/api.c
  ${OVERLAP_LLHTTP_SOURCE_DIR}/http.c
  ${OVERLAP_LLHTTP_SOURCE_DIR}/llhttp.c)
foreach(_f IN LISTS _overlap_llhttp_sources ITEMS ${OVERLAP_LLHTTP_INCLUDE_DIR}/llhttp.h)
  if(NOT EXISTS ${_f})
    message(FATAL_ERROR "llhttp not found (${_f} is missing): "
      "install node-llhttp: run scripts/install-deps.sh")
  endif()
endforeach()

if(NOT TARGET overlap_llhttp)
  add_library(overlap_llhttp STATIC ${_overlap_llhttp_sources})
  set_target_properties(overlap_llhttp PROPERTIES
    POSITION_INDEPENDENT_CODE ON
    C_STANDARD 99
    LINKER_LANGUAGE C)
  # Third-party code: its header is a SYSTEM include so our -Wall -Werror
  # never fires on it, and overlap_warnings() is deliberately not applied.
  target_include_directories(overlap_llhttp SYSTEM PUBLIC ${OVERLAP_LLHTTP_INCLUDE_DIR})
endif()

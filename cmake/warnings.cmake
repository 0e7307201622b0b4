# Warnings for first-party targets; -Werror in developer presets (OVERLAP_WERROR).
function(overlap_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    -Wnon-virtual-dtor -Wold-style-cast -Wcast-align -Woverloaded-virtual
    -Wimplicit-fallthrough)
  if(OVERLAP_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()

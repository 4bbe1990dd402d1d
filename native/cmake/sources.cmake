# Shared by native/CMakeLists.txt and native/fuzz/CMakeLists.txt.

# Reads the addon's source list from scripts/native-sources.mjs (the one list binding.gyp also expands) into
# OUT as absolute paths. FLAG is "" for all sources or "--core" for the napi-free core. Re-runs configure
# when a source directory changes, so new files are picked up without editing any list.
function(sw_read_sources root out flag)
  execute_process(
    COMMAND node scripts/native-sources.mjs ${flag}
    WORKING_DIRECTORY "${root}"
    OUTPUT_VARIABLE raw
    OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
  string(REPLACE "\n" ";" rel "${raw}")
  set(abs "")
  foreach(f ${rel})
    if(f)
      list(APPEND abs "${root}/${f}")
    endif()
  endforeach()
  # A directory's mtime changes when a file is added or removed in it: watching the directories makes the
  # build reconfigure (and re-read the list) by itself.
  set(watch "${root}/scripts/native-sources.mjs" "${root}/native/core" "${root}/native/binding")
  file(GLOB_RECURSE subdirs LIST_DIRECTORIES true "${root}/native/core/*" "${root}/native/binding/*")
  foreach(d ${subdirs})
    if(IS_DIRECTORY "${d}")
      list(APPEND watch "${d}")
    endif()
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${watch})
  set(${out} "${abs}" PARENT_SCOPE)
endfunction()

# Registers a short libFuzzer run of BINARY over its seed corpus (native/fuzz/corpus/NAME, if any) as a
# ctest test: a few seconds, enough for CI to catch a crash on the seeds and their near mutations.
set(SW_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")
function(sw_add_fuzz_test name binary)
  set(corpus "${SW_CMAKE_DIR}/../fuzz/corpus/${name}")
  set(args -max_total_time=3 -rss_limit_mb=1024 -print_final_stats=0)
  # New inputs go to a scratch corpus in the build tree (libFuzzer writes into its first directory); the
  # checked-in seeds are read-only input.
  set(scratch "${CMAKE_CURRENT_BINARY_DIR}/fuzz-corpus/${name}")
  file(MAKE_DIRECTORY "${scratch}")
  if(EXISTS "${corpus}")
    add_test(NAME fuzz_${name} COMMAND "${binary}" ${args} "${scratch}" "${corpus}")
  else()
    add_test(NAME fuzz_${name} COMMAND "${binary}" ${args} "${scratch}")
  endif()
endfunction()

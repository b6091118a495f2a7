# The WebAssembly module: an ES-module loader (.mjs) plus its .wasm (and, for
# the threaded variant, the pthread worker script), named cnn-st or cnn-mt.
if(CNN_WASM_THREADS)
  set(CNN_WASM_NAME cnn-mt)
else()
  set(CNN_WASM_NAME cnn-st)
endif()

# The bindings are compiled once and linked into each module below.
add_library(cnn_bindings OBJECT ${CMAKE_SOURCE_DIR}/bindings/embind.cpp)
target_link_libraries(cnn_bindings PRIVATE cnn_core)
target_compile_options(cnn_bindings PRIVATE -Wall -Wextra)

# A module named `name` from the bindings, the given kernel objects and the engine.
function(cnn_add_wasm_module target name)
  # Emscripten 3.1.6 emits CommonJS idioms into ES modules and reaches for
  # fetch() in Node; two small scripts fix both (see shared/notes/toolchain.md).
  # The second names the module's own .wasm.
  set(CNN_WASM_NAME ${name})
  set(node_wasm_binary ${CMAKE_BINARY_DIR}/${name}.node_wasm_binary.js)
  configure_file(${CMAKE_SOURCE_DIR}/bindings/node_wasm_binary.js.in ${node_wasm_binary} @ONLY)
  add_executable(${target} $<TARGET_OBJECTS:cnn_bindings> ${ARGN})
  target_link_libraries(${target} PRIVATE cnn_core)
  set_target_properties(${target} PROPERTIES OUTPUT_NAME ${name} SUFFIX ".mjs")
  target_link_options(${target} PRIVATE
    # No eval or new Function in the glue (embind's slower, eval-free path), so
    # the page runs under a Content-Security-Policy without 'unsafe-eval'.
    -lembind -sDYNAMIC_EXECUTION=0 -sMODULARIZE=1 -sEXPORT_NAME=createCnnModule -sEXPORT_ES6=1
    -sENVIRONMENT=web,worker,node
    "SHELL:--extern-pre-js ${CMAKE_SOURCE_DIR}/bindings/node_esm_shim.js"
    "SHELL:--pre-js ${node_wasm_binary}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS
    ${CMAKE_SOURCE_DIR}/bindings/node_esm_shim.js ${node_wasm_binary})
  if(CNN_WASM_THREADS)
    # Emscripten 3.1.6 starts pthread workers as classic workers; bundlers need
    # module workers. The patch runs after every relink.
    add_custom_command(TARGET ${target} POST_BUILD
      COMMAND ${NODE_EXE} ${CMAKE_SOURCE_DIR}/bindings/patch_pthread_worker.mjs $<TARGET_FILE:${target}>
      VERBATIM)
  endif()
endfunction()

# After each link of a target built over cnn_kernels_relaxed: LLVM 14's
# prototype f32x4.fma in its .wasm becomes the standard f32x4.relaxed_madd.
function(cnn_patch_relaxed_simd target wasm_file)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND ${NODE_EXE} ${CMAKE_SOURCE_DIR}/bindings/patch_relaxed_simd.mjs ${wasm_file}
    VERBATIM)
endfunction()

find_program(NODE_EXE NAMES node nodejs REQUIRED)
cnn_add_wasm_module(cnn_wasm ${CNN_WASM_NAME})
if(CNN_WASM_RELAXED_SIMD)
  # The same module with the kernels' multiply-adds fused (relaxed SIMD's
  # f32x4.relaxed_madd); the loader picks it where the engine validates it.
  # Its kernel objects come first in the link, so the archive's own SSE4.1
  # kernels (the same symbols) are never pulled in.
  cnn_add_wasm_module(cnn_wasm_relaxed ${CNN_WASM_NAME}-relaxed $<TARGET_OBJECTS:cnn_kernels_relaxed>)
  cnn_patch_relaxed_simd(cnn_wasm_relaxed $<TARGET_FILE_DIR:cnn_wasm_relaxed>/${CNN_WASM_NAME}-relaxed.wasm)
endif()

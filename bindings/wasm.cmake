# The WebAssembly module: an ES-module loader (.mjs) plus its .wasm (and, for
# the threaded variant, the pthread worker script), named cnn-st or cnn-mt.
if(CNN_WASM_THREADS)
  set(CNN_WASM_NAME cnn-mt)
else()
  set(CNN_WASM_NAME cnn-st)
endif()

# Emscripten 3.1.6 emits CommonJS idioms into ES modules and reaches for
# fetch() in Node; two small scripts fix both (see shared/notes/toolchain.md).
configure_file(${CMAKE_SOURCE_DIR}/bindings/node_wasm_binary.js.in
               ${CMAKE_BINARY_DIR}/node_wasm_binary.js @ONLY)

add_executable(cnn_wasm ${CMAKE_SOURCE_DIR}/bindings/embind.cpp)
target_link_libraries(cnn_wasm PRIVATE cnn_core)
target_compile_options(cnn_wasm PRIVATE -Wall -Wextra)
set_target_properties(cnn_wasm PROPERTIES OUTPUT_NAME ${CNN_WASM_NAME} SUFFIX ".mjs")
target_link_options(cnn_wasm PRIVATE
  # No eval or new Function in the glue (embind's slower, eval-free path), so
  # the page runs under a Content-Security-Policy without 'unsafe-eval'.
  -lembind -sDYNAMIC_EXECUTION=0 -sMODULARIZE=1 -sEXPORT_NAME=createCnnModule -sEXPORT_ES6=1
  -sENVIRONMENT=web,worker,node
  "SHELL:--extern-pre-js ${CMAKE_SOURCE_DIR}/bindings/node_esm_shim.js"
  "SHELL:--pre-js ${CMAKE_BINARY_DIR}/node_wasm_binary.js")
set_property(TARGET cnn_wasm APPEND PROPERTY LINK_DEPENDS
  ${CMAKE_SOURCE_DIR}/bindings/node_esm_shim.js ${CMAKE_BINARY_DIR}/node_wasm_binary.js)

if(CNN_WASM_THREADS)
  # Emscripten 3.1.6 starts pthread workers as classic workers; bundlers need
  # module workers. The patch runs after every relink.
  find_program(NODE_EXE NAMES node nodejs REQUIRED)
  add_custom_command(TARGET cnn_wasm POST_BUILD
    COMMAND ${NODE_EXE} ${CMAKE_SOURCE_DIR}/bindings/patch_pthread_worker.mjs $<TARGET_FILE:cnn_wasm>
    VERBATIM)
endif()

# gemma4rt_httplib(<target> <Serve.cpp> <source-dir>): compiles the HTTP
# server (--serve) with cpp-httplib's header-only httplib.h when it is in
# GEMMA4C_HTTPLIB_INCLUDE (scripts/fetch-httplib.sh puts Debian's in
# <source-dir>/.cache/httplib/include, a directory holding nothing else, so
# the AArch64 runtime can use it too); otherwise --serve says the runtime
# lacks it. Debian's installed /usr/include/httplib.h (libcpp-httplib-dev)
# only declares what its shared library defines, and is refused.
function(gemma4rt_httplib target source srcdir)
  set(GEMMA4C_HTTPLIB_INCLUDE ${srcdir}/.cache/httplib/include CACHE PATH
      "Directory holding cpp-httplib's header-only httplib.h (scripts/fetch-httplib.sh)")
  set(_h ${GEMMA4C_HTTPLIB_INCLUDE}/httplib.h)
  if(NOT EXISTS ${_h})
    message(WARNING "${target}: no ${_h}: models will be built without --serve "
                    "(run scripts/fetch-httplib.sh, then cmake again)")
    return()
  endif()
  file(STRINGS ${_h} _impl REGEX "^inline bool Server::listen_internal\\(\\)" LIMIT_COUNT 1)
  if(NOT _impl)
    message(WARNING "${target}: ${_h} is not cpp-httplib's header-only form (Debian's "
                    "libcpp-httplib-dev header needs its shared library): no --serve")
    return()
  endif()
  file(STRINGS ${_h} _ver REGEX "^#define CPPHTTPLIB_VERSION" LIMIT_COUNT 1)
  # -isystem: the header's own warnings are not ours.
  set_property(SOURCE ${source} APPEND PROPERTY COMPILE_OPTIONS -isystem ${GEMMA4C_HTTPLIB_INCLUDE})
  set_property(SOURCE ${source} APPEND PROPERTY COMPILE_DEFINITIONS GEMMA4RT_HAVE_HTTPLIB)
  set_property(SOURCE ${source} APPEND PROPERTY OBJECT_DEPENDS ${_h})
  message(STATUS "${target}: HTTP server with ${_h} (${_ver})")
endfunction()

# gemma4rt_vulkan_headers(<target> <VulkanDevice.cpp>): compiles the Vulkan
# device with the Vulkan headers (types only: the loader is dlopen'ed) when
# they are found, else it only says the runtime lacks Vulkan.
option(GEMMA4RT_WITH_VULKAN "Build the runtime's Vulkan device when vulkan_core.h is found" ON)
function(gemma4rt_vulkan_headers target source)
  if(GEMMA4RT_WITH_VULKAN)
    find_path(GEMMA4RT_VULKAN_INCLUDE_DIR vulkan/vulkan_core.h HINTS $ENV{VULKAN_SDK}/include
              NO_CMAKE_FIND_ROOT_PATH)
  endif()
  if(NOT GEMMA4RT_WITH_VULKAN OR NOT GEMMA4RT_VULKAN_INCLUDE_DIR)
    message(STATUS "${target}: no Vulkan device (no vulkan/vulkan_core.h, or GEMMA4RT_WITH_VULKAN=OFF)")
    return()
  endif()
  set(_only ${CMAKE_CURRENT_BINARY_DIR}/vulkan-include)
  file(MAKE_DIRECTORY ${_only})
  foreach(d vulkan vk_video)
    if(EXISTS ${GEMMA4RT_VULKAN_INCLUDE_DIR}/${d} AND NOT EXISTS ${_only}/${d})
      file(CREATE_LINK ${GEMMA4RT_VULKAN_INCLUDE_DIR}/${d} ${_only}/${d} SYMBOLIC)
    endif()
  endforeach()
  set_property(SOURCE ${source} APPEND PROPERTY INCLUDE_DIRECTORIES ${_only})
  set_property(SOURCE ${source} APPEND PROPERTY COMPILE_DEFINITIONS GEMMA4RT_HAVE_VULKAN)
  message(STATUS "${target}: Vulkan device with ${GEMMA4RT_VULKAN_INCLUDE_DIR}/vulkan/vulkan_core.h")
endfunction()

# Installed layout and the Debian package (CPack, DEB generator), built by scripts/package:
#   /usr/bin/imagegate, /usr/share/man/man1/imagegate.1.gz (from --help, by help2man),
#   /usr/share/imagegate/*.schema.json, /usr/share/doc/imagegate/{README.md,copyright,changelog.gz}.
# Depends comes from the binary's shared libraries (dpkg-shlibdeps), never from a hand-kept list.

include(GNUInstallDirs)

install(FILES ${IMAGEGATE_SCHEMAS} DESTINATION ${CMAKE_INSTALL_DATADIR}/imagegate)
set(IMAGEGATE_DOC_DIR ${CMAKE_INSTALL_DATADIR}/doc/imagegate)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/cmake/debian/copyright
        DESTINATION ${IMAGEGATE_DOC_DIR})

# Debian versions compare the part after '+' too, so every commit gets its own package version.
set(IMAGEGATE_PACKAGE_VERSION "${PROJECT_VERSION}+g${IMAGEGATE_GIT_COMMIT}")
set(IMAGEGATE_MAINTAINER "imagegate maintainers <maintainers@imagegate.invalid>"
    CACHE STRING "Maintainer field of the Debian package")

# Debian policy: a native package's changelog is /usr/share/doc/<package>/changelog.gz, and it
# and the man page are compressed with gzip -9n (no name, no time: reproducible).
# Dated by the commit, so the same commit always gives the same changelog.
execute_process(COMMAND git log -1 --format=%cD HEAD WORKING_DIRECTORY ${CMAKE_SOURCE_DIR}
                OUTPUT_VARIABLE IMAGEGATE_CHANGELOG_DATE OUTPUT_STRIP_TRAILING_WHITESPACE
                ERROR_QUIET)
if(NOT IMAGEGATE_CHANGELOG_DATE)
  string(TIMESTAMP IMAGEGATE_CHANGELOG_DATE "%a, %d %b %Y %H:%M:%S +0000" UTC)
endif()
configure_file(${CMAKE_SOURCE_DIR}/cmake/debian/changelog.in ${CMAKE_BINARY_DIR}/debian/changelog
               @ONLY)
add_custom_command(
  OUTPUT ${CMAKE_BINARY_DIR}/debian/changelog.gz
  COMMAND gzip -9nc ${CMAKE_BINARY_DIR}/debian/changelog > ${CMAKE_BINARY_DIR}/debian/changelog.gz
  DEPENDS ${CMAKE_BINARY_DIR}/debian/changelog
  VERBATIM)
set(IMAGEGATE_PACKAGE_FILES ${CMAKE_BINARY_DIR}/debian/changelog.gz)
install(FILES ${CMAKE_BINARY_DIR}/debian/changelog.gz DESTINATION ${IMAGEGATE_DOC_DIR} OPTIONAL)

# The man page is the binary's own --help (so it cannot drift); only built where help2man is
# installed (scripts/bootstrap installs it for scripts/package), so a plain build needs nothing more.
find_program(HELP2MAN help2man)
if(HELP2MAN)
  set(IMAGEGATE_MAN ${CMAKE_BINARY_DIR}/man/imagegate.1)
  add_custom_command(
    OUTPUT ${IMAGEGATE_MAN}.gz
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/man
    COMMAND sh ${CMAKE_SOURCE_DIR}/cmake/manpage.sh $<TARGET_FILE:imagegate> ${IMAGEGATE_MAN}
            ${PROJECT_VERSION}
    DEPENDS imagegate ${CMAKE_SOURCE_DIR}/cmake/manpage.sh
    VERBATIM)
  list(APPEND IMAGEGATE_PACKAGE_FILES ${IMAGEGATE_MAN}.gz)
  install(FILES ${IMAGEGATE_MAN}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 OPTIONAL)
endif()
add_custom_target(package_files ALL DEPENDS ${IMAGEGATE_PACKAGE_FILES})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME imagegate)
set(CPACK_PACKAGE_VERSION ${IMAGEGATE_PACKAGE_VERSION})
set(CPACK_PACKAGE_CONTACT ${IMAGEGATE_MAINTAINER})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "deterministic container deploys: gate, pin and verify images")
set(CPACK_PACKAGE_DESCRIPTION
    "imagegate checks an images manifest, prints the tags and build matrix it\n\
defines, gates a deploy on every image being pushed with every tag on one\n\
digest (AWS ECR, any OCI registry or an OCI layout on disk), pins a task\n\
definition to the verified digests and verifies that an ECS service runs\n\
exactly them. Every command fails closed.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ
    GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # imagegate_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SECTION utils)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS ca-certificates) # https registries and AWS need the CAs
set(CPACK_PACKAGE_DIRECTORY ${CMAKE_BINARY_DIR})
include(CPack)

# deb and rpm packages of sluice (CPack). Included last from the top-level CMakeLists.txt, so every
# target exists by now. Built by scripts/package, proven by scripts/test-packages.
#
# Layout (absolute paths; CPACK_PACKAGING_INSTALL_PREFIX is /usr):
#   /usr/sbin/sluice                    (install rule in src/CMakeLists.txt)
#   /usr/bin/sluicectl                  (only when the sluicectl target exists)
#   /etc/sluice/sluice.toml             default config: deb conffile, rpm %config(noreplace)
#   /etc/logrotate.d/sluice             conffile too
#   /usr/lib/systemd/system/sluice.service
#   /usr/lib/sysusers.d/sluice.conf     the sluice system user and group
#   /var/lib/sluice                     state_file directory (owner set by the maintainer scripts)
#   /usr/share/man/man{5,8}/...         sluice(8), sluicectl(8), sluice.toml(5)
#   /usr/share/doc/sluice/              copyright, changelog.gz, changelog.Debian.gz, example config
#   /usr/share/doc/sluice/examples/keepalived/  a keepalived pair (README.md, two nodes, sluice)

set(SLUICE_PKG_DIR ${CMAKE_CURRENT_LIST_DIR})
set(SLUICE_PKG_BUILD_DIR ${CMAKE_BINARY_DIR}/packaging)
set(SLUICE_PKG_RELEASE 1)  # Debian revision / RPM release of this packaging
set(SLUICE_PKG_VERSION "${PROJECT_VERSION}-${SLUICE_PKG_RELEASE}")

# A version bump must come with a changelog entry: the top entries must name this version.
# scripts/package sets SLUICE_PACKAGE=ON and fails on a mismatch; other builds only warn.
set(_mismatch_level WARNING)
if(SLUICE_PACKAGE)
    set(_mismatch_level FATAL_ERROR)
endif()
file(STRINGS ${SLUICE_PKG_DIR}/doc/changelog.Debian _deb_top LIMIT_COUNT 1)
if(NOT _deb_top MATCHES "^sluice \\(${SLUICE_PKG_VERSION}\\) ")
    message(${_mismatch_level} "packaging/doc/changelog.Debian: the first entry must be for "
                               "${SLUICE_PKG_VERSION}, found: ${_deb_top}")
endif()
file(STRINGS ${SLUICE_PKG_DIR}/doc/changelog _top REGEX "^[0-9]" LIMIT_COUNT 1)
if(NOT _top MATCHES "^${PROJECT_VERSION} ")
    message(${_mismatch_level} "packaging/doc/changelog: the first entry must be for "
                               "${PROJECT_VERSION}, found: ${_top}")
endif()

# Man pages and changelogs are shipped gzip -9n (no name, no timestamp: reproducible, lintian).
set(_gz_outputs)
function(sluice_gzip src dst)
    add_custom_command(OUTPUT ${dst}
        COMMAND gzip -9nc ${src} > ${dst}
        DEPENDS ${src}
        COMMENT "gzip ${dst}" VERBATIM)
    set(_gz_outputs ${_gz_outputs} ${dst} PARENT_SCOPE)
endfunction()

set(_man_pages sluice.8 sluice.toml.5)
if(TARGET sluicectl)
    list(APPEND _man_pages sluicectl.8)
    set(_has_sluicectl yes)
else()
    set(_has_sluicectl no)
endif()
# For scripts/package and scripts/test-packages (shell syntax): what this build packages.
file(WRITE ${SLUICE_PKG_BUILD_DIR}/package.env
     "SLUICE_PKG_VERSION=${SLUICE_PKG_VERSION}\nSLUICE_PKG_HAS_SLUICECTL=${_has_sluicectl}\n")
foreach(page IN LISTS _man_pages)
    sluice_gzip(${SLUICE_PKG_DIR}/man/${page} ${SLUICE_PKG_BUILD_DIR}/${page}.gz)
endforeach()
sluice_gzip(${SLUICE_PKG_DIR}/doc/changelog ${SLUICE_PKG_BUILD_DIR}/changelog.gz)
sluice_gzip(${SLUICE_PKG_DIR}/doc/changelog.Debian ${SLUICE_PKG_BUILD_DIR}/changelog.Debian.gz)
add_custom_target(sluice_package_docs ALL DEPENDS ${_gz_outputs})

# ---- install rules (the sluice binary's own rule is in src/CMakeLists.txt) -----------------
set(CMAKE_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

if(TARGET sluicectl)
    # The package picks sluicectl up whenever the target exists. src/CMakeLists.txt may install
    # it as well; the same file installed twice to the same place is harmless.
    install(TARGETS sluicectl RUNTIME DESTINATION bin)
endif()

install(FILES ${SLUICE_PKG_DIR}/sluice.toml DESTINATION /etc/sluice)
install(FILES ${SLUICE_PKG_DIR}/logrotate/sluice DESTINATION /etc/logrotate.d)
install(FILES ${SLUICE_PKG_DIR}/systemd/sluice.service DESTINATION lib/systemd/system)
install(FILES ${SLUICE_PKG_DIR}/systemd/sluice.sysusers DESTINATION lib/sysusers.d
        RENAME sluice.conf)
install(DIRECTORY DESTINATION /var/lib/sluice)

foreach(page IN LISTS _man_pages)
    string(REGEX MATCH "[0-9]$" section ${page})
    install(FILES ${SLUICE_PKG_BUILD_DIR}/${page}.gz DESTINATION share/man/man${section})
endforeach()

install(FILES ${SLUICE_PKG_DIR}/doc/copyright
              ${SLUICE_PKG_BUILD_DIR}/changelog.gz
              ${SLUICE_PKG_BUILD_DIR}/changelog.Debian.gz
        DESTINATION share/doc/sluice)
install(FILES ${PROJECT_SOURCE_DIR}/conf/sluice.toml DESTINATION share/doc/sluice/examples)
install(DIRECTORY ${SLUICE_PKG_DIR}/examples/keepalived DESTINATION share/doc/sluice/examples)

# ---- common package metadata ------------------------------------------------------------------
set(CPACK_PACKAGE_NAME sluice)
set(CPACK_PACKAGE_VENDOR "the sluice authors")
set(CPACK_PACKAGE_CONTACT "sluice authors <maintainers@sluice.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "L4/L7 reverse proxy load balancer")
# Extended description: lines of at most 80 characters (deb control format, lintian).
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
    "sluice spreads HTTP/1.1 requests (L7) and TCP connections (L4) over pools of"
    "upstream servers. It is meant for the front of web applications, such as Django"
    "behind Gunicorn: strict HTTP parsing, keep-alive to clients and to the servers,"
    "X-Forwarded-* headers, request ids and access logs, and a graceful stop that"
    "lets in-flight requests finish."
    ""
    "Its TOML configuration is checked before use (sluice -t) and every error is"
    "reported with its file, line and column. One process runs one event loop per"
    "CPU core."
    ""
    "This package runs sluice as a hardened systemd service under its own system"
    "user, with a default configuration that proxies port 80 to 127.0.0.1:8000.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR "DEB;RPM")

# ---- deb ----------------------------------------------------------------------------------------
find_program(SLUICE_DPKG dpkg)
if(SLUICE_DPKG)
    execute_process(COMMAND ${SLUICE_DPKG} --print-architecture
                    OUTPUT_VARIABLE CPACK_DEBIAN_PACKAGE_ARCHITECTURE OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
set(CPACK_DEBIAN_PACKAGE_RELEASE ${SLUICE_PKG_RELEASE})
set(CPACK_DEBIAN_FILE_NAME "sluice_${SLUICE_PKG_VERSION}_${CPACK_DEBIAN_PACKAGE_ARCHITECTURE}.deb")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# libc6, libstdc++6, libgcc-s1 and the exact sonames come from dpkg-shlibdeps (dpkg-dev); the
# floor versions the project supports are stated here.
find_program(SLUICE_DPKG_SHLIBDEPS dpkg-shlibdeps)
if(SLUICE_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS
    "libuv1 (>= 1.44), libssl3, libc-ares2 (>= 1.18), libnghttp2-14 (>= 1.52), libsystemd0, adduser, init-system-helpers (>= 1.54~)")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "logrotate")
# Every file under /etc is a conffile: dpkg keeps an admin's edits on upgrade.
file(WRITE ${SLUICE_PKG_BUILD_DIR}/conffiles "/etc/sluice/sluice.toml\n/etc/logrotate.d/sluice\n")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${SLUICE_PKG_BUILD_DIR}/conffiles
    ${SLUICE_PKG_DIR}/debian/postinst
    ${SLUICE_PKG_DIR}/debian/prerm
    ${SLUICE_PKG_DIR}/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# ---- rpm ----------------------------------------------------------------------------------------
execute_process(COMMAND uname -m OUTPUT_VARIABLE CPACK_RPM_PACKAGE_ARCHITECTURE
                OUTPUT_STRIP_TRAILING_WHITESPACE)
set(CPACK_RPM_PACKAGE_RELEASE ${SLUICE_PKG_RELEASE})
set(CPACK_RPM_PACKAGE_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)  # /etc, /var and the unit are at fixed paths
set(CPACK_RPM_FILE_NAME "sluice-${SLUICE_PKG_VERSION}.${CPACK_RPM_PACKAGE_ARCHITECTURE}.rpm")
set(CPACK_RPM_PACKAGE_LICENSE MIT)
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
# Fedora/RHEL give libuv and openssl-libs an epoch of 1 (c-ares and libnghttp2 none). Sonames come
# from rpm's autoreq.
set(CPACK_RPM_PACKAGE_REQUIRES
    "libuv >= 1:1.44, openssl-libs >= 1:3.0, c-ares >= 1.18, libnghttp2 >= 1.52, systemd-libs")
set(CPACK_RPM_PACKAGE_REQUIRES_PRE "shadow-utils")
set(CPACK_RPM_PACKAGE_SUGGESTS "logrotate")
set(CPACK_RPM_PRE_INSTALL_SCRIPT_FILE ${SLUICE_PKG_DIR}/rpm/pre)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${SLUICE_PKG_DIR}/rpm/post)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${SLUICE_PKG_DIR}/rpm/preun)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${SLUICE_PKG_DIR}/rpm/postun)
set(CPACK_RPM_USER_FILELIST
    "%config(noreplace) /etc/sluice/sluice.toml"
    "%config(noreplace) /etc/logrotate.d/sluice"
    "%dir %attr(0750,sluice,sluice) /var/lib/sluice")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /etc/logrotate.d /usr/sbin /usr/lib/systemd /usr/lib/systemd/system /usr/lib/sysusers.d
    /usr/share/man /usr/share/man/man5 /usr/share/man/man8 /var /var/lib)
# No /usr/lib/.build-id links: the package holds only the files listed above.
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)

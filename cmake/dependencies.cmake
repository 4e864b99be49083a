# Every dependency comes from a Debian package installed by scripts/install-deps.
find_package(Threads REQUIRED)
find_package(OpenSSL 3 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(CURL REQUIRED)
find_package(pugixml REQUIRED)
find_package(GTest REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(ISAL REQUIRED IMPORTED_TARGET libisal)
# The server: Boost.Asio and Boost.Beast (header-only) for HTTP/1.1 over TLS, libxcrypt for
# password hashes (yescrypt), Linux-PAM for the `pam` realm.
find_package(Boost 1.74 REQUIRED)
find_library(CRYPT_LIBRARY crypt REQUIRED)
find_library(PAM_LIBRARY pam REQUIRED)

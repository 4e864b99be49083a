// WebAssets is the web UI as the server serves it: the files of a built web/ (docs/web-ui.md),
// read once at start into memory with a gzip copy of each text file, served at "/" (index.html)
// and by their relative paths. Requests never touch the filesystem, so no request path can
// name a file outside the set (no "..", symlink or NUL tricks to guard against).
//
// Caching: files under assets/ carry a content hash in their names (Vite) and are served as
// immutable for a year; everything else (index.html) must be revalidated (ETag). The pages get
// a strict Content-Security-Policy: the UI loads nothing but its own files and talks to its own
// origin only.
//
// Thread-safety: immutable after Load; Serve is thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "base/result.h"
#include "http/server.h"

namespace cairn::server {

class WebAssets {
 public:
  // Reads every regular file below `dir` (dotfiles left out). NotFound if `dir` has no
  // index.html; InvalidArgument past 4,096 files or 64 MiB (not a web UI build).
  static Result<WebAssets> Load(const std::string& dir);
  // The assets of a server without a built UI: "/" explains how to get one.
  static WebAssets Missing(std::string why);

  // The answer for a GET of one of the files (conditional on If-None-Match, gzip-encoded when
  // the client accepts it), or nullopt if `request` is not a GET of a file of the set.
  std::optional<http::ServerResponse> Serve(const http::ServerRequest& request) const;

  // The size of a file as sent gzip-encoded (as sent if not compressed); 0 if absent.
  size_t CompressedSize(const std::string& path) const;
  const std::string& dir() const { return dir_; }

 private:
  struct File {
    std::string content;
    std::string gzip;  // empty when compression does not pay
    std::string content_type;
    std::string etag;
  };
  std::string dir_;
  std::map<std::string, File> files_;  // by URL path, "/index.html"
};

// Where the built UI is looked for when `cairn server` is given no --web-root: web/ beside the
// executable (a build tree), then ../share/cairn/web relative to it (an installed tree). The
// first that has an index.html; empty if none does.
std::string DefaultWebRoot();

}  // namespace cairn::server

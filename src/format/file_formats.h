// Magic numbers of the PBS on-disk formats (docs/format-blob-and-crypto.md, PBS
// `pbs-datastore/src/file_formats.rs`). Every file or blob Cairn reads or writes starts with one
// of these 8 bytes. Each is the first 8 bytes of the SHA-256 of the ASCII string quoted beside it;
// file_formats_test.cc recomputes them. The names are PBS's, in kConstant style (PBS's
// `UNCOMPRESSED_BLOB_MAGIC_1_0` is `kUncompressedBlobMagic1_0`).
//
// These values are frozen: changing one makes every existing datastore unreadable.
//
// Thread-safety: constants only.
#pragma once

#include <array>
#include <cstdint>

namespace cairn {

using Magic = std::array<uint8_t, 8>;

// "Proxmox Backup uncompressed blob v1.0"
inline constexpr Magic kUncompressedBlobMagic1_0 = {66, 171, 56, 7, 190, 131, 112, 161};
// "Proxmox Backup zstd compressed blob v1.0"
inline constexpr Magic kCompressedBlobMagic1_0 = {49, 185, 88, 66, 111, 182, 163, 127};
// "Proxmox Backup encrypted blob v1.0"
inline constexpr Magic kEncryptedBlobMagic1_0 = {123, 103, 133, 190, 34, 45, 76, 240};
// "Proxmox Backup zstd compressed encrypted blob v1.0"
inline constexpr Magic kEncrComprBlobMagic1_0 = {230, 89, 27, 191, 11, 191, 216, 11};
// "Proxmox Backup fixed sized chunk index v1.0"
inline constexpr Magic kFixedSizedChunkIndex1_0 = {47, 127, 65, 237, 145, 253, 15, 205};
// "Proxmox Backup dynamic sized chunk index v1.0"
inline constexpr Magic kDynamicSizedChunkIndex1_0 = {28, 145, 78, 165, 25, 186, 179, 205};
// "Proxmox Backup Catalog file v1.0"
inline constexpr Magic kProxmoxCatalogFileMagic1_0 = {145, 253, 96, 249, 196, 103, 88, 213};

// Short names used across Cairn's code; the same values as above.
inline constexpr const Magic& kUncompressedBlobMagic = kUncompressedBlobMagic1_0;
inline constexpr const Magic& kCompressedBlobMagic = kCompressedBlobMagic1_0;
inline constexpr const Magic& kEncryptedBlobMagic = kEncryptedBlobMagic1_0;
inline constexpr const Magic& kEncryptedCompressedBlobMagic = kEncrComprBlobMagic1_0;
inline constexpr const Magic& kFixedIndexMagic = kFixedSizedChunkIndex1_0;
inline constexpr const Magic& kDynamicIndexMagic = kDynamicSizedChunkIndex1_0;
inline constexpr const Magic& kCatalogMagic = kProxmoxCatalogFileMagic1_0;

}  // namespace cairn

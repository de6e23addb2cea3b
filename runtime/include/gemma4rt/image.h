//===- image.h - image input: PNG/JPEG decoding, Gemma 4 preprocessing -*- C++ -*-===//
//
// What transformers' Gemma 4 image processor does to a picture before the
// vision tower sees it (docs/multimodal.md):
//   decode (PNG with libpng, JPEG with libjpeg-turbo, linked statically),
//   convert to RGB (alpha composited onto white, as transformers'
//   convert_to_rgb does), resize preserving the aspect ratio to the largest
//   size whose patches fit the soft-token budget and whose sides are
//   multiples of pooling_kernel * patch (bicubic, antialiased), rescale by
//   1/255, and cut into patch x patch squares (values ordered row, column,
//   channel) with their (x, y) grid positions.
// Bad input (unreadable, truncated or corrupt file, unsupported format) is
// an Error whose one-line message starts with the file name.
//
//===----------------------------------------------------------------------===//
#ifndef GEMMA4RT_IMAGE_H
#define GEMMA4RT_IMAGE_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace gemma4rt {

/// 8-bit pixels, rows top to bottom, channels interleaved: 1 gray,
/// 2 gray + alpha, 3 RGB, 4 RGBA.
struct Image {
  int height = 0;
  int width = 0;
  int channels = 0;
  std::vector<uint8_t> pixels;
  uint8_t at(int y, int x, int c) const {
    return pixels[(size_t(y) * size_t(width) + size_t(x)) * size_t(channels) + size_t(c)];
  }
};

/// Whether PNG/JPEG decoding is built into this runtime (Debian's static
/// libpng and libjpeg-turbo were found when it was built).
bool imageCodecsAvailable();

/// Decodes PNG or JPEG, recognised by content. `name` (the file name) starts
/// every error message.
Image decodeImage(const uint8_t *data, size_t size, const std::string &name);

/// Reads and decodes an image file.
Image readImageFile(const std::string &path);

/// transformers' convert_to_rgb: RGB as is; everything else through RGBA
/// alpha-composited onto opaque white (Pillow's integer arithmetic). What
/// the processor does to an image handed to it.
Image toRGB(const Image &image);

/// Pillow's convert("RGB"): gray replicated, alpha dropped.
Image dropAlpha(const Image &image);

/// The EXIF orientation (1..8) of a JPEG, 1 when it has none.
int exifOrientation(const uint8_t *data, size_t size);

/// Pillow's ImageOps.exif_transpose for an orientation 1..8.
Image applyOrientation(const Image &image, int orientation);

/// transformers' load_image on a file: decode, EXIF orientation applied,
/// convert("RGB"). What the processor sees when a chat names an image file
/// (the --image path).
Image loadImageFile(const std::string &path);

/// How the resize rounds: transformers' default (torchvision) backend and
/// its PIL backend differ in the last bit on some pixels.
enum class ResizeKernel {
  FloatBicubic, ///< float32 weights and sums, rounded once at the end
  Int16Bicubic, ///< torch's uint8 kernel: int16 weights, uint8 between passes
  PilBicubic,   ///< Pillow: 22-bit fixed-point weights, uint8 between passes
};

/// Antialiased bicubic (a = -0.5) resize of an image of any channel count.
Image resizeBicubic(const Image &image, int height, int width, ResizeKernel kernel);

struct ImageParams {
  int patchSize = 16;
  int maxSoftTokens = 280;  ///< 70, 140, 280, 560 or 1120
  int poolingKernel = 3;
  double rescaleFactor = 1.0 / 255.0;
  ResizeKernel kernel = ResizeKernel::Int16Bicubic;
};

/// The processor's target size for an image of h x w: throws Error naming
/// `name` when the image cannot be fitted (a 0 x 0 result).
std::pair<int, int> imageTargetSize(int height, int width, const ImageParams &p,
                                    const std::string &name);

/// The vision tower's input for one image.
struct ImagePatches {
  int height = 0, width = 0;     ///< the resized image
  int64_t numPatches = 0;        ///< (height / patch) * (width / patch)
  int64_t numSoftTokens = 0;     ///< numPatches / poolingKernel^2
  int64_t patchDim = 0;          ///< patch * patch * 3
  std::vector<float> values;     ///< [numPatches, patchDim]
  std::vector<int32_t> positions; ///< [numPatches, 2]: (x, y) patch coordinates
};

/// RGB conversion, resize, rescale and patches, as the processor does.
ImagePatches preprocessImage(const Image &image, const ImageParams &p, const std::string &name);

} // namespace gemma4rt

#endif

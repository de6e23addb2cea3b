//===- Image.cpp - PNG/JPEG decoding and Gemma 4 image preprocessing ------===//
//
// The decoders use libpng and libjpeg-turbo through their C APIs, whose
// errors longjmp: each decode runs in a function that keeps only plain C
// state across setjmp and turns a failure into a message, then the caller
// throws. See image.h and docs/multimodal.md for the preprocessing.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/image.h"
#include "gemma4rt/error.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>

#ifdef GEMMA4RT_HAVE_IMAGE_CODECS
#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#endif

namespace gemma4rt {

namespace {

/// Pillow refuses images above twice its decompression-bomb limit; so do we
/// (and it bounds the allocation a hostile header can ask for).
constexpr uint64_t kMaxPixels = 2ull * 89478485ull;

struct Decoded {
  int height = 0, width = 0, channels = 0;
  unsigned char *pixels = nullptr; // malloc'd
  char error[256] = {0};
};

#ifdef GEMMA4RT_HAVE_IMAGE_CODECS

// ---- PNG ----

struct PngSource {
  const uint8_t *data;
  size_t size, pos;
  Decoded *out;
};

void pngRead(png_structp png, png_bytep dst, png_size_t n) {
  auto *src = static_cast<PngSource *>(png_get_io_ptr(png));
  if (n > src->size - src->pos)
    png_error(png, "truncated file");
  std::memcpy(dst, src->data + src->pos, n);
  src->pos += n;
}

void pngError(png_structp png, png_const_charp msg) {
  auto *src = static_cast<PngSource *>(png_get_error_ptr(png));
  std::snprintf(src->out->error, sizeof src->out->error, "%s", msg);
  png_longjmp(png, 1);
}

void pngWarning(png_structp, png_const_charp) {}

// Plain C state only between setjmp and the end (longjmp skips destructors).
bool decodePng(const uint8_t *data, size_t size, Decoded *out) {
  PngSource src{data, size, 0, out};
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, pngError, pngWarning);
  if (!png) {
    std::snprintf(out->error, sizeof out->error, "out of memory");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  png_bytep *volatile rows = nullptr; // read after a longjmp
  if (!info || setjmp(png_jmpbuf(png))) {
    std::free(rows);
    std::free(out->pixels);
    out->pixels = nullptr;
    if (!out->error[0])
      std::snprintf(out->error, sizeof out->error, "corrupt PNG");
    png_destroy_read_struct(&png, info ? &info : nullptr, nullptr);
    return false;
  }
  png_set_read_fn(png, &src, pngRead);
  png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
  png_read_info(png, info);
  png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
  int depth = png_get_bit_depth(png, info), color = png_get_color_type(png, info);
  if (uint64_t(w) * h > kMaxPixels) {
    std::snprintf(out->error, sizeof out->error, "image of %ux%u pixels is too large", unsigned(w),
                  unsigned(h));
    png_longjmp(png, 1);
  }
  // As Pillow decodes: palette expanded (its tRNS as alpha), low bit depths
  // expanded to 8 bits, 16-bit samples reduced to their high byte; no gamma.
  bool gray16 = depth == 16 && color == PNG_COLOR_TYPE_GRAY &&
                !png_get_valid(png, info, PNG_INFO_tRNS);
  if (color == PNG_COLOR_TYPE_PALETTE)
    png_set_palette_to_rgb(png);
  if (color == PNG_COLOR_TYPE_GRAY && depth < 8)
    png_set_expand_gray_1_2_4_to_8(png);
  if (png_get_valid(png, info, PNG_INFO_tRNS))
    png_set_tRNS_to_alpha(png);
  if (depth == 16 && !gray16)
    png_set_strip_16(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  int channels = png_get_channels(png, info);
  size_t rowBytes = png_get_rowbytes(png, info);
  out->pixels = static_cast<unsigned char *>(std::malloc(rowBytes * h));
  rows = static_cast<png_bytep *>(std::malloc(sizeof(png_bytep) * h));
  if (!out->pixels || !rows) {
    std::snprintf(out->error, sizeof out->error, "out of memory");
    png_longjmp(png, 1);
  }
  for (png_uint_32 y = 0; y < h; ++y)
    rows[y] = out->pixels + y * rowBytes;
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  std::free(rows);
  png_destroy_read_struct(&png, &info, nullptr);
  if (gray16) {
    // Pillow reads 16-bit gray as mode I;16, which converts to 8 bits by
    // clipping at 255 (not by scaling).
    size_t n = size_t(w) * h;
    for (size_t i = 0; i < n; ++i) {
      unsigned v = (unsigned(out->pixels[2 * i]) << 8) | out->pixels[2 * i + 1];
      out->pixels[i] = static_cast<unsigned char>(v > 255 ? 255 : v);
    }
    channels = 1;
  }
  out->height = int(h);
  out->width = int(w);
  out->channels = channels;
  return true;
}

// ---- JPEG ----

struct JpegError {
  jpeg_error_mgr mgr;
  jmp_buf jump;
  Decoded *out;
  bool truncated;
};

void jpegErrorExit(j_common_ptr cinfo) {
  auto *err = reinterpret_cast<JpegError *>(cinfo->err);
  char buf[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, buf);
  std::snprintf(err->out->error, sizeof err->out->error, "%s", buf);
  std::longjmp(err->jump, 1);
}

void jpegMessage(j_common_ptr cinfo, int level) {
  auto *err = reinterpret_cast<JpegError *>(cinfo->err);
  // Pillow refuses a truncated JPEG ("image file is truncated"); libjpeg
  // only warns and pads it with gray.
  if (level < 0 && err->mgr.msg_code == JWRN_JPEG_EOF)
    err->truncated = true;
}

bool decodeJpeg(const uint8_t *data, size_t size, Decoded *out) {
  jpeg_decompress_struct cinfo;
  JpegError err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = jpegErrorExit;
  err.mgr.emit_message = jpegMessage;
  err.out = out;
  err.truncated = false;
  if (setjmp(err.jump)) {
    jpeg_destroy_decompress(&cinfo);
    std::free(out->pixels);
    out->pixels = nullptr;
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    std::snprintf(out->error, sizeof out->error, "CMYK JPEG is not supported (convert it to RGB)");
    std::longjmp(err.jump, 1);
  }
  if (uint64_t(cinfo.image_width) * cinfo.image_height > kMaxPixels) {
    std::snprintf(out->error, sizeof out->error, "image of %ux%u pixels is too large",
                  unsigned(cinfo.image_width), unsigned(cinfo.image_height));
    std::longjmp(err.jump, 1);
  }
  // Pillow's settings: the library's defaults (islow DCT, fancy upsampling).
  cinfo.out_color_space = cinfo.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_start_decompress(&cinfo);
  size_t stride = size_t(cinfo.output_width) * cinfo.output_components;
  out->pixels = static_cast<unsigned char *>(std::malloc(stride * cinfo.output_height));
  if (!out->pixels) {
    std::snprintf(out->error, sizeof out->error, "out of memory");
    std::longjmp(err.jump, 1);
  }
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW row = out->pixels + size_t(cinfo.output_scanline) * stride;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  if (err.truncated) {
    std::snprintf(out->error, sizeof out->error, "truncated file");
    std::longjmp(err.jump, 1);
  }
  jpeg_finish_decompress(&cinfo);
  if (err.truncated) {
    std::snprintf(out->error, sizeof out->error, "truncated file");
    std::longjmp(err.jump, 1);
  }
  out->height = int(cinfo.output_height);
  out->width = int(cinfo.output_width);
  out->channels = cinfo.output_components;
  jpeg_destroy_decompress(&cinfo);
  return true;
}

#endif // GEMMA4RT_HAVE_IMAGE_CODECS

// ---- resize ----

// Keys' cubic with a = -0.5, in the two algebraic forms torch and Pillow use.
float cubicTorch(float x) {
  const float a = -0.5f;
  x = std::fabs(x);
  if (x < 1.0f)
    return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2.0f)
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0f;
}

double cubicPil(double x) {
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0)
    return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0)
    return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

struct Taps {
  std::vector<int> lo, n; // first input index and tap count per output index
  std::vector<double> w;  // [out, maxTaps]
  int maxTaps = 0;
};

/// Antialiased resampling weights for one dimension (support 2 * scale when
/// shrinking), normalised per output sample. `asFloat`: torch's float32
/// arithmetic for float images, else double.
Taps taps(int in, int out, bool asFloat) {
  Taps t;
  t.lo.resize(out);
  t.n.resize(out);
  if (asFloat) {
    const float scale = float(in) / float(out);
    const float support = scale >= 1.0f ? 2.0f * scale : 2.0f;
    const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    t.maxTaps = int(std::ceil(support)) * 2 + 1;
    t.w.assign(size_t(out) * t.maxTaps, 0.0);
    for (int i = 0; i < out; ++i) {
      float center = scale * (float(i) + 0.5f);
      int64_t xmin = std::max<int64_t>(int64_t(double(center) - support + 0.5), 0);
      int64_t xsize = std::min<int64_t>(int64_t(double(center) + support + 0.5), in) - xmin;
      xsize = std::clamp<int64_t>(xsize, 0, t.maxTaps);
      float total = 0.0f;
      std::vector<float> ws(static_cast<size_t>(xsize));
      for (int64_t j = 0; j < xsize; ++j) {
        float w = cubicTorch(float((double(j + xmin) - double(center) + 0.5) * invscale));
        ws[size_t(j)] = w;
        total += w;
      }
      for (int64_t j = 0; j < xsize; ++j)
        t.w[size_t(i) * t.maxTaps + size_t(j)] = total != 0.0f ? double(ws[size_t(j)] / total)
                                                               : double(ws[size_t(j)]);
      t.lo[i] = int(xmin);
      t.n[i] = int(xsize);
    }
    return t;
  }
  const double scale = double(in) / double(out);
  const double support = scale >= 1.0 ? 2.0 * scale : 2.0;
  const double ss = scale >= 1.0 ? 1.0 / scale : 1.0;
  t.maxTaps = int(std::ceil(support)) * 2 + 1;
  t.w.assign(size_t(out) * t.maxTaps, 0.0);
  for (int i = 0; i < out; ++i) {
    double center = scale * (i + 0.5);
    int xmin = std::max(int(center - support + 0.5), 0);
    int xmax = std::min(int(center + support + 0.5), in);
    int xsize = std::clamp(xmax - xmin, 0, t.maxTaps);
    double total = 0.0;
    for (int j = 0; j < xsize; ++j) {
      double w = cubicPil((j + xmin - center + 0.5) * ss);
      t.w[size_t(i) * t.maxTaps + j] = w;
      total += w;
    }
    if (total != 0.0)
      for (int j = 0; j < xsize; ++j)
        t.w[size_t(i) * t.maxTaps + j] /= total;
    t.lo[i] = xmin;
    t.n[i] = xsize;
  }
  return t;
}

/// Fixed-point taps: Pillow's 22 bits, or torch's int16 precision (the most
/// bits with the dimension's largest weight below 2^15).
std::vector<int32_t> fixedTaps(const Taps &t, bool int16, int &precision) {
  if (int16) {
    double wmax = 0.0;
    for (double w : t.w)
      wmax = std::max(wmax, w);
    precision = 0;
    while (precision < 22 && int(0.5 + wmax * double(1 << (precision + 1))) < (1 << 15))
      ++precision;
  } else {
    precision = 22;
  }
  std::vector<int32_t> k(t.w.size());
  for (size_t i = 0; i < t.w.size(); ++i) {
    double v = t.w[i] * double(1 << precision);
    k[i] = int32_t(v < 0 ? v - 0.5 : v + 0.5);
  }
  return k;
}

uint8_t clip8(int64_t v) { return static_cast<uint8_t>(std::clamp<int64_t>(v, 0, 255)); }

Image resizeFixed(const Image &src, int oh, int ow, bool int16) {
  const int C = src.channels;
  Image cur = src;
  if (ow != cur.width) {
    Taps t = taps(cur.width, ow, false);
    int prec = 0;
    std::vector<int32_t> k = fixedTaps(t, int16, prec);
    Image next{cur.height, ow, C, std::vector<uint8_t>(size_t(cur.height) * ow * C)};
    for (int y = 0; y < cur.height; ++y)
      for (int x = 0; x < ow; ++x)
        for (int c = 0; c < C; ++c) {
          int64_t acc = int64_t(1) << (prec - 1);
          for (int j = 0; j < t.n[x]; ++j)
            acc += int64_t(cur.at(y, t.lo[x] + j, c)) * k[size_t(x) * t.maxTaps + j];
          next.pixels[(size_t(y) * ow + x) * C + c] = clip8(acc >> prec);
        }
    cur = std::move(next);
  }
  if (oh != cur.height) {
    Taps t = taps(cur.height, oh, false);
    int prec = 0;
    std::vector<int32_t> k = fixedTaps(t, int16, prec);
    Image next{oh, cur.width, C, std::vector<uint8_t>(size_t(oh) * cur.width * C)};
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < cur.width; ++x)
        for (int c = 0; c < C; ++c) {
          int64_t acc = int64_t(1) << (prec - 1);
          for (int j = 0; j < t.n[y]; ++j)
            acc += int64_t(cur.at(t.lo[y] + j, x, c)) * k[size_t(y) * t.maxTaps + j];
          next.pixels[(size_t(y) * cur.width + x) * C + c] = clip8(acc >> prec);
        }
    cur = std::move(next);
  }
  return cur;
}

Image resizeFloat(const Image &src, int oh, int ow) {
  const int C = src.channels, H = src.height, W = src.width;
  std::vector<float> cur(src.pixels.begin(), src.pixels.end());
  int curW = W;
  if (ow != W) {
    Taps t = taps(W, ow, true);
    std::vector<float> next(size_t(H) * ow * C);
    for (int y = 0; y < H; ++y)
      for (int x = 0; x < ow; ++x)
        for (int c = 0; c < C; ++c) {
          float acc = 0.0f;
          for (int j = 0; j < t.n[x]; ++j) {
            float v = cur[(size_t(y) * W + t.lo[x] + j) * C + c] *
                      float(t.w[size_t(x) * t.maxTaps + j]);
            acc = j == 0 ? v : acc + v;
          }
          next[(size_t(y) * ow + x) * C + c] = acc;
        }
    cur = std::move(next);
    curW = ow;
  }
  if (oh != H) {
    Taps t = taps(H, oh, true);
    std::vector<float> next(size_t(oh) * curW * C);
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < curW; ++x)
        for (int c = 0; c < C; ++c) {
          float acc = 0.0f;
          for (int j = 0; j < t.n[y]; ++j) {
            float v = cur[(size_t(t.lo[y] + j) * curW + x) * C + c] *
                      float(t.w[size_t(y) * t.maxTaps + j]);
            acc = j == 0 ? v : acc + v;
          }
          next[(size_t(y) * curW + x) * C + c] = acc;
        }
    cur = std::move(next);
  }
  Image out{oh, ow, C, std::vector<uint8_t>(cur.size())};
  for (size_t i = 0; i < cur.size(); ++i)
    out.pixels[i] = static_cast<uint8_t>(std::nearbyint(std::clamp(cur[i], 0.0f, 255.0f)));
  return out;
}

} // namespace

bool imageCodecsAvailable() {
#ifdef GEMMA4RT_HAVE_IMAGE_CODECS
  return true;
#else
  return false;
#endif
}

Image decodeImage(const uint8_t *data, size_t size, const std::string &name) {
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  bool png = size >= 8 && std::memcmp(data, kPng, 8) == 0;
  bool jpeg = size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff;
  if (!png && !jpeg) {
    std::string kind = size >= 6 && (std::memcmp(data, "GIF87a", 6) == 0 ||
                                     std::memcmp(data, "GIF89a", 6) == 0)
                           ? "GIF"
                       : size >= 12 && std::memcmp(data, "RIFF", 4) == 0 &&
                               std::memcmp(data + 8, "WEBP", 4) == 0
                           ? "WebP"
                       : size >= 2 && data[0] == 'B' && data[1] == 'M' ? "BMP"
                       : size == 0                                      ? "an empty file"
                                                                        : "not an image";
    throw Error(name + ": unsupported image format (" + kind + "; PNG and JPEG are read)");
  }
#ifdef GEMMA4RT_HAVE_IMAGE_CODECS
  Decoded d;
  bool ok = png ? decodePng(data, size, &d) : decodeJpeg(data, size, &d);
  if (!ok)
    throw Error(name + ": " + (png ? "PNG" : "JPEG") + ": " + d.error);
  Image img;
  img.height = d.height;
  img.width = d.width;
  img.channels = d.channels;
  img.pixels.assign(d.pixels, d.pixels + size_t(d.height) * d.width * d.channels);
  std::free(d.pixels);
  if (img.height <= 0 || img.width <= 0)
    throw Error(name + ": image has no pixels");
  return img;
#else
  throw Error(name + ": this runtime was built without PNG/JPEG decoding (" +
              std::string(png ? "PNG" : "JPEG") + ")");
#endif
}

namespace {
std::vector<uint8_t> readBytes(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw Error(path + ": cannot open: " + std::strerror(errno));
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad())
    throw Error(path + ": read failed");
  return bytes;
}
} // namespace

Image readImageFile(const std::string &path) {
  std::vector<uint8_t> bytes = readBytes(path);
  return decodeImage(bytes.data(), bytes.size(), path);
}

int exifOrientation(const uint8_t *d, size_t n) {
  if (n < 4 || d[0] != 0xff || d[1] != 0xd8)
    return 1;
  size_t pos = 2;
  while (pos + 4 <= n && d[pos] == 0xff) {
    uint8_t marker = d[pos + 1];
    if (marker == 0xda || marker == 0xd9) // start of scan, end of image
      break;
    size_t len = (size_t(d[pos + 2]) << 8) | d[pos + 3];
    if (len < 2 || pos + 2 + len > n)
      break;
    const uint8_t *seg = d + pos + 4;
    size_t segLen = len - 2;
    if (marker == 0xe1 && segLen >= 14 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
      const uint8_t *t = seg + 6;
      size_t tn = segLen - 6;
      bool le = t[0] == 'I' && t[1] == 'I';
      if (!le && !(t[0] == 'M' && t[1] == 'M'))
        return 1;
      auto u16 = [&](size_t o) -> uint32_t {
        return o + 2 > tn ? 0 : le ? uint32_t(t[o] | t[o + 1] << 8) : uint32_t(t[o] << 8 | t[o + 1]);
      };
      auto u32 = [&](size_t o) -> uint32_t {
        return o + 4 > tn ? 0
               : le ? uint32_t(t[o]) | uint32_t(t[o + 1]) << 8 | uint32_t(t[o + 2]) << 16 |
                          uint32_t(t[o + 3]) << 24
                    : uint32_t(t[o]) << 24 | uint32_t(t[o + 1]) << 16 | uint32_t(t[o + 2]) << 8 |
                          uint32_t(t[o + 3]);
      };
      size_t ifd = u32(4);
      uint32_t count = u16(ifd);
      for (uint32_t i = 0; i < count && ifd + 2 + 12 * (i + 1) <= tn; ++i) {
        size_t e = ifd + 2 + 12 * i;
        if (u16(e) == 0x0112 && u16(e + 2) == 3) {
          uint32_t v = u16(e + 8);
          return v >= 1 && v <= 8 ? int(v) : 1;
        }
      }
      return 1;
    }
    pos += 2 + len;
  }
  return 1;
}

Image applyOrientation(const Image &im, int o) {
  if (o <= 1 || o > 8)
    return im;
  const int H = im.height, W = im.width, C = im.channels;
  const bool swap = o >= 5;
  Image out{swap ? W : H, swap ? H : W, C, std::vector<uint8_t>(im.pixels.size())};
  for (int y = 0; y < out.height; ++y)
    for (int x = 0; x < out.width; ++x) {
      int sy = y, sx = x;
      switch (o) {
      case 2: sx = W - 1 - x; break;                 // mirror
      case 3: sy = H - 1 - y; sx = W - 1 - x; break; // 180
      case 4: sy = H - 1 - y; break;                 // flip
      case 5: sy = x; sx = y; break;                 // transpose
      case 6: sy = H - 1 - x; sx = y; break;         // 90 clockwise
      case 7: sy = H - 1 - x; sx = W - 1 - y; break; // transverse
      case 8: sy = x; sx = W - 1 - y; break;         // 90 counter-clockwise
      }
      std::memcpy(&out.pixels[(size_t(y) * out.width + x) * C],
                  &im.pixels[(size_t(sy) * W + sx) * C], size_t(C));
    }
  return out;
}

Image dropAlpha(const Image &image) {
  if (image.channels == 3)
    return image;
  Image out{image.height, image.width, 3,
            std::vector<uint8_t>(size_t(image.height) * image.width * 3)};
  const size_t n = size_t(image.height) * image.width;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = &image.pixels[i * image.channels];
    uint8_t *o = &out.pixels[i * 3];
    if (image.channels <= 2)
      o[0] = o[1] = o[2] = p[0];
    else
      std::memcpy(o, p, 3);
  }
  return out;
}

Image loadImageFile(const std::string &path) {
  std::vector<uint8_t> bytes = readBytes(path);
  Image im = decodeImage(bytes.data(), bytes.size(), path);
  return dropAlpha(applyOrientation(im, exifOrientation(bytes.data(), bytes.size())));
}

Image toRGB(const Image &image) {
  if (image.channels == 3)
    return image;
  Image out{image.height, image.width, 3,
            std::vector<uint8_t>(size_t(image.height) * image.width * 3)};
  const size_t n = size_t(image.height) * image.width;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *p = &image.pixels[i * image.channels];
    uint32_t r, g, b, a;
    switch (image.channels) {
    case 1: r = g = b = p[0]; a = 255; break;
    case 2: r = g = b = p[0]; a = p[1]; break;
    default: r = p[0]; g = p[1]; b = p[2]; a = p[3]; break;
    }
    // Pillow's alpha_composite of the image over opaque white, in its
    // integer arithmetic (7 fractional bits, division by 255 by shifts).
    uint8_t *o = &out.pixels[i * 3];
    if (a == 0) {
      o[0] = o[1] = o[2] = 255;
      continue;
    }
    const uint32_t kPrec = 7;
    uint32_t blend = 255 * (255 - a);
    uint32_t outa255 = a * 255 + blend;
    uint32_t coef1 = a * 255 * 255 * (1u << kPrec) / outa255;
    uint32_t coef2 = 255 * (1u << kPrec) - coef1;
    auto mix = [&](uint32_t s) {
      uint32_t t = s * coef1 + 255 * coef2 + (0x80u << kPrec);
      return static_cast<uint8_t>((((t >> 8) + t) >> 8) >> kPrec);
    };
    o[0] = mix(r);
    o[1] = mix(g);
    o[2] = mix(b);
  }
  return out;
}

Image resizeBicubic(const Image &image, int height, int width, ResizeKernel kernel) {
  if (height == image.height && width == image.width)
    return image;
  switch (kernel) {
  case ResizeKernel::FloatBicubic: return resizeFloat(image, height, width);
  case ResizeKernel::Int16Bicubic: return resizeFixed(image, height, width, true);
  case ResizeKernel::PilBicubic: return resizeFixed(image, height, width, false);
  }
  return image;
}

std::pair<int, int> imageTargetSize(int height, int width, const ImageParams &p,
                                    const std::string &name) {
  const int64_t maxPatches = int64_t(p.maxSoftTokens) * p.poolingKernel * p.poolingKernel;
  const double total = double(height) * double(width);
  const double target = double(maxPatches) * p.patchSize * p.patchSize;
  const double factor = std::sqrt(target / total);
  const int side = p.poolingKernel * p.patchSize;
  int64_t th = int64_t(std::floor(factor * height / side)) * side;
  int64_t tw = int64_t(std::floor(factor * width / side)) * side;
  if (th == 0 && tw == 0)
    throw Error(name + ": image of " + std::to_string(width) + "x" + std::to_string(height) +
                " cannot be resized to a multiple of " + std::to_string(side) + " pixels");
  const int64_t maxSide = (maxPatches / (int64_t(p.poolingKernel) * p.poolingKernel)) * side;
  if (th == 0) {
    th = side;
    tw = std::min<int64_t>(int64_t(std::floor(double(width) / height)) * side, maxSide);
  } else if (tw == 0) {
    tw = side;
    th = std::min<int64_t>(int64_t(std::floor(double(height) / width)) * side, maxSide);
  }
  if (double(th) * double(tw) > target)
    throw Error(name + ": image of " + std::to_string(width) + "x" + std::to_string(height) +
                " exceeds the patch budget after resizing");
  return {int(th), int(tw)};
}

ImagePatches preprocessImage(const Image &image, const ImageParams &p, const std::string &name) {
  Image rgb = toRGB(image);
  auto [th, tw] = imageTargetSize(rgb.height, rgb.width, p, name);
  Image r = resizeBicubic(rgb, th, tw, p.kernel);
  const int P = p.patchSize, ph = th / P, pw = tw / P;
  ImagePatches out;
  out.height = th;
  out.width = tw;
  out.numPatches = int64_t(ph) * pw;
  out.numSoftTokens = out.numPatches / (int64_t(p.poolingKernel) * p.poolingKernel);
  out.patchDim = int64_t(P) * P * 3;
  out.values.resize(size_t(out.numPatches * out.patchDim));
  out.positions.resize(size_t(out.numPatches) * 2);
  const float scale = float(p.rescaleFactor);
  size_t k = 0;
  for (int gy = 0; gy < ph; ++gy)
    for (int gx = 0; gx < pw; ++gx) {
      size_t idx = size_t(gy) * pw + gx;
      out.positions[idx * 2] = gx;
      out.positions[idx * 2 + 1] = gy;
      for (int y = 0; y < P; ++y)
        for (int x = 0; x < P; ++x)
          for (int c = 0; c < 3; ++c)
            out.values[k++] = float(r.at(gy * P + y, gx * P + x, c)) * scale;
    }
  return out;
}

} // namespace gemma4rt

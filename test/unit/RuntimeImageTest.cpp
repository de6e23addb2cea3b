//===- RuntimeImageTest.cpp - PNG/JPEG decoding and Gemma 4 image preprocessing -===//
//
// Expected values come from Pillow 9.4 (Debian bookworm's python3-pil), which
// transformers' processors use to open images: the files in Inputs/media were
// written by Pillow, their decoded pixels, Image.alpha_composite results and
// Image.resize(BICUBIC) results are copied here. The fixtures test
// (RuntimeMultimodalGoldensTest) checks the whole pipeline against
// transformers' processor itself.
//
//===----------------------------------------------------------------------===//
#include "gemma4rt/error.h"
#include "gemma4rt/image.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <numeric>
#include <string>
#include <vector>

using namespace gemma4rt;

namespace {

std::string media(const std::string &f) { return std::string(GEMMA4C_TEST_DIR) + "/unit/Inputs/media/" + f; }

std::vector<uint8_t> bytesOf(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string errorOf(const std::vector<uint8_t> &b, const std::string &name) {
  try {
    decodeImage(b.data(), b.size(), name);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}

// numpy.random.RandomState(3).randint(0, 256, (5, 7, 3)): the source of
// rgb.png and of the resize expectations.
const std::vector<uint8_t> kSrc = {
    106, 152, 249, 131, 184, 200, 0,   21,  253, 147, 202, 107, 249, 169, 138, 149, 119, 166, 224, 148, 172,
    93,  167, 142, 248, 26,  81,  218, 150, 66,  2,   191, 60,  129, 179, 90,  69,  104, 110, 97,  157, 106,
    152, 251, 62,  7,   248, 171, 33,  123, 79,  176, 37,  20,  94,  49,  149, 127, 206, 244, 28,  119, 54,
    0,   192, 233, 18,  116, 191, 165, 184, 184, 199, 165, 253, 174, 33,  113, 1,   85,  117, 119, 202, 235,
    124, 228, 99,  219, 144, 255, 80,  160, 144, 242, 18,  75,  183, 96,  223, 141, 165, 158, 48,  189, 33};

Image src() { return Image{5, 7, 3, kSrc}; }

} // namespace

TEST(RuntimeImage, CodecsBuiltIn) {
  // The x86-64 runtime has them (scripts/install-deps.sh installs the static
  // libraries); a build without them would skip every decoding test silently.
  EXPECT_TRUE(imageCodecsAvailable());
}

TEST(RuntimeImage, DecodesRgbPng) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  Image im = readImageFile(media("rgb.png"));
  ASSERT_EQ(im.height, 5);
  ASSERT_EQ(im.width, 7);
  ASSERT_EQ(im.channels, 3);
  EXPECT_EQ(im.pixels, kSrc);
}

TEST(RuntimeImage, DecodesGrayPng) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  Image im = readImageFile(media("gray.png"));
  ASSERT_EQ(im.channels, 1);
  ASSERT_EQ(im.height, 3);
  ASSERT_EQ(im.width, 4);
  EXPECT_EQ(im.pixels, (std::vector<uint8_t>{52, 241, 252, 242, 2, 156, 36, 90, 232, 172, 176, 59}));
  Image rgb = toRGB(im);
  ASSERT_EQ(rgb.channels, 3);
  for (int i = 0; i < 12; ++i)
    for (int c = 0; c < 3; ++c)
      EXPECT_EQ(rgb.pixels[size_t(i) * 3 + c], im.pixels[size_t(i)]);
}

TEST(RuntimeImage, DecodesPalettePng) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  Image im = toRGB(readImageFile(media("pal.png")));
  ASSERT_EQ(im.height, 5);
  ASSERT_EQ(im.width, 7);
  const std::vector<uint8_t> want = {
      118, 131, 149, 156, 193, 154, 140, 46,  129, 156, 193, 154, 156, 193, 154, 118, 131, 149, 156, 193, 154,
      56,  188, 141, 140, 46,  129, 156, 193, 154, 56,  188, 141, 156, 193, 154, 118, 131, 149, 118, 131, 149,
      156, 193, 154, 56,  188, 141, 56,  188, 141, 140, 46,  129, 140, 46,  129, 156, 193, 154, 56,  188, 141,
      56,  188, 141, 56,  188, 141, 156, 193, 154, 156, 193, 154, 140, 46,  129, 56,  188, 141, 156, 193, 154,
      156, 193, 154, 156, 193, 154, 56,  188, 141, 140, 46,  129, 118, 131, 149, 156, 193, 154, 56,  188, 141};
  EXPECT_EQ(im.pixels, want);
}

TEST(RuntimeImage, DecodesJpegAsPillowDoes) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  Image im = readImageFile(media("rgb.jpg"));
  ASSERT_EQ(im.height, 16);
  ASSERT_EQ(im.width, 16);
  ASSERT_EQ(im.channels, 3);
  EXPECT_EQ(std::accumulate(im.pixels.begin(), im.pixels.end(), 0L), 95230L);
  EXPECT_EQ(std::vector<uint8_t>(im.pixels.begin(), im.pixels.begin() + 6),
            (std::vector<uint8_t>{185, 178, 255, 144, 134, 220}));
}

TEST(RuntimeImage, AlphaCompositesOntoWhiteAsPillow) {
  struct Case {
    uint8_t r, g, b, a, wr, wg, wb;
  } cases[] = {{0, 0, 0, 0, 255, 255, 255},       {10, 200, 30, 1, 254, 255, 254},
               {255, 0, 128, 127, 255, 128, 192}, {1, 2, 3, 128, 128, 128, 129},
               {200, 100, 50, 254, 200, 101, 51}, {7, 8, 9, 255, 7, 8, 9},
               {255, 255, 255, 3, 255, 255, 255}, {0, 0, 0, 200, 55, 55, 55}};
  for (const Case &c : cases) {
    Image rgba{1, 1, 4, {c.r, c.g, c.b, c.a}};
    Image out = toRGB(rgba);
    EXPECT_EQ(out.pixels, (std::vector<uint8_t>{c.wr, c.wg, c.wb}))
        << int(c.r) << "," << int(c.g) << "," << int(c.b) << "," << int(c.a);
  }
  Image la{1, 1, 2, {100, 50}};
  EXPECT_EQ(toRGB(la).pixels, (std::vector<uint8_t>{225, 225, 225}));
}

TEST(RuntimeImage, PillowBicubicResizeMatchesPillow) {
  const std::vector<uint8_t> want43 = {142, 134, 180, 105, 116, 139, 147, 175, 109, 151, 132, 143,
                                       80,  198, 132, 109, 135, 98,  117, 92,  124, 68,  150, 145,
                                       92,  182, 192, 155, 135, 176, 182, 75,  165, 76,  167, 131};
  EXPECT_EQ(resizeBicubic(src(), 3, 4, ResizeKernel::PilBicubic).pixels, want43);
  const std::vector<uint8_t> want72 = {108, 181, 164, 144, 133, 142, 101, 99,  135, 92,  163, 72,  162, 143,
                                       117, 106, 131, 160, 127, 145, 123, 79,  219, 142, 88,  153, 205, 111,
                                       165, 139, 204, 83,  134, 154, 59,  158, 77,  141, 160, 69,  178, 120};
  EXPECT_EQ(resizeBicubic(src(), 2, 7, ResizeKernel::PilBicubic).pixels, want72);
  // Upscaling 7x5 -> 11x9 (first and last rows of Pillow's result).
  Image up = resizeBicubic(src(), 9, 11, ResizeKernel::PilBicubic);
  ASSERT_EQ(up.pixels.size(), size_t(9 * 11 * 3));
  const std::vector<uint8_t> row0 = {106, 148, 255, 120, 180, 235, 113, 187, 212, 2,   40,
                                     255, 27,  62,  219, 159, 203, 111, 241, 191, 123, 241,
                                     154, 150, 159, 122, 168, 197, 133, 176, 240, 149, 177};
  EXPECT_EQ(std::vector<uint8_t>(up.pixels.begin(), up.pixels.begin() + 33), row0);
  const std::vector<uint8_t> row8 = {121, 105, 98,  246, 6,   61,  214, 58,  177, 175, 124,
                                     232, 158, 167, 171, 86,  185, 72,  34,  189, 6};
  EXPECT_EQ(std::vector<uint8_t>(up.pixels.end() - 21, up.pixels.end()), row8);
}

TEST(RuntimeImage, OtherKernelsStayWithinOneLevelOfPillow) {
  // torch's kernels round differently (int16 weights; float sums): never by
  // more than a couple of levels.
  for (ResizeKernel k : {ResizeKernel::Int16Bicubic, ResizeKernel::FloatBicubic}) {
    Image a = resizeBicubic(src(), 3, 4, k), b = resizeBicubic(src(), 3, 4, ResizeKernel::PilBicubic);
    ASSERT_EQ(a.pixels.size(), b.pixels.size());
    for (size_t i = 0; i < a.pixels.size(); ++i)
      EXPECT_LE(std::abs(int(a.pixels[i]) - int(b.pixels[i])), 2) << i;
  }
  // Same size: unchanged.
  EXPECT_EQ(resizeBicubic(src(), 5, 7, ResizeKernel::FloatBicubic).pixels, kSrc);
}

TEST(RuntimeImage, TargetSizeAsTheProcessor) {
  ImageParams p;
  p.patchSize = 8;
  p.maxSoftTokens = 70;
  p.poolingKernel = 3;
  // The fixtures' images (scripts/make-multimodal-fixtures.py prints these).
  EXPECT_EQ(imageTargetSize(64, 96, p, "a"), std::make_pair(144, 240));
  EXPECT_EQ(imageTargetSize(300, 200, p, "b"), std::make_pair(240, 144));
  EXPECT_EQ(imageTargetSize(144, 240, p, "c"), std::make_pair(144, 240));
  EXPECT_EQ(imageTargetSize(50, 70, p, "d"), std::make_pair(168, 216));
  // E2B's defaults: patch 16, 280 soft tokens, pooling 3 -> 2520 patches.
  ImageParams e2b;
  auto [h, w] = imageTargetSize(480, 640, e2b, "photo");
  EXPECT_EQ(h % 48, 0);
  EXPECT_EQ(w % 48, 0);
  EXPECT_LE((h / 16) * (w / 16), 2520);
  EXPECT_EQ(std::make_pair(h, w), std::make_pair(672, 912));
  // A very thin image: one side rounds to zero and becomes one pooling cell.
  auto [th, tw] = imageTargetSize(2, 4000, p, "thin");
  EXPECT_EQ(th, 24);
  EXPECT_EQ(tw, 70 * 24);
}

TEST(RuntimeImage, PatchesInProcessorOrder) {
  // 4x6 RGB, patch 2, pooling 1: 2x3 patches; values (row, column, channel).
  Image im{4, 6, 3, {}};
  for (int i = 0; i < 4 * 6 * 3; ++i)
    im.pixels.push_back(uint8_t(i));
  ImageParams p;
  p.patchSize = 2;
  p.poolingKernel = 1;
  p.maxSoftTokens = 70; // budget far above 6 patches: target = floor to multiples of 2
  // Make the image exactly the target size so no resize happens.
  auto t = imageTargetSize(4, 6, p, "x");
  ASSERT_GE(t.first, 4);
  ImagePatches out = preprocessImage(resizeBicubic(im, t.first, t.second, ResizeKernel::PilBicubic), p, "x");
  EXPECT_EQ(out.patchDim, 12);
  EXPECT_EQ(out.numPatches, int64_t(t.first / 2) * (t.second / 2));
  // Direct check of the layout on an image that is its own target size.
  ImageParams q;
  q.patchSize = 2;
  q.poolingKernel = 1;
  q.maxSoftTokens = 70;
  Image sq{2 * 7, 2 * 10, 3, std::vector<uint8_t>(size_t(14) * 20 * 3)};
  for (size_t i = 0; i < sq.pixels.size(); ++i)
    sq.pixels[i] = uint8_t(i * 7 % 251);
  auto ts = imageTargetSize(14, 20, q, "sq");
  if (ts != std::make_pair(14, 20))
    GTEST_SKIP() << "target " << ts.first << "x" << ts.second;
  ImagePatches pp = preprocessImage(sq, q, "sq");
  ASSERT_EQ(pp.numPatches, 70);
  // Patch 13 is grid row 1, column 3: pixels (2..3, 6..7).
  const float *v = &pp.values[size_t(13) * 12];
  int k = 0;
  for (int y = 2; y < 4; ++y)
    for (int x = 6; x < 8; ++x)
      for (int c = 0; c < 3; ++c)
        EXPECT_FLOAT_EQ(v[k++], float(sq.at(y, x, c)) * float(1.0 / 255.0));
  EXPECT_EQ(pp.positions[13 * 2], 3);
  EXPECT_EQ(pp.positions[13 * 2 + 1], 1);
}

TEST(RuntimeImage, BadInputIsOneLineNamingTheFile) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  std::vector<uint8_t> png = bytesOf(media("rgb.png")), jpg = bytesOf(media("rgb.jpg"));
  ASSERT_FALSE(png.empty());
  ASSERT_FALSE(jpg.empty());
  auto oneLine = [](const std::string &m) { return m.find('\n') == std::string::npos; };

  std::string m = errorOf(std::vector<uint8_t>(png.begin(), png.begin() + png.size() / 2), "cut.png");
  EXPECT_EQ(m.rfind("cut.png: PNG: ", 0), 0u) << m;
  EXPECT_TRUE(oneLine(m));

  std::vector<uint8_t> bad = png;
  bad[bad.size() - 20] ^= 0x5a; // inside IDAT: CRC mismatch or bad deflate data
  m = errorOf(bad, "flip.png");
  EXPECT_EQ(m.rfind("flip.png: PNG: ", 0), 0u) << m;

  m = errorOf(std::vector<uint8_t>(jpg.begin(), jpg.end() - 100), "cut.jpg"); // inside the scan
  EXPECT_EQ(m, "cut.jpg: JPEG: truncated file");

  m = errorOf(std::vector<uint8_t>(jpg.begin(), jpg.begin() + 40), "head.jpg");
  EXPECT_EQ(m.rfind("head.jpg: JPEG: ", 0), 0u) << m;

  const std::string gif = "GIF89a\x01\x00\x01\x00";
  m = errorOf(std::vector<uint8_t>(gif.begin(), gif.end()), "x.gif");
  EXPECT_EQ(m, "x.gif: unsupported image format (GIF; PNG and JPEG are read)");
  m = errorOf({}, "empty.png");
  EXPECT_EQ(m, "empty.png: unsupported image format (an empty file; PNG and JPEG are read)");
  const std::string text = "hello, world";
  m = errorOf(std::vector<uint8_t>(text.begin(), text.end()), "notes.jpg");
  EXPECT_EQ(m, "notes.jpg: unsupported image format (not an image; PNG and JPEG are read)");

  try {
    readImageFile("/nonexistent/dir/photo.png");
    FAIL();
  } catch (const Error &e) {
    EXPECT_EQ(std::string(e.what()).rfind("/nonexistent/dir/photo.png: cannot open: ", 0), 0u) << e.what();
  }
}

TEST(RuntimeImage, LoadImageAppliesExifAndDropsAlpha) {
  if (!imageCodecsAvailable())
    GTEST_SKIP();
  // exif6.jpg: 10x6 pixels stored, EXIF orientation 6 (rotate 90 clockwise);
  // Pillow's exif_transpose gives 6x10 starting (109,75,159), (59,33,107),
  // all samples summing to 23025.
  std::vector<uint8_t> b = bytesOf(media("exif6.jpg"));
  EXPECT_EQ(exifOrientation(b.data(), b.size()), 6);
  Image im = loadImageFile(media("exif6.jpg"));
  ASSERT_EQ(im.height, 10);
  ASSERT_EQ(im.width, 6);
  EXPECT_EQ(std::vector<uint8_t>(im.pixels.begin(), im.pixels.begin() + 6),
            (std::vector<uint8_t>{109, 75, 159, 59, 33, 107}));
  EXPECT_EQ(std::accumulate(im.pixels.begin(), im.pixels.end(), 0L), 23025L);
  std::vector<uint8_t> png = bytesOf(media("rgb.png"));
  EXPECT_EQ(exifOrientation(png.data(), png.size()), 1);
  // The eight orientations on a 2x3 image: 5-8 swap the sides; 2 and 4 are
  // mirrors, 3 is both.
  Image s{2, 3, 1, {1, 2, 3, 4, 5, 6}};
  EXPECT_EQ(applyOrientation(s, 2).pixels, (std::vector<uint8_t>{3, 2, 1, 6, 5, 4}));
  EXPECT_EQ(applyOrientation(s, 3).pixels, (std::vector<uint8_t>{6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(applyOrientation(s, 4).pixels, (std::vector<uint8_t>{4, 5, 6, 1, 2, 3}));
  EXPECT_EQ(applyOrientation(s, 5).pixels, (std::vector<uint8_t>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(applyOrientation(s, 6).pixels, (std::vector<uint8_t>{4, 1, 5, 2, 6, 3}));
  EXPECT_EQ(applyOrientation(s, 7).pixels, (std::vector<uint8_t>{6, 3, 5, 2, 4, 1}));
  EXPECT_EQ(applyOrientation(s, 8).pixels, (std::vector<uint8_t>{3, 6, 2, 5, 1, 4}));
  EXPECT_EQ(applyOrientation(s, 6).height, 3);
  // convert("RGB"): alpha dropped, not composited (Pillow: (10,20,30,0) ->
  // (10,20,30); LA (10,0) -> (10,10,10)).
  EXPECT_EQ(dropAlpha(Image{1, 1, 4, {10, 20, 30, 0}}).pixels, (std::vector<uint8_t>{10, 20, 30}));
  EXPECT_EQ(dropAlpha(Image{1, 1, 2, {10, 0}}).pixels, (std::vector<uint8_t>{10, 10, 10}));
}

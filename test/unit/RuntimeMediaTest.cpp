//===- RuntimeMediaTest.cpp - placeholder runs vs --image/--audio files ---===//
#include "gemma4rt/error.h"
#include "gemma4rt/media.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

using namespace gemma4rt;

namespace {
const int32_t I = 380, A = 381; // the tiny fixture's ids

std::vector<int32_t> prompt(std::vector<std::pair<int32_t, int>> runs) {
  std::vector<int32_t> ids = {2, 17};
  for (auto [id, n] : runs) {
    ids.push_back(376); // a begin marker
    ids.insert(ids.end(), size_t(n), id);
    ids.push_back(377);
    ids.push_back(42);
  }
  return ids;
}

std::string errorOf(const std::vector<int32_t> &ids, std::vector<std::string> imgs, std::vector<int64_t> it,
                    std::vector<std::string> auds, std::vector<int64_t> at) {
  try {
    matchPlaceholders(ids, PlaceholderIds{I, A}, imgs, it, auds, at);
  } catch (const Error &e) {
    return e.what();
  }
  return "";
}
} // namespace

TEST(RuntimeMedia, MatchesRunsInOrder) {
  auto ids = prompt({{I, 3}, {A, 2}, {I, 4}});
  auto spans = matchPlaceholders(ids, PlaceholderIds{I, A}, {"a.png", "b.jpg"}, {3, 4}, {"c.wav"}, {2});
  ASSERT_EQ(spans.size(), 3u);
  EXPECT_TRUE(spans[0].image);
  EXPECT_EQ(spans[0].file, 0u);
  EXPECT_EQ(spans[0].begin, 3);
  EXPECT_EQ(spans[0].length, 3);
  EXPECT_FALSE(spans[1].image);
  EXPECT_EQ(spans[1].file, 0u);
  EXPECT_EQ(spans[1].begin, 9);
  EXPECT_TRUE(spans[2].image);
  EXPECT_EQ(spans[2].file, 1u);
  EXPECT_EQ(spans[2].length, 4);
  EXPECT_TRUE(matchPlaceholders({2, 17, 93}, PlaceholderIds{I, A}, {}, {}, {}, {}).empty());
}

TEST(RuntimeMedia, MismatchesAreOneLineNamingTheFile) {
  auto ids = prompt({{I, 3}, {I, 4}});
  EXPECT_EQ(errorOf(ids, {"a.png", "b.png", "c.png"}, {3, 4, 5}, {}, {}),
            "c.png: the prompt has 2 image placeholder runs for 3 --image files");
  EXPECT_EQ(errorOf(ids, {"a.png"}, {3}, {}, {}),
            "prompt: image placeholder run 2 at position 9 has no --image file (1 given)");
  EXPECT_EQ(errorOf(ids, {"a.png", "b.png"}, {3, 5}, {}, {}),
            "b.png: 5 soft tokens, but its placeholder run at position 9 has 4");
  EXPECT_EQ(errorOf(prompt({{A, 2}}), {}, {}, {"x.wav", "y.wav"}, {2, 2}),
            "y.wav: the prompt has 1 audio placeholder run for 2 --audio files");
}

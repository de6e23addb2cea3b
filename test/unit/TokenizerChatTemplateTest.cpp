//===- TokenizerChatTemplateTest.cpp - Gemma 3 / Gemma 4 chat rendering ----===//
#include "gemma4rt/chat_template.h"
#include "gemma4rt/tokenizer.h"

#include <gtest/gtest.h>

using namespace gemma4rt;

namespace {

std::string fixture(const std::string &rel) {
  return std::string(GEMMA4C_TEST_DIR) + "/fixtures/tokenizer/" + rel;
}

ChatMessage msg(std::string role, std::string content) {
  ChatMessage m;
  m.role = std::move(role);
  m.content = std::move(content);
  return m;
}

template <typename F> std::string errorOf(F &&f) {
  try {
    f();
  } catch (const TokenizerError &e) {
    return e.what();
  }
  return "";
}

const std::string Q = "<|\"|>";

} // namespace

//===----------------------------------------------------------------------===//
// Gemma 3
//===----------------------------------------------------------------------===//

TEST(ChatTemplateGemma3, RendersTurns) {
  auto tok = Tokenizer::fromFile(fixture("tiny"));
  ChatTemplate ct = ChatTemplate::forTokenizer(*tok);
  EXPECT_EQ(ct.format(), ChatFormat::Gemma3);
  EXPECT_EQ(ct.render({msg("user", "  Hi there \n")}, true),
            "<bos><start_of_turn>user\nHi there<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(ct.render({msg("system", "Be brief."), msg("user", "Hi"), msg("assistant", " Hello! "),
                       msg("user", "Bye")},
                      false),
            "<bos><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n"
            "<start_of_turn>model\nHello!<end_of_turn>\n"
            "<start_of_turn>user\nBye<end_of_turn>\n");
  EXPECT_EQ(ct.render({}, true), "<bos><start_of_turn>model\n");
}

TEST(ChatTemplateGemma3, EncodesMarkersAsSpecialTokens) {
  auto tok = Tokenizer::fromFile(fixture("tiny"));
  ChatTemplate ct = ChatTemplate::forTokenizer(*tok);
  std::vector<int32_t> ids = tok->encode(ct.render({msg("user", "hello")}, true));
  std::vector<int32_t> want = {2, 5};
  for (const char *t : {"u", "s", "e", "r", "\n", "hello"})
    want.push_back(*tok->tokenId(t));
  want.push_back(6);
  want.push_back(7);
  want.push_back(5);
  for (const char *t : {"m", "o", "d", "e", "l", "\n"})
    want.push_back(*tok->tokenId(t));
  EXPECT_EQ(ids, want);
  EXPECT_EQ(ct.stopTokenIds(), (std::vector<int32_t>{6, 1}));
}

TEST(ChatTemplateGemma3, RejectsWhatGemma3CannotExpress) {
  auto tok = Tokenizer::fromFile(fixture("tiny"));
  ChatTemplate ct = ChatTemplate::forTokenizer(*tok);
  EXPECT_NE(errorOf([&] { ct.render({msg("user", "a"), msg("user", "b")}, true); })
                .find("alternate"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { ct.render({msg("assistant", "a")}, true); }).find("alternate"),
            std::string::npos);
  ChatOptions think;
  think.thinking = true;
  EXPECT_NE(errorOf([&] { ct.render({msg("user", "a")}, think); }).find("thinking"),
            std::string::npos);
  ChatOptions tools;
  tools.tools.push_back({"f", "does f", ""});
  EXPECT_NE(errorOf([&] { ct.render({msg("user", "a")}, tools); }).find("tool"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { ct.render({msg("robot", "a")}, true); }).find("unknown role"),
            std::string::npos);
  EXPECT_NE(errorOf([&] { ct.render({msg("user", "\xFF")}, true); }).find("invalid UTF-8"),
            std::string::npos);
}

//===----------------------------------------------------------------------===//
// Gemma 4 (markers from tokenizer_config.json in the checkpoint directory)
//===----------------------------------------------------------------------===//

class ChatTemplateGemma4 : public ::testing::Test {
protected:
  void SetUp() override {
    tok = Tokenizer::fromFile(fixture("tiny-gemma4"));
    ct = ChatTemplate::forTokenizer(*tok);
  }
  std::unique_ptr<Tokenizer> tok;
  ChatTemplate ct;
};

TEST_F(ChatTemplateGemma4, DetectsFormatAndStopTokens) {
  EXPECT_EQ(ct.format(), ChatFormat::Gemma4);
  EXPECT_EQ(ct.markers().startOfTurn, "<|turn>");
  EXPECT_EQ(ct.markers().endOfTurn, "<turn|>");
  int32_t turnEnd = *tok->tokenId("<turn|>");
  int32_t toolResponse = *tok->tokenId("<|tool_response>");
  EXPECT_EQ(ct.stopTokenIds(), (std::vector<int32_t>{turnEnd, 1, toolResponse}));
}

TEST_F(ChatTemplateGemma4, RendersTurnsAndThinking) {
  EXPECT_EQ(ct.render({msg("user", " Hi ")}, true), "<bos><|turn>user\nHi<turn|>\n<|turn>model\n");
  ChatOptions o;
  o.thinking = true;
  EXPECT_EQ(ct.render({msg("system", "Be brief. "), msg("user", "Hi")}, o),
            "<bos><|turn>system\n<|think|>\nBe brief.<turn|>\n"
            "<|turn>user\nHi<turn|>\n<|turn>model\n");
  o.thinking = false;
  o.emptyThoughtBlock = true;
  EXPECT_EQ(ct.render({msg("user", "Hi")}, o),
            "<bos><|turn>user\nHi<turn|>\n<|turn>model\n<|channel>thought\n<channel|>");
  // Earlier reasoning is dropped from model turns.
  EXPECT_EQ(ct.render({msg("user", "Q"),
                       msg("assistant", "<|channel>thought\nhmm<channel|>Answer."),
                       msg("user", "More")},
                      false),
            "<bos><|turn>user\nQ<turn|>\n<|turn>model\nAnswer.<turn|>\n"
            "<|turn>user\nMore<turn|>\n");
  // Markers encode to their special ids.
  std::vector<int32_t> ids = tok->encode(ct.render({msg("user", "hello")}, true));
  EXPECT_EQ(ids.front(), 2);
  EXPECT_EQ(ids[1], *tok->tokenId("<|turn>"));
  EXPECT_TRUE(tok->isSpecial(ids[1]));
}

TEST_F(ChatTemplateGemma4, RendersToolDeclarationsCallsAndResponses) {
  ChatOptions o;
  o.tools.push_back({"get_weather", "Current weather",
                     R"({"type":"object","properties":{"city":{"type":"string",)"
                     R"("description":"City name"},"unit":{"type":"string","enum":["C","F"]},)"
                     R"("days":{"type":"integer"}},"required":["city"]})"});
  ChatMessage call = msg("assistant", "");
  call.thinking = "Need the weather.";
  call.toolCalls.push_back({"get_weather", R"({"city":"Paris","days":2,"metric":true})", "c1"});
  ChatMessage result = msg("tool", "sunny, 21C");
  result.toolCallId = "c1";
  std::string head = "<bos><|turn>system\n<|tool>declaration:get_weather{description:" + Q +
                     "Current weather" + Q + ",parameters:{properties:{city:{description:" + Q +
                     "City name" + Q + ",type:" + Q + "STRING" + Q + "},days:{type:" + Q +
                     "INTEGER" + Q + "},unit:{enum:[" + Q + "C" + Q + "," + Q + "F" + Q +
                     "],type:" + Q + "STRING" + Q + "}},required:[" + Q + "city" + Q +
                     "],type:" + Q + "OBJECT" + Q + "}}<tool|><turn|>\n" +
                     "<|turn>user\nWeather in Paris?<turn|>\n<|turn>model\n" +
                     "<|channel>thought\nNeed the weather.\n<channel|>" +
                     "<|tool_call>call:get_weather{city:" + Q + "Paris" + Q +
                     ",days:2,metric:true}<tool_call|>";

  // The model asked for a tool and waits for its result.
  EXPECT_EQ(ct.render({msg("user", "Weather in Paris?"), call}, o), head + "<|tool_response>");

  // The result is folded into the model turn; no generation prompt follows it.
  std::string withResult = head + "<|tool_response>response:get_weather{value:" + Q +
                           "sunny, 21C" + Q + "}<tool_response|>";
  EXPECT_EQ(ct.render({msg("user", "Weather in Paris?"), call, result}, o), withResult);

  // The final answer continues the same model turn.
  EXPECT_EQ(ct.render({msg("user", "Weather in Paris?"), call, result,
                       msg("assistant", "It is sunny.")},
                      o),
            withResult + "It is sunny.<turn|>\n<|turn>model\n");

  ChatMessage orphan = msg("tool", "x");
  EXPECT_NE(errorOf([&] { ct.render({msg("user", "a"), orphan}, o); }).find("tool message"),
            std::string::npos);
  ChatMessage badArgs = msg("assistant", "");
  badArgs.toolCalls.push_back({"f", "[1,2]", ""});
  EXPECT_NE(errorOf([&] { ct.render({msg("user", "a"), badArgs}, o); }).find("JSON object"),
            std::string::npos);
}

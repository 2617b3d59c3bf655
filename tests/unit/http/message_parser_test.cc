#include "http/message_parser.h"

#include <gtest/gtest.h>
#include <llhttp.h>

namespace sluice::http {
namespace {

TEST(FramingAgrees, WhenLlhttpReadsTheFramingFieldsAsTheValidatorDid) {
    EXPECT_TRUE(framingAgrees(F_CHUNKED | F_TRANSFER_ENCODING, 0, BodyFraming::kChunked, 0));
    EXPECT_TRUE(framingAgrees(F_CONTENT_LENGTH, 12, BodyFraming::kContentLength, 12));
    EXPECT_TRUE(framingAgrees(0, 0, BodyFraming::kNone, 0));
    EXPECT_TRUE(framingAgrees(F_CONTENT_LENGTH, 0, BodyFraming::kNone, 0));  // Content-Length: 0
    EXPECT_TRUE(framingAgrees(F_CONNECTION_KEEP_ALIVE, 0, BodyFraming::kUntilClose, 0));
}

TEST(FramingAgrees, NotWhenTheyPart) {
    // Each of these would let llhttp frame the body one way while we forward it another.
    EXPECT_FALSE(framingAgrees(0, 0, BodyFraming::kChunked, 0));
    EXPECT_FALSE(framingAgrees(F_CHUNKED | F_CONTENT_LENGTH, 5, BodyFraming::kChunked, 0));
    EXPECT_FALSE(framingAgrees(F_CONTENT_LENGTH, 13, BodyFraming::kContentLength, 12));
    EXPECT_FALSE(framingAgrees(0, 0, BodyFraming::kContentLength, 12));
    EXPECT_FALSE(framingAgrees(F_CHUNKED, 0, BodyFraming::kContentLength, 12));
    EXPECT_FALSE(framingAgrees(F_CONTENT_LENGTH, 3, BodyFraming::kNone, 0));
    EXPECT_FALSE(framingAgrees(F_CHUNKED, 0, BodyFraming::kNone, 0));
    EXPECT_FALSE(framingAgrees(F_CONTENT_LENGTH, 3, BodyFraming::kUntilClose, 0));
    EXPECT_FALSE(framingAgrees(F_CHUNKED, 0, BodyFraming::kUntilClose, 0));
}

}  // namespace
}  // namespace sluice::http

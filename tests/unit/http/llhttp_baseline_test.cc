// What bare llhttp (strict mode, no callbacks) makes of every input our parsers refuse: the
// desync table (desync_cases.h) and the cases only the head scanner catches. The recorded
// verdicts are those of llhttp 8.1.0 (the version message_parser.h pins). After an llhttp
// upgrade this test says which verdicts moved: a case llhttp now rejects by itself may make one
// of our rules redundant (keep it unless it costs); a case it now accepts means our rule has
// become the only defence (make sure it still exists and is tested).

#include <gtest/gtest.h>
#include <llhttp.h>

#include <map>
#include <string>
#include <vector>

#include "desync_cases.h"
#include "http/request_parser.h"
#include "http/response_parser.h"

namespace sluice::http {
namespace {

struct ScannerCase {
    const char* name;
    llhttp_type_t type;
    std::string input;
};

// Refused by HeadScanner (tests/unit/http/head_scanner_test.cc) and not already in the table.
std::vector<ScannerCase> scannerCases() {
    const std::string host = "Host: a\r\n\r\n";
    return {
        {"leading_space_request_line", HTTP_REQUEST, " GET / HTTP/1.1\r\n" + host},
        {"word_after_version", HTTP_REQUEST, "GET / HTTP/1.1 x\r\n" + host},
        {"truncated_version", HTTP_REQUEST, "GET / HTTP/1.\r\n" + host},
        {"te_only_space", HTTP_REQUEST, desync::kPost + "Transfer-Encoding: \r\n\r\n"},
        {"te_upper_trailing_space", HTTP_REQUEST,
         desync::kPost + "TRANSFER-ENCODING: chunked \r\n\r\n0\r\n\r\n"},
        {"trailer_empty_name", HTTP_REQUEST, desync::kChunkedHead + "0\r\n: a\r\n\r\n"},
        {"status_http_1_2", HTTP_RESPONSE, "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"},
        {"status_http_2", HTTP_RESPONSE, "HTTP/2 200\r\nContent-Length: 0\r\n\r\n"},
        {"status_lowercase", HTTP_RESPONSE, "http/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"},
        {"status_no_space", HTTP_RESPONSE, "HTTP/1.1200\r\nContent-Length: 0\r\n\r\n"},
        {"status_no_code", HTTP_RESPONSE, "HTTP/1.1\r\nContent-Length: 0\r\n\r\n"},
        {"response_obs_fold", HTTP_RESPONSE,
         "HTTP/1.1 200 OK\r\nX: a\r\n b\r\nContent-Length: 0\r\n\r\n"},
        {"response_bare_lf", HTTP_RESPONSE, "HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n"},
    };
}

// llhttp 8.1.0's verdict on each case: the error it stops with, HPE_OK when it takes the whole
// input (complete or waiting for more), HPE_PAUSED_UPGRADE when it hands the rest over.
// clang-format off
const std::map<std::string, std::string> kLlhttpVerdicts = {
    {"cl_and_te", "HPE_UNEXPECTED_CONTENT_LENGTH"},
    {"te_and_cl_mixed_case", "HPE_UNEXPECTED_CONTENT_LENGTH"},
    {"cl_duplicate_equal", "HPE_UNEXPECTED_CONTENT_LENGTH"},
    {"cl_duplicate_different", "HPE_UNEXPECTED_CONTENT_LENGTH"},
    {"cl_comma_list", "HPE_INVALID_CONTENT_LENGTH"},
    {"cl_negative", "HPE_INVALID_CONTENT_LENGTH"},
    {"cl_plus_sign", "HPE_INVALID_CONTENT_LENGTH"},
    {"cl_hex", "HPE_INVALID_CONTENT_LENGTH"},
    {"cl_space_inside", "HPE_INVALID_CONTENT_LENGTH"},
    {"cl_overflow", "HPE_INVALID_CONTENT_LENGTH"},
    {"cl_uint64_max", "HPE_OK"},
    {"cl_empty", "HPE_INVALID_CONTENT_LENGTH"},
    {"te_xchunked", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_chunkedx", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_chunked_identity", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_gzip_chunked", "HPE_OK"},
    {"te_identity", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_repeated_fields", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_chunked_twice", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_leading_tab", "HPE_OK"},
    {"te_double_space", "HPE_OK"},
    {"te_trailing_space", "HPE_OK"},
    {"te_trailing_tab", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_quoted", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_leading_comma", "HPE_OK"},
    {"te_vertical_tab", "HPE_INVALID_HEADER_TOKEN"},
    {"te_space_before_colon", "HPE_INVALID_HEADER_TOKEN"},
    {"te_line_leading_space", "HPE_UNEXPECTED_SPACE"},
    {"te_obs_fold", "HPE_INVALID_TRANSFER_ENCODING"},
    {"te_http10", "HPE_OK"},
    {"te_empty", "HPE_OK"},
    {"obs_fold", "HPE_OK"},
    {"space_before_colon", "HPE_INVALID_HEADER_TOKEN"},
    {"tab_before_colon", "HPE_INVALID_HEADER_TOKEN"},
    {"empty_field_name", "HPE_OK"},
    {"field_without_colon", "HPE_INVALID_HEADER_TOKEN"},
    {"non_token_in_name", "HPE_INVALID_HEADER_TOKEN"},
    {"nul_in_value", "HPE_INVALID_HEADER_TOKEN"},
    {"ctl_in_value", "HPE_INVALID_HEADER_TOKEN"},
    {"del_in_value", "HPE_INVALID_HEADER_TOKEN"},
    {"bare_lf_request_line", "HPE_OK"},
    {"bare_lf_header", "HPE_INVALID_HEADER_TOKEN"},
    {"bare_lf_end_of_head", "HPE_OK"},
    {"bare_lf_only", "HPE_INVALID_HEADER_TOKEN"},
    {"bare_cr_request_line", "HPE_INVALID_VERSION"},
    {"bare_cr_header", "HPE_LF_EXPECTED"},
    {"bare_lf_before_request", "HPE_OK"},
    {"missing_host", "HPE_OK"},
    {"double_host", "HPE_OK"},
    {"empty_host", "HPE_OK"},
    {"host_with_space", "HPE_OK"},
    {"host_with_userinfo", "HPE_OK"},
    {"host_with_path", "HPE_OK"},
    {"host_bad_port", "HPE_OK"},
    {"host_empty_port", "HPE_OK"},
    {"absolute_form_other_host", "HPE_OK"},
    {"absolute_form_other_port", "HPE_OK"},
    {"absolute_form_userinfo", "HPE_OK"},
    {"absolute_form_ftp", "HPE_OK"},
    {"connect", "HPE_PAUSED_UPGRADE"},
    {"connect_origin_form", "HPE_PAUSED_UPGRADE"},
    {"asterisk_with_get", "HPE_OK"},
    {"relative_target", "HPE_INVALID_URL"},
    {"fragment_in_target", "HPE_OK"},
    {"http_2_0", "HPE_OK"},
    {"http_0_9_version", "HPE_OK"},
    {"http_0_9_simple", "HPE_OK"},
    {"http_1_2", "HPE_INVALID_VERSION"},
    {"http_1_10", "HPE_INVALID_VERSION"},
    {"rtsp_version", "HPE_OK"},
    {"h2_preface", "HPE_PAUSED_H2_UPGRADE"},
    {"double_space_request_line", "HPE_OK"},
    {"trailing_space_request_line", "HPE_INVALID_VERSION"},
    {"unknown_method", "HPE_INVALID_METHOD"},
    {"lowercase_method", "HPE_INVALID_METHOD"},
    {"garbage_method", "HPE_INVALID_METHOD"},
    {"oversize_request_line", "HPE_OK"},
    {"oversize_headers", "HPE_OK"},
    {"too_many_headers", "HPE_OK"},
    {"body_over_limit_cl", "HPE_OK"},
    {"body_over_limit_chunked", "HPE_OK"},
    {"body_over_limit_many_chunks", "HPE_OK"},
    {"chunk_size_overflow", "HPE_INVALID_CHUNK_SIZE"},
    {"chunk_extension_too_long", "HPE_OK"},
    {"chunk_size_leading_zeros", "HPE_OK"},
    {"chunk_size_invalid_char", "HPE_INVALID_CHUNK_SIZE"},
    {"chunk_size_space", "HPE_INVALID_CHUNK_SIZE"},
    {"chunk_size_negative", "HPE_INVALID_CHUNK_SIZE"},
    {"chunk_missing_crlf", "HPE_STRICT"},
    {"chunk_bare_lf_size", "HPE_INVALID_CHUNK_SIZE"},
    {"chunk_bare_lf_data", "HPE_STRICT"},
    {"last_chunk_bare_lf", "HPE_OK"},
    {"trailer_bare_lf", "HPE_INVALID_HEADER_TOKEN"},
    {"trailer_obs_fold", "HPE_OK"},
    {"smuggle_after_cl0", "HPE_UNEXPECTED_CONTENT_LENGTH"},
    {"smuggle_after_chunked", "HPE_OK"},
    // Scanner-only cases.
    {"leading_space_request_line", "HPE_INVALID_METHOD"},
    {"word_after_version", "HPE_INVALID_VERSION"},
    {"truncated_version", "HPE_INVALID_VERSION"},
    {"te_only_space", "HPE_OK"},
    {"te_upper_trailing_space", "HPE_OK"},
    {"trailer_empty_name", "HPE_OK"},
    {"status_http_1_2", "HPE_INVALID_VERSION"},
    {"status_http_2", "HPE_INVALID_VERSION"},
    {"status_lowercase", "HPE_INVALID_CONSTANT"},
    {"status_no_space", "HPE_INVALID_VERSION"},
    {"status_no_code", "HPE_INVALID_VERSION"},
    {"response_obs_fold", "HPE_OK"},
    {"response_bare_lf", "HPE_OK"},
};
// clang-format on

std::string llhttpVerdict(llhttp_type_t type, const std::string& input) {
    llhttp_settings_t settings;
    llhttp_settings_init(&settings);
    llhttp_t parser;
    llhttp_init(&parser, type, &settings);
    return llhttp_errno_name(llhttp_execute(&parser, input.data(), input.size()));
}

void expectVerdict(const std::string& name, llhttp_type_t type, const std::string& input) {
    const auto recorded = kLlhttpVerdicts.find(name);
    ASSERT_NE(recorded, kLlhttpVerdicts.end()) << "no llhttp verdict recorded for " << name;
    const std::string now = llhttpVerdict(type, input);
    const auto accepts = [](const std::string& v) {
        return v == "HPE_OK" || v == "HPE_PAUSED_UPGRADE";
    };
    EXPECT_EQ(now, recorded->second)
        << name << ": "
        << (accepts(now) == accepts(recorded->second)
                ? "llhttp still " + std::string(accepts(now) ? "accepts" : "rejects") +
                      " it, with another error"
            : accepts(now) ? "llhttp alone no longer rejects it: our rule is now the only "
                             "defence"
                           : "llhttp alone now rejects it: our rule may be redundant");
}

class NullRequestHandler : public RequestHandler {
  public:
    Action onRequestHead(RequestHead&) override { return Action::kContinue; }
    Action onRequestBody(std::string_view) override { return Action::kContinue; }
    void onRequestComplete() override {}
};

class NullResponseHandler : public ResponseHandler {
  public:
    void onInterimResponse(const ResponseHead&) override {}
    Action onResponseHead(ResponseHead&) override { return Action::kContinue; }
    Action onResponseBody(std::string_view) override { return Action::kContinue; }
    void onResponseComplete() override {}
};

TEST(LlhttpBaseline, DesyncCasesAsLlhttpAloneSeesThem) {
    for (const auto& c : desync::cases()) expectVerdict(c.name, HTTP_REQUEST, c.input);
}

TEST(LlhttpBaseline, ScannerCasesAsLlhttpAloneSeesThem) {
    for (const auto& c : scannerCases()) {
        expectVerdict(c.name, c.type, c.input);
        // And ours refuse each (the scanner's own tests say why).
        if (c.type == HTTP_REQUEST) {
            NullRequestHandler handler;
            RequestParser parser(handler, RequestLimits{});
            EXPECT_EQ(parser.feed(c.input).kind, FeedResult::kError) << c.name;
        } else {
            NullResponseHandler handler;
            ResponseParser parser(handler);
            parser.setRequestMethod("GET");
            EXPECT_EQ(parser.feed(c.input).kind, FeedResult::kError) << c.name;
        }
    }
}

TEST(LlhttpBaseline, EveryRecordedVerdictIsForACase) {
    size_t cases = desync::cases().size() + scannerCases().size();
    EXPECT_EQ(kLlhttpVerdicts.size(), cases);
}

}  // namespace
}  // namespace sluice::http

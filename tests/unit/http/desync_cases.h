#pragma once
// Malformed and ambiguous requests (request smuggling / desync vectors) and the status each must
// get, with max_header_bytes 1024, max_headers 20, max_body_bytes 1000. Shared by
// request_desync_test.cc (our parser refuses each) and llhttp_baseline_test.cc (what llhttp
// alone makes of them).

#include <string>
#include <vector>

namespace sluice::http::desync {

struct DesyncCase {
    const char* name;
    std::string input;
    int status;
    int heads = 0;  // heads the handler legitimately sees first (body errors, pipelined requests)
};

inline const std::string kPost = "POST / HTTP/1.1\r\nHost: a\r\n";
inline const std::string kGet = "GET / HTTP/1.1\r\nHost: a\r\n";
inline const std::string kChunkedHead = kPost + "Transfer-Encoding: chunked\r\n\r\n";

inline std::string repeat(const std::string& s, size_t n) {
    std::string out;
    for (size_t i = 0; i < n; ++i) out += s;
    return out;
}

inline std::vector<DesyncCase> cases() {
    using std::string;
    return {
        // Content-Length / Transfer-Encoding conflicts.
        {"cl_and_te", kPost + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400},
        {"te_and_cl_mixed_case",
         kPost + "transfer-ENCODING: chunked\r\ncontent-length: 3\r\n\r\n0\r\n\r\n", 400},
        {"cl_duplicate_equal", kPost + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", 400},
        {"cl_duplicate_different", kPost + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
         400},
        {"cl_comma_list", kPost + "Content-Length: 3, 3\r\n\r\nabc", 400},
        {"cl_negative", kPost + "Content-Length: -3\r\n\r\nabc", 400},
        {"cl_plus_sign", kPost + "Content-Length: +3\r\n\r\nabc", 400},
        {"cl_hex", kPost + "Content-Length: 0x3\r\n\r\nabc", 400},
        {"cl_space_inside", kPost + "Content-Length: 1 2\r\n\r\nabc", 400},
        {"cl_overflow", kPost + "Content-Length: 99999999999999999999999\r\n\r\nabc", 400},
        {"cl_uint64_max", kPost + "Content-Length: 18446744073709551615\r\n\r\nabc", 400},
        {"cl_empty", kPost + "Content-Length:\r\n\r\nabc", 400},
        {"te_xchunked", kPost + "Transfer-Encoding: xchunked\r\n\r\n0\r\n\r\n", 400},
        {"te_chunkedx", kPost + "Transfer-Encoding: chunkedx\r\n\r\n0\r\n\r\n", 400},
        {"te_chunked_identity", kPost + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n",
         400},
        {"te_gzip_chunked", kPost + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501},
        {"te_identity", kPost + "Transfer-Encoding: identity\r\n\r\nabc", 400},
        {"te_repeated_fields",
         kPost + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400},
        {"te_chunked_twice", kPost + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400},
        {"te_leading_tab", kPost + "Transfer-Encoding:\tchunked\r\n\r\n0\r\n\r\n", 400},
        {"te_double_space", kPost + "Transfer-Encoding:  chunked\r\n\r\n0\r\n\r\n", 400},
        {"te_trailing_space", kPost + "Transfer-Encoding: chunked \r\n\r\n0\r\n\r\n", 400},
        {"te_trailing_tab", kPost + "Transfer-Encoding: chunked\t\r\n\r\n0\r\n\r\n", 400},
        {"te_quoted", kPost + "Transfer-Encoding: \"chunked\"\r\n\r\n0\r\n\r\n", 400},
        {"te_leading_comma", kPost + "Transfer-Encoding: ,chunked\r\n\r\n0\r\n\r\n", 400},
        {"te_vertical_tab", kPost + "Transfer-Encoding: chunked\x0b\r\n\r\n0\r\n\r\n", 400},
        {"te_space_before_colon", kPost + "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", 400},
        {"te_line_leading_space",
         "POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: a\r\n\r\n0\r\n\r\n", 400},
        {"te_obs_fold", kPost + "Transfer-Encoding: gzip,\r\n chunked\r\n\r\n0\r\n\r\n", 400},
        {"te_http10", "POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400},
        {"te_empty", kPost + "Transfer-Encoding:\r\n\r\n", 400},
        // Field syntax.
        {"obs_fold", kGet + "X-A: a\r\n b\r\n\r\n", 400},
        {"space_before_colon", "GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400},
        {"tab_before_colon", "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", 400},
        {"empty_field_name", kGet + ": a\r\n\r\n", 400},
        {"field_without_colon", kGet + "X-A\r\n\r\n", 400},
        {"non_token_in_name", kGet + "X\x80Y: a\r\n\r\n", 400},
        {"nul_in_value", kGet + string("X-A: a\0b\r\n\r\n", 13), 400},
        {"ctl_in_value",
         kGet + "X-A: a\x01"
                "b\r\n\r\n",
         400},
        {"del_in_value",
         kGet + "X-A: a\x7f"
                "b\r\n\r\n",
         400},
        // Line endings.
        {"bare_lf_request_line", "GET / HTTP/1.1\nHost: a\r\n\r\n", 400},
        {"bare_lf_header", "GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400},
        {"bare_lf_end_of_head", "GET / HTTP/1.1\r\nHost: a\r\n\n", 400},
        {"bare_lf_only", "GET / HTTP/1.1\nHost: a\n\n", 400},
        {"bare_cr_request_line", "GET / HTTP/1.1\rHost: a\r\n\r\n", 400},
        {"bare_cr_header", "GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400},
        {"bare_lf_before_request", "\nGET / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        // Host.
        {"missing_host", "GET / HTTP/1.1\r\n\r\n", 400},
        {"double_host", kGet + "Host: b\r\n\r\n", 400},
        {"empty_host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
        {"host_with_space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        {"host_with_userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
        {"host_with_path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        {"host_bad_port", "GET / HTTP/1.1\r\nHost: a:99999\r\n\r\n", 400},
        {"host_empty_port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400},
        // Request target.
        {"absolute_form_other_host", "GET http://b/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"absolute_form_other_port", "GET http://a:8080/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"absolute_form_userinfo", "GET http://u@a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"absolute_form_ftp", "GET ftp://a/ HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"connect", "CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n", 501},
        {"connect_origin_form", "CONNECT / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"asterisk_with_get", "GET * HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"relative_target", "GET a HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"fragment_in_target", "GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        // Request line and version.
        {"http_2_0", "GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505},
        {"http_0_9_version", "GET / HTTP/0.9\r\nHost: a\r\n\r\n", 505},
        {"http_0_9_simple", "GET /\r\n\r\n", 400},
        {"http_1_2", "GET / HTTP/1.2\r\nHost: a\r\n\r\n", 505},
        {"http_1_10", "GET / HTTP/1.10\r\nHost: a\r\n\r\n", 400},
        {"rtsp_version", "GET / RTSP/1.0\r\nHost: a\r\n\r\n", 400},
        {"h2_preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
        {"double_space_request_line", "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        {"trailing_space_request_line", "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", 400},
        {"unknown_method", "QUERY / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
        {"lowercase_method", "get / HTTP/1.1\r\nHost: a\r\n\r\n", 501},
        {"garbage_method", "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n", 400},
        // Limits (max_header_bytes 1024, max_headers 20, max_body_bytes 1000).
        {"oversize_request_line", "GET /" + string(1100, 'a') + " HTTP/1.1\r\nHost: a\r\n\r\n",
         414},
        {"oversize_headers", kGet + "X-A: " + string(1100, 'a') + "\r\n\r\n", 431},
        {"too_many_headers", kGet + repeat("X-A: b\r\n", 25) + "\r\n", 431},
        {"body_over_limit_cl", kPost + "Content-Length: 1001\r\n\r\n", 413},
        {"body_over_limit_chunked", kChunkedHead + "3e9\r\n" + string(1001, 'a') + "\r\n0\r\n\r\n",
         413, 1},
        {"body_over_limit_many_chunks",
         kChunkedHead + repeat("1f4\r\n" + string(500, 'a') + "\r\n", 3), 413, 1},
        // Chunked framing (detected after the head was delivered).
        {"chunk_size_overflow", kChunkedHead + "10000000000000000\r\n", 400, 1},
        {"chunk_extension_too_long",
         kChunkedHead + "1;a=" + string(5000, 'b') + "\r\nx\r\n0\r\n\r\n", 400, 1},
        {"chunk_size_leading_zeros", kChunkedHead + string(5000, '0') + "1\r\nx\r\n0\r\n\r\n", 400,
         1},
        {"chunk_size_invalid_char", kChunkedHead + "5x\r\nhello\r\n0\r\n\r\n", 400, 1},
        {"chunk_size_space", kChunkedHead + "5 \r\nhello\r\n0\r\n\r\n", 400, 1},
        {"chunk_size_negative", kChunkedHead + "-5\r\nhello\r\n0\r\n\r\n", 400, 1},
        {"chunk_missing_crlf", kChunkedHead + "5\r\nhello0\r\n\r\n", 400, 1},
        {"chunk_bare_lf_size", kChunkedHead + "5\nhello\r\n0\r\n\r\n", 400, 1},
        {"chunk_bare_lf_data", kChunkedHead + "5\r\nhello\n0\r\n\r\n", 400, 1},
        {"last_chunk_bare_lf", kChunkedHead + "0\r\n\n", 400, 1},
        {"trailer_bare_lf", kChunkedHead + "0\r\nX-T: a\n\r\n", 400, 1},
        {"trailer_obs_fold", kChunkedHead + "0\r\nX-T: a\r\n b\r\n\r\n", 400, 1},
        // Smuggling a second request: it is parsed on its own, and refused on its own.
        {"smuggle_after_cl0",
         kPost + "Content-Length: 0\r\n\r\n"
                 "GET /admin HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n"
                 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
         400, 1},
        {"smuggle_after_chunked",
         kChunkedHead + "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, 1},
    };
}

}  // namespace sluice::http::desync

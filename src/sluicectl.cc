// sluicectl: sends one command line to sluice's control socket and prints the reply
// (protocol and exit statuses: shared/design/control.md).
//   exit 0: the server answered; 1: it answered with "error: ..." (or {"error": ...} for --json);
//   2: bad usage, cannot connect, or no complete reply.

#include <getopt.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/version.h"
#include "config/control_socket_lookup.h"
#include "config/units.h"
#include "control/control_server.h"

namespace {

constexpr const char* kDefaultConfig = "/etc/sluice/sluice.toml";
constexpr const char* kFallbackSocket = "/run/sluice/control.sock";
// A reload may take a while (config parse, DNS), an upgrade up to the 60 s the new process has
// to become ready; the server answers when it is done.
constexpr int kReplyTimeoutSeconds = 90;

constexpr int kExitOk = 0;
constexpr int kExitServerError = 1;
constexpr int kExitFailure = 2;

void usage(FILE* out) {
    std::fprintf(out,
                 "usage: sluicectl [-s SOCKET] [--json] COMMAND...\n"
                 "Sends COMMAND to a running sluice over its control socket and prints the "
                 "reply.\n"
                 "\n"
                 "options:\n"
                 "  -s, --socket SOCKET  control socket (default: global.control_socket from %s,\n"
                 "                       else %s)\n"
                 "  --json               JSON output (also accepted as the last token)\n"
                 "  -h, --help           show this help\n"
                 "  --version            print the version\n"
                 "\n"
                 "commands:\n"
                 "  help                                 list the server's commands\n"
                 "  status                               version, uptime, config generation, ...\n"
                 "  reload                               re-read the configuration file\n"
                 "  show pools | servers [POOL] | stats\n"
                 "  set server POOL/NAME state ready|drain|maint\n"
                 "  set server POOL/NAME weight N\n"
                 "  clear server POOL/NAME               drop runtime overrides\n"
                 "  add server POOL/NAME ADDRESS [weight N] [backup]\n"
                 "  del server POOL/NAME\n"
                 "  wait server POOL/NAME idle [TIMEOUT]  reply once it has nothing in flight\n"
                 "  upgrade                              zero-downtime binary upgrade\n"
                 "\n"
                 "exit status: 0 ok, 1 the server answered with an error, 2 could not connect or "
                 "bad usage\n",
                 kDefaultConfig, kFallbackSocket);
}

int usageError(const std::string& message) {
    std::fprintf(stderr, "sluicectl: %s\n", message.c_str());
    std::fprintf(stderr, "Try 'sluicectl --help'.\n");
    return kExitFailure;
}

std::string defaultSocket() {
    std::string path = sluice::config::controlSocketFromFile(kDefaultConfig);
    return path.empty() ? kFallbackSocket : path;
}

bool sendAll(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
}

// Reads until the server closes. Returns false (with *why) on timeout or a read error before any
// byte; a reset after some bytes ends the reply (the server closed with our input unread).
bool readReply(int fd, const std::string& socket_path, int timeout_s, std::string* reply,
               std::string* why) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
    char buf[16384];
    while (true) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left.count() <= 0) {
            *why = "no complete reply from " + socket_path + " within " +
                   std::to_string(timeout_s) + " s";
            return false;
        }
        pollfd pfd{fd, POLLIN, 0};
        const int ready = ::poll(&pfd, 1, static_cast<int>(left.count()));
        if (ready < 0) {
            if (errno == EINTR) continue;
            *why = std::string("poll: ") + std::strerror(errno);
            return false;
        }
        if (ready == 0) continue;  // deadline check above
        const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
        if (n > 0) {
            reply->append(buf, static_cast<size_t>(n));
            continue;
        }
        if (n == 0) return true;
        if (errno == EINTR || errno == EAGAIN) continue;
        if (errno == ECONNRESET && !reply->empty()) return true;
        *why = "reading from " + socket_path + ": " + std::strerror(errno);
        return false;
    }
}

// "error: ..." or, for --json, {"error": ...} (control.md).
bool isError(const std::string& reply) {
    if (reply.starts_with("error: ")) return true;
    if (!reply.starts_with("{")) return false;
    const sluice::Json parsed = sluice::Json::parse(reply, nullptr, /*allow_exceptions=*/false);
    return parsed.is_object() && parsed.contains("error");
}

}  // namespace

int main(int argc, char** argv) {
    std::string socket_path;
    bool json = false;
    // "+": the first word that is not an option starts the command, and everything from there
    // on is the command's (`sluicectl show servers --json`); "--" ends the options too.
    enum { kJson = 256, kVersion };
    static const option kOptions[] = {{"socket", required_argument, nullptr, 's'},
                                      {"json", no_argument, nullptr, kJson},
                                      {"help", no_argument, nullptr, 'h'},
                                      {"version", no_argument, nullptr, kVersion},
                                      {nullptr, 0, nullptr, 0}};
    opterr = 0;  // our messages, not getopt's
    for (int at = optind, opt; (opt = getopt_long(argc, argv, "+:s:h", kOptions, nullptr)) != -1;
         at = optind) {
        const std::string_view arg = argv[at];  // the argument being read, e.g. "-s" or "-tx"
        switch (opt) {
            case 's':
                socket_path = optarg;
                break;
            case kJson:
                json = true;
                break;
            case 'h':
                usage(stdout);
                return kExitOk;
            case kVersion:
                std::printf("sluicectl %s\n", sluice::kVersion);
                return kExitOk;
            case ':':
                return usageError("option " + std::string(arg.substr(0, arg.find('='))) +
                                  " needs SOCKET");
            default:
                return usageError("unknown option '" +
                                  (arg.starts_with("--")
                                       ? std::string(arg.substr(0, arg.find('=')))
                                       : std::string("-") + static_cast<char>(optopt)) +
                                  "'");
        }
    }
    const int i = optind;
    std::vector<std::string> command(argv + i, argv + argc);
    if (command.empty()) {
        usage(stderr);
        return kExitFailure;
    }
    if (json && command.back() != "--json") command.emplace_back("--json");

    std::string line;
    for (const std::string& token : command) {
        if (token.find_first_of("\n\r") != std::string::npos) {
            return usageError("arguments must not contain line breaks");
        }
        if (!line.empty()) line.push_back(' ');
        line += token;
    }
    line.push_back('\n');
    if (line.size() > sluice::control::kMaxCommandBytes) {
        return usageError("command longer than " +
                          std::to_string(sluice::control::kMaxCommandBytes) + " bytes");
    }

    if (socket_path.empty()) socket_path = defaultSocket();
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof(addr.sun_path)) {
        std::fprintf(stderr, "sluicectl: cannot connect to %s: %s\n", socket_path.c_str(),
                     std::strerror(ENAMETOOLONG));
        return kExitFailure;
    }
    std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());

    const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        std::fprintf(stderr, "sluicectl: socket: %s\n", std::strerror(errno));
        return kExitFailure;
    }
    int rc;
    do {
        rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof(addr));
    } while (rc != 0 && errno == EINTR);
    if (rc != 0) {
        const int err = errno;
        std::fprintf(stderr, "sluicectl: cannot connect to %s: %s%s\n", socket_path.c_str(),
                     std::strerror(err),
                     err == ENOENT || err == ECONNREFUSED ? " (is sluice running?)" : "");
        ::close(fd);
        return kExitFailure;
    }

    // A failed send may still leave an answer to read (the server rejects early and closes).
    const bool sent = sendAll(fd, line);
    const int send_errno = errno;
    std::string reply;
    std::string why;
    // `wait server POOL/NAME idle TIMEOUT` may legitimately take TIMEOUT: wait that much longer.
    int timeout_s = kReplyTimeoutSeconds;
    if (command.size() >= 5 && command[0] == "wait" && command[4] != "--json") {
        std::string ignored;
        if (const auto wait = sluice::config::parseDuration(command[4], &ignored)) {
            timeout_s += static_cast<int>(std::min<int64_t>(wait->count() / 1000, 1 << 24));
        }
    }
    const bool got = readReply(fd, socket_path, timeout_s, &reply, &why);
    ::close(fd);
    if (reply.empty()) {
        if (got) {
            why = socket_path + " closed the connection without a reply";
        } else if (!sent) {
            why = "writing to " + socket_path + ": " + std::strerror(send_errno);
        }
        std::fprintf(stderr, "sluicectl: %s\n", why.c_str());
        return kExitFailure;
    }
    std::fwrite(reply.data(), 1, reply.size(), stdout);
    if (reply.back() != '\n') std::fputc('\n', stdout);
    std::fflush(stdout);
    if (!got) {
        std::fprintf(stderr, "sluicectl: %s (reply incomplete)\n", why.c_str());
        return kExitFailure;
    }
    return isError(reply) ? kExitServerError : kExitOk;
}

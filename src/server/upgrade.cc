#include "server/upgrade.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>

#include "base/log.h"
#include "base/version.h"

extern char** environ;

namespace sluice::server {
namespace {

constexpr const char* kFdsVar = "SLUICE_UPGRADE_FDS";
constexpr const char* kControlVar = "SLUICE_UPGRADE_CONTROL_FD";
constexpr const char* kHealthVar = "SLUICE_UPGRADE_HEALTH_FD";
constexpr const char* kReadyVar = "SLUICE_UPGRADE_READY_FD";

bool parseFd(const std::string& text, int* fd) {
    char* end = nullptr;
    errno = 0;
    const long value = std::strtol(text.c_str(), &end, 10);
    if (text.empty() || *end || errno || value < 0 || value > 1 << 24) return false;
    if (::fcntl(static_cast<int>(value), F_GETFD) < 0) return false;  // not open
    *fd = static_cast<int>(value);
    return true;
}

void setCloexec(int fd) { ::fcntl(fd, F_SETFD, FD_CLOEXEC); }

std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    while (start <= text.size()) {
        const size_t end = std::min(text.find(sep, start), text.size());
        if (end > start) parts.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

std::string readAll(int fd) {
    std::string text;
    char buf[4096];
    ::lseek(fd, 0, SEEK_SET);
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        text.append(buf, static_cast<size_t>(n));
    }
    return text;
}

bool writeAll(int fd, const std::string& text) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        done += static_cast<size_t>(n);
    }
    return true;
}

}  // namespace

LaunchInfo LaunchInfo::current(int argc, char** argv) {
    LaunchInfo info;
    char path[4096];
    const ssize_t n = ::readlink("/proc/self/exe", path, sizeof path - 1);
    info.exe = n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string(argv[0]);
    for (int i = 0; i < argc; ++i) info.argv.emplace_back(argv[i]);
    return info;
}

bool Inheritance::fromEnvironment(Inheritance* out, std::string* error) {
    *out = Inheritance{};
    const char* ready = std::getenv(kReadyVar);
    if (ready == nullptr) return true;
    const auto bad = [&](const char* var, const std::string& value) {
        *error = std::string("upgrade: malformed ") + var + "=\"" + value + "\"";
        return false;
    };
    const std::string ready_text = ready;
    const std::string fds_text = std::getenv(kFdsVar) ? std::getenv(kFdsVar) : "";
    const std::string control_text = std::getenv(kControlVar) ? std::getenv(kControlVar) : "";
    const std::string health_text = std::getenv(kHealthVar) ? std::getenv(kHealthVar) : "";
    for (const char* var : {kReadyVar, kFdsVar, kControlVar, kHealthVar}) ::unsetenv(var);

    if (!parseFd(ready_text, &out->ready_fd)) return bad(kReadyVar, ready_text);
    setCloexec(out->ready_fd);
    for (const auto& entry : split(fds_text, ';')) {
        const size_t eq = entry.rfind('=');
        if (eq == std::string::npos || eq == 0) return bad(kFdsVar, fds_text);
        auto& list = out->listeners[entry.substr(0, eq)];
        for (const auto& fd_text : split(entry.substr(eq + 1), ',')) {
            int fd = -1;
            if (!parseFd(fd_text, &fd)) return bad(kFdsVar, fds_text);
            setCloexec(fd);
            list.push_back(fd);
        }
        if (list.empty()) return bad(kFdsVar, fds_text);
    }
    if (!control_text.empty()) {
        if (!parseFd(control_text, &out->control_fd)) return bad(kControlVar, control_text);
        setCloexec(out->control_fd);
    }
    if (!health_text.empty()) {
        int fd = -1;
        if (!parseFd(health_text, &fd)) return bad(kHealthVar, health_text);
        for (const auto& line : split(readAll(fd), '\n')) {
            const auto fields = split(line, '\t');
            if (fields.size() == 3) out->health[{fields[0], fields[1]}] = fields[2] == "up";
        }
        ::close(fd);
    }
    return true;
}

void Inheritance::signalReady() {
    if (ready_fd < 0) return;
    const std::string line =
        "ready " + std::to_string(static_cast<long>(getpid())) + " " + kVersion + "\n";
    if (!writeAll(ready_fd, line)) {
        LOG_WARN("upgrade: cannot tell the old process that this one serves: %s",
                 std::strerror(errno));
    }
    ::close(ready_fd);
    ready_fd = -1;
}

UpgradeChild::UpgradeChild(uv_loop_t* loop, Done done)
    : loop_(loop), done_(std::move(done)), timeout_(loop, [this] {
          fail("the new process was not ready within " + std::to_string(kReadyTimeoutMs / 1000) +
               " s; killed it");
      }) {}

UpgradeChild::~UpgradeChild() {
    if (!finished_ && pid_ > 0) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    closePipe();
}

bool UpgradeChild::start(const LaunchInfo& launch,
                         const std::map<std::string, std::vector<int>>& listeners, int control_fd,
                         const std::string& health_text, std::string* error) {
    int pipe_fds[2];
    if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
        *error = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    const int health_fd = ::memfd_create("sluice-upgrade-health", MFD_CLOEXEC);
    if (health_fd < 0 || !writeAll(health_fd, health_text)) {
        *error = std::string("memfd: ") + std::strerror(errno);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        if (health_fd >= 0) ::close(health_fd);
        return false;
    }

    // Everything the child needs is built before fork(): after it, only async-signal-safe calls.
    std::vector<int> passed{pipe_fds[1], health_fd};
    std::string fds_text;
    for (const auto& [key, fds] : listeners) {
        if (!fds_text.empty()) fds_text += ";";
        fds_text += key + "=";
        for (size_t i = 0; i < fds.size(); ++i) {
            fds_text += (i ? "," : "") + std::to_string(fds[i]);
            passed.push_back(fds[i]);
        }
    }
    std::vector<std::string> env_strings;
    for (char** e = environ; *e; ++e) {
        if (std::strncmp(*e, "SLUICE_UPGRADE_", 15) != 0) env_strings.emplace_back(*e);
    }
    env_strings.push_back(std::string(kFdsVar) + "=" + fds_text);
    env_strings.push_back(std::string(kReadyVar) + "=" + std::to_string(pipe_fds[1]));
    env_strings.push_back(std::string(kHealthVar) + "=" + std::to_string(health_fd));
    if (control_fd >= 0) {
        env_strings.push_back(std::string(kControlVar) + "=" + std::to_string(control_fd));
        passed.push_back(control_fd);
    }
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> argv_strings = launch.argv;
    std::vector<char*> argv;
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) {
        *error = std::string("fork: ") + std::strerror(errno);
        ::close(pipe_fds[0]);
        ::close(pipe_fds[1]);
        ::close(health_fd);
        return false;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        for (int fd : passed) ::fcntl(fd, F_SETFD, 0);  // inherited across execve
        ::execve(launch.exe.c_str(), argv.data(), envp.data());
        // Tell the parent why, in the one way it reads: "exec ERRNO\n".
        char line[32];
        int err = errno, len = 0;
        char digits[16];
        int nd = 0;
        do {
            digits[nd++] = static_cast<char>('0' + err % 10);
            err /= 10;
        } while (err && nd < 15);
        for (const char* p = "exec "; *p;) line[len++] = *p++;
        while (nd) line[len++] = digits[--nd];
        line[len++] = '\n';
        ssize_t ignored = ::write(pipe_fds[1], line, static_cast<size_t>(len));
        (void)ignored;
        _exit(127);
    }
    pid_ = pid;
    ::close(pipe_fds[1]);
    ::close(health_fd);
    read_fd_ = pipe_fds[0];
    ::fcntl(read_fd_, F_SETFL, O_NONBLOCK);
    // Readable also reports an error on the pipe: readSome() then sees it (and EOF) itself.
    watch_ = std::make_unique<loop::FdWatch>(loop_, read_fd_, [this](bool, bool) { readSome(); });
    watch_->watch(/*readable=*/true, /*writable=*/false);
    timeout_.start(kReadyTimeoutMs);
    return true;
}

void UpgradeChild::readSome() {
    char buf[512];
    for (;;) {
        const ssize_t n = ::read(read_fd_, buf, sizeof buf);
        if (n > 0) {
            received_.append(buf, static_cast<size_t>(n));
            const size_t newline = received_.find('\n');
            if (newline == std::string::npos) continue;
            const std::string line = received_.substr(0, newline);
            if (line.starts_with("ready ")) {
                const auto fields = split(line, ' ');
                finish(true, fields.size() >= 3 ? fields[2] : "?");
            } else if (line.starts_with("exec ")) {
                fail("cannot execute " + std::string("the new binary: ") +
                     std::strerror(std::atoi(line.c_str() + 5)));
            } else {
                fail("unexpected message from the new process: " + line);
            }
            return;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        // EOF (or an error) before the ready line: the new process exited.
        fail("");
        return;
    }
}

void UpgradeChild::fail(const std::string& why) {
    if (finished_) return;
    std::string text = why;
    if (pid_ > 0) {
        if (!why.empty()) ::kill(pid_, SIGKILL);  // it may still be running
        int status = 0;
        if (::waitpid(pid_, &status, 0) == pid_ && why.empty()) {
            text = WIFEXITED(status)
                       ? "the new process exited with status " +
                             std::to_string(WEXITSTATUS(status)) + " before it was ready"
                       : "the new process was killed by signal " +
                             std::to_string(WTERMSIG(status)) + " before it was ready";
            text += " (its errors are in the error log)";
        }
    }
    finish(false, text);
}

void UpgradeChild::finish(bool ok, const std::string& text) {
    if (finished_) return;
    finished_ = true;
    timeout_.stop();
    closePipe();
    const pid_t pid = ok ? pid_ : 0;
    auto done = std::move(done_);
    if (done) done(ok, pid, text);  // may destroy this object: nothing after it
}

void UpgradeChild::closePipe() {
    watch_.reset();  // before the descriptor closes (loop::FdWatch's contract)
    if (read_fd_ >= 0) {
        ::close(read_fd_);
        read_fd_ = -1;
    }
}

}  // namespace sluice::server

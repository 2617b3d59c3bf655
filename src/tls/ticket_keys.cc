#include "tls/ticket_keys.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sluice::tls {

namespace {

void randomOrDie(unsigned char* out, int n) {
    // Without randomness no ticket key (nor any TLS) is safe: this never happens on Linux with
    // getrandom(), and carrying on with a predictable key would be worse than stopping.
    if (RAND_bytes(out, n) != 1) {
        std::fputs("sluice: fatal: RAND_bytes failed making a session ticket key\n", stderr);
        std::abort();
    }
}

}  // namespace

TicketKeys::TicketKeys(std::chrono::seconds rotation, std::chrono::seconds lifetime, Clock clock)
    : rotation_(rotation), lifetime_(lifetime), clock_(std::move(clock)) {
    if (!clock_) clock_ = [] { return std::chrono::steady_clock::now(); };
    if (rotation_ <= std::chrono::seconds(0)) rotation_ = std::chrono::seconds(1);
    if (lifetime_ < rotation_) lifetime_ = rotation_;
    std::lock_guard<std::mutex> lock(mutex_);
    rotateLocked(clock_());
}

// Brings the ring up to date at `now`: a new current key when the current one is `rotation`
// old (or there is none), then every key `lifetime` old is dropped (and wiped).
void TicketKeys::rotateLocked(std::chrono::steady_clock::time_point now) {
    if (keys_.empty() || now - keys_.front().created >= rotation_) {
        Key key{};
        randomOrDie(key.name, sizeof key.name);
        randomOrDie(key.aes_key, sizeof key.aes_key);
        randomOrDie(key.hmac_key, sizeof key.hmac_key);
        key.created = now;
        keys_.insert(keys_.begin(), key);
        OPENSSL_cleanse(&key, sizeof key);
    }
    // The front key is younger than `rotation` <= `lifetime`, so it always stays.
    while (keys_.size() > 1 && now - keys_.back().created >= lifetime_) {
        OPENSSL_cleanse(&keys_.back(), sizeof(Key));
        keys_.pop_back();
    }
}

TicketKeys::Key TicketKeys::current() {
    std::lock_guard<std::mutex> lock(mutex_);
    rotateLocked(clock_());
    return keys_.front();
}

bool TicketKeys::find(const unsigned char name[16], Key* key, bool* renew) {
    std::lock_guard<std::mutex> lock(mutex_);
    rotateLocked(clock_());
    for (size_t i = 0; i < keys_.size(); ++i) {
        if (CRYPTO_memcmp(keys_[i].name, name, sizeof keys_[i].name) != 0) continue;
        if (key) *key = keys_[i];
        if (renew) *renew = i != 0;
        return true;
    }
    return false;
}

size_t TicketKeys::size() {
    std::lock_guard<std::mutex> lock(mutex_);
    rotateLocked(clock_());
    return keys_.size();
}

}  // namespace sluice::tls

#pragma once
// Session ticket keys shared by every listener and kept across reloads: a ring of the current
// key (encrypts new tickets) and the previous ones (still decrypt, and such tickets are
// renewed). A new key is made every `rotation` and a key is dropped after `lifetime`, so a
// stolen key exposes at most `lifetime` of sessions. Thread safe (workers handshake in
// parallel); the lock is taken once per ticket, never per request.

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace sluice::tls {

class TicketKeys {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;
    struct Key {
        unsigned char name[16];
        unsigned char aes_key[32];
        unsigned char hmac_key[32];
        std::chrono::steady_clock::time_point created;
    };

    explicit TicketKeys(std::chrono::seconds rotation = std::chrono::hours(1),
                        std::chrono::seconds lifetime = std::chrono::hours(12),
                        Clock clock = nullptr);

    // The key to encrypt a new ticket with (rotating first if the current one is too old).
    Key current();
    // The key named `name` if it is still in the ring; `renew` is set when it is not the
    // current key (the client should get a fresh ticket).
    bool find(const unsigned char name[16], Key* key, bool* renew);
    size_t size();

  private:
    void rotateLocked(std::chrono::steady_clock::time_point now);
    std::chrono::seconds rotation_;
    std::chrono::seconds lifetime_;
    Clock clock_;
    std::mutex mutex_;
    std::vector<Key> keys_;  // newest first
};

}  // namespace sluice::tls

// Prints a scrape-like /metrics body built with the real writer and scopes: every family of
// admin.md with values, two workers' counts, awkward label values (quotes, backslash, newline,
// UTF-8). tests/CMakeLists.txt pipes it through `promtool check metrics` (ctest
// unit.metrics.promtool): promtool must accept it without a single lint problem.

#include <cstdio>
#include <string>

#include "metrics/admin_families.h"
#include "metrics/stats_registry.h"

using namespace sluice::metrics;

int main() {
    StatsRegistries registries(2);
    auto web = registries.listeners.obtain("web");
    auto odd = registries.listeners.obtain("odd \"name\" \\ with\nnewline, caf\xC3\xA9");
    auto db = registries.listeners.obtain("db");
    for (int i = 0; i < 10; ++i) web->connectionOpened(i % 2);
    web->connectionClosed(1);
    for (int status : {200, 200, 201, 304, 404, 503, 101}) web->request(0, status);
    web->bytesReceived(0, 1234);
    web->bytesSent(1, 567890);
    web->rateLimited(1);
    odd->connectionOpened(0);
    db->connectionOpened(1);

    auto app = registries.pools.obtain("app");
    for (uint64_t us : {800, 4'000, 12'000, 40'000, 300'000, 2'000'000, 12'000'000}) {
        app->request(0, 200);
        app->observeDuration(0, us);
    }
    registries.pools.obtain("empty");

    auto app1 = registries.servers.obtain({"app", "app1"});
    auto app2 = registries.servers.obtain({"app", "app2"});
    app1->request(0, 200);
    app1->request(1, 500);
    app1->check(app1->mainSlot(), true);
    app2->failure(0);
    app2->ejection(0);
    app2->check(app2->mainSlot(), false);

    Exposition out;
    declareAdminFamilies(out);
    out.sample(out.family(family::kBuildInfo), {{"version", "0.1.0"}}, 1);
    out.sample(out.family(family::kStartTime), {}, 1764000000.5);
    out.sample(out.family(family::kConfigGeneration), {}, 3);
    const auto reloads = out.family(family::kConfigReloads);
    out.sample(reloads, {{"result", "ok"}}, 2);
    out.sample(reloads, {{"result", "error"}}, 1);
    for (const auto& [name, stats] : registries.listeners.entries()) {
        appendListener(out, name, stats->totals(), name != "db");
    }
    for (const auto& [name, stats] : registries.pools.entries()) {
        appendPool(out, name, stats->totals());
        out.sample(out.family(family::kPoolQueueLength), {{"pool", name}}, 0);
        out.sample(out.family(family::kPoolAvailableServers), {{"pool", name}}, 1);
    }
    for (const auto& [key, stats] : registries.servers.entries()) {
        appendServer(out, key.first, key.second, stats->totals());
        const auto labels = {Label{"pool", key.first}, Label{"server", key.second}};
        out.sample(out.family(family::kServerActiveRequests), labels, 0);
        out.sample(out.family(family::kServerUp), labels, key.second == "app1");
        for (const char* state : {"ready", "drain", "maint"}) {
            out.sample(out.family(family::kServerState),
                       {{"pool", key.first}, {"server", key.second}, {"state", state}},
                       std::string(state) == "ready");
        }
    }
    out.sample(out.family(family::kTlsCertificateExpiry),
               {{"listener", "web"}, {"name", "www.example.test"}}, 1795536000);

    const std::string text = out.text();
    std::fwrite(text.data(), 1, text.size(), stdout);
    return text.empty() ? 1 : 0;
}

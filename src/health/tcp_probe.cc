#include "health/tcp_probe.h"

namespace sluice::health {

void TcpProbe::onProbeConnected(net::TcpConnection&) { finish(true, "TCP connect ok"); }

}  // namespace sluice::health

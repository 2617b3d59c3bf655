#pragma once
// type = "tcp": the check passes when the TCP connection is established within the timeout.
// The connection is closed at once (FIN); nothing is sent.

#include "health/probe.h"

namespace sluice::health {

class TcpProbe : public Probe {
  public:
    using Probe::Probe;

  protected:
    void onProbeConnected(net::TcpConnection& conn) override;
};

}  // namespace sluice::health

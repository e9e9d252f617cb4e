// Events to containerd: containerd.services.events.ttrpc.v1.Events/Forward on TTRPC_ADDRESS with the
// namespace in the call's metadata, one at a time and in order from a queue, retried while containerd is
// unreachable (it may be restarting). Without a ttrpc address, containerd's `publish` sub-command (the
// legacy path) carries them.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>

#include "task/event_publisher.hpp"
#include "ttrpc/client.hpp"

namespace litebox::shim {

struct EventForwarderConfig {
  std::string ttrpc_address;      // TTRPC_ADDRESS
  std::string namespace_name;     // -namespace
  std::string publish_binary;     // -publish-binary (legacy path)
  std::string containerd_address; // -address (legacy path)
  // How long one event is retried before it is dropped (logged).
  std::chrono::seconds retry_limit{30};
  // The reaper's guard, held while the legacy path waits for its child.
  std::shared_mutex* runtime_guard = nullptr;
};

class EventForwarder final : public EventPublisher {
 public:
  explicit EventForwarder(EventForwarderConfig config);
  ~EventForwarder() override;  // flush(2 s), then stop

  void publish(std::string topic, std::string type_url, std::string value) override;
  // Waits until the queue is empty or `limit` passed; true when everything was delivered or dropped.
  bool flush(std::chrono::milliseconds limit);

 private:
  struct Event {
    std::string topic, type_url, value;
    std::chrono::system_clock::time_point timestamp;
  };
  void run();
  bool deliver(const Event& event);
  bool deliver_ttrpc(const std::string& forward_request);
  bool deliver_binary(const Event& event);

  EventForwarderConfig config_;
  std::unique_ptr<ttrpc::Client> client_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<Event> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace litebox::shim

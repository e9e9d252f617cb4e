// Where the task service sends its events (/tasks/create, /tasks/exit, ...). Publishing never blocks the
// caller: events are queued and delivered in the order they were published.
#pragma once

#include <string>

namespace litebox::shim {

class EventPublisher {
 public:
  virtual ~EventPublisher() = default;
  // `topic` such as "/tasks/exit"; `type_url` the event's message name ("containerd.events.TaskExit") and
  // `value` its serialized bytes.
  virtual void publish(std::string topic, std::string type_url, std::string value) = 0;
};

}  // namespace litebox::shim

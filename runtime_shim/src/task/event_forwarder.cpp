#include "task/event_forwarder.hpp"

#include <algorithm>

#include <spdlog/spdlog.h>

#include "events.pb.h"
#include "task/publish_binary.hpp"
#include "task/timestamps.hpp"
#include "wire.pb.h"

namespace litebox::shim {

EventForwarder::EventForwarder(EventForwarderConfig config) : config_(std::move(config)) {
  thread_ = std::thread([this] { run(); });
}

EventForwarder::~EventForwarder() {
  flush(std::chrono::seconds(2));
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void EventForwarder::publish(std::string topic, std::string type_url, std::string value) {
  spdlog::debug("event {} ({})", topic, type_url);
  {
    std::lock_guard lock(mutex_);
    queue_.push_back({std::move(topic), std::move(type_url), std::move(value), std::chrono::system_clock::now()});
  }
  changed_.notify_all();
}

bool EventForwarder::flush(std::chrono::milliseconds limit) {
  std::unique_lock lock(mutex_);
  return changed_.wait_for(lock, limit, [this] { return queue_.empty() && !busy_; });
}

void EventForwarder::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Event event = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    lock.unlock();
    const auto give_up = std::chrono::steady_clock::now() + config_.retry_limit;
    auto backoff = std::chrono::milliseconds(50);
    while (!deliver(event)) {
      bool stop = false;
      {
        std::lock_guard check(mutex_);
        stop = stopping_;
      }
      if (stop || std::chrono::steady_clock::now() + backoff > give_up) {
        spdlog::warn("event {}: not delivered to containerd, dropped", event.topic);
        break;
      }
      std::this_thread::sleep_for(backoff);
      backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
    }
    lock.lock();
    busy_ = false;
    changed_.notify_all();
  }
}

bool EventForwarder::deliver(const Event& event) {
  if (config_.ttrpc_address.empty()) return deliver_binary(event);
  containerd::events::ForwardRequest request;
  auto* envelope = request.mutable_envelope();
  set_timestamp(*envelope->mutable_timestamp(), event.timestamp);
  envelope->set_namespace_(config_.namespace_name);
  envelope->set_topic(event.topic);
  envelope->mutable_event()->set_type_url(event.type_url);
  envelope->mutable_event()->set_value(event.value);
  std::string bytes;
  request.SerializeToString(&bytes);
  return deliver_ttrpc(bytes);
}

bool EventForwarder::deliver_ttrpc(const std::string& forward_request) {
  if (!client_ || !client_->is_open()) {
    RpcStatus error;
    client_ = ttrpc::Client::connect(config_.ttrpc_address, &error);
    if (!client_) {
      spdlog::debug("events: connect {}: {}", config_.ttrpc_address, error.message);
      return false;
    }
  }
  std::string reply;
  RpcStatus status = client_->call("containerd.services.events.ttrpc.v1.Events", "Forward", forward_request, reply,
                                   {{"containerd-namespace-ttrpc", config_.namespace_name}}, std::chrono::seconds(5));
  if (!status.ok()) {
    spdlog::debug("events: Forward: {}", status.message);
    if (status.code == StatusCode::unavailable || status.code == StatusCode::deadline_exceeded) client_.reset();
    return false;
  }
  return true;
}

bool EventForwarder::deliver_binary(const Event& event) {
  if (config_.publish_binary.empty()) {
    spdlog::warn("event {}: neither TTRPC_ADDRESS nor -publish-binary given, dropped", event.topic);
    return true;
  }
  litebox::wire::Any any;
  any.set_type_url(event.type_url);
  any.set_value(event.value);
  std::string payload;
  any.SerializeToString(&payload);
  return run_publish_binary({config_.publish_binary, "--address", config_.containerd_address, "publish", "--topic",
                             event.topic, "--namespace", config_.namespace_name},
                            payload, config_.runtime_guard);
}

}  // namespace litebox::shim

// Sans-I/O state of one HTTP/1.1 connection: bytes in, response plans out.
// The caller owns the socket: it feeds received bytes, sends what the
// output side describes, and reports how much was sent.
#pragma once

#include <overlap/http/access_log.hpp>
#include <overlap/http/http_date.hpp>
#include <overlap/http/limits.hpp>
#include <overlap/http/parser.hpp>
#include <overlap/http/response_plan.hpp>
#include <overlap/http/static_site.hpp>

#include <sys/uio.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace overlap::http {

// The per-thread objects a connection uses; every referenced object must
// outlive the connections (the struct itself is copied).
// Responses sent in full, by status class (index 1 = 1xx … 5 = 5xx).
struct response_counts {
  std::array<std::uint64_t, 6> by_class{};
  std::uint64_t body_bytes = 0;
};

struct connection_context {
  const http_config& config;
  static_site& site;
  const http_date_clock& clock;  // the owner calls clock.update() before feeding
  access_log_sink* access_log = nullptr;
  // Set when `site` is shared by connections running on several threads (the
  // thread-per-connection model): every lookup then holds this lock. The
  // sharded servers give each thread its own site and leave it null.
  std::mutex* site_mutex = nullptr;
  // When set, every response is counted here as its last byte is reported
  // sent (the owner's metrics); nothing else is recorded for it.
  response_counts* counts = nullptr;
};

class connection {
 public:
  explicit connection(const connection_context& context);
  connection(const connection&) = delete;
  connection& operator=(const connection&) = delete;

  // --- input -------------------------------------------------------------
  // Parses requests from `data` and queues one response plan per request, in
  // order. Returns how many bytes were consumed; the caller keeps the rest and
  // feeds it again later. Consumption stops early when the response queue is
  // full (queue_full(): send first, then feed again) or when input_closed()
  // becomes true (the rest of the input must be discarded).
  std::size_t feed(std::span<const char> data);
  // The peer shut down its sending side. Queued responses are still to be
  // sent; an incomplete request is dropped without a response.
  void feed_eof();

  bool input_closed() const noexcept { return input_closed_; }
  bool queue_full() const noexcept { return count_ == max_slots_; }
  bool wants_input() const noexcept { return !input_closed_ && !queue_full() && !blocked_; }

  // --- deferred file loads (the site's cache defers misses) ---------------
  // A request whose file is not in the cache blocks the connection: feed()
  // stops after it, and blocked_path() names the path to load. Once the
  // cache has the outcome (open_file_cache::complete), resume() answers the
  // request (it may block again, e.g. on a directory's index file); the
  // caller then feeds the rest of its input.
  bool blocked() const noexcept { return blocked_; }
  std::string_view blocked_path() const noexcept { return blocked_path_; }
  void resume();

  // --- output ------------------------------------------------------------
  // Fills `out` with the unsent head and memory-body bytes of consecutive
  // queued responses, for one sendmsg/writev. Stops after the head of a
  // response whose body is a file range (send that with next_file_body()),
  // or when `out` is full (max_gather_iovecs is a good size). Returns the
  // number of iovecs written; 0 when the front response's file body is due
  // or nothing is queued. The iovecs stay valid until bytes_sent()/feed().
  // `more_follows`, if given, is set when these bytes are not the last the
  // peer waits for in this burst: a file body or another batch follows them
  // at once, or the connection closes right after them. The sender may then
  // let a partial segment wait (MSG_MORE) to leave with what follows or with
  // the FIN. It is false when they end the output of a connection that stays
  // open.
  std::size_t gather(std::span<iovec> out, bool* more_follows = nullptr) const noexcept;
  // The remaining file range of the front response, once its head is sent.
  std::optional<file_range> next_file_body() const noexcept;
  // Advances the output by `n` bytes actually written (by sendmsg or by
  // splice/sendfile); partial sends are fine. Completed responses are
  // released (and logged); the pin on their cache entry is dropped.
  void bytes_sent(std::size_t n);

  bool has_output() const noexcept { return count_ > 0; }
  // True once no more requests will be read and everything queued is sent:
  // close the socket now.
  bool should_close() const noexcept { return input_closed_ && count_ == 0 && !blocked_; }
  // True when input was closed while the client may still be sending: after
  // a malformed request, or after answering an "Expect: 100-continue"
  // request without reading its content. The caller should drain its input
  // before closing (lingering close) or the kernel may reset the connection
  // under the response.
  bool input_may_follow() const noexcept { return closed_on_error_ || content_unread_; }

  // Queued responses, front first (for tests, the fuzzer and diagnostics).
  std::size_t pending() const noexcept { return count_; }
  const response_plan& pending_plan(std::size_t i) const noexcept { return slot(i).plan; }
  // Bytes of the front response already sent.
  std::uint64_t front_bytes_sent() const noexcept { return sent_; }

 private:
  struct slot_state {
    response_plan plan;
    // Access-log fields, copied only when a sink is installed.
    std::string log_text;  // target, referer, user-agent, back to back
    std::size_t target_length = 0, referer_length = 0, agent_length = 0;
    std::string_view method = "-";
    std::string_view protocol = "HTTP/1.1";
    std::chrono::system_clock::time_point started;  // for the log's duration
  };

  slot_state& slot(std::size_t i) noexcept { return *slots_[(front_ + i) % slots_.size()]; }
  const slot_state& slot(std::size_t i) const noexcept {
    return *slots_[(front_ + i) % slots_.size()];
  }
  void grow_slots();
  slot_state& push_slot(const request* r, bool close_after);
  void pop_front();

  void respond(const request& r);
  void respond_error(const request* r, http_status s);
  void plan_error(slot_state& s, http_status status, bool head_only,
                  std::string_view extra_fields = {});
  // `twin`: `file` is a precompressed twin of the requested file.
  void plan_file(slot_state& s, const request& r, file_pin file, bool twin);
  // A 404 whose content is the --not-found-page file.
  void plan_not_found_page(slot_state& s, const request& r, file_pin file);
  static void attach_body(response_plan& p, const cached_file& f, std::uint64_t first,
                          std::uint64_t length);
  void finish_head(response_plan& p) const;
  std::shared_ptr<const rendered_response> ok_response(const cached_file& f) const;

  connection_context ctx_;  // a copy: it only holds references
  request_parser parser_;
  // A ring of response slots. It starts with one and doubles, up to
  // max_slots_, only when a client pipelines: a connection that sends one
  // request at a time pays for one slot, not sixteen. Slots live behind
  // pointers so growing never moves one (a plan's views may point into it).
  std::vector<std::unique_ptr<slot_state>> slots_;
  std::size_t max_slots_;
  std::size_t front_ = 0;
  std::size_t count_ = 0;
  std::uint64_t sent_ = 0;      // of the front response
  std::uint64_t requests_ = 0;  // counted only under max_requests_per_connection
  bool input_closed_ = false;
  bool closed_on_error_ = false;
  bool content_unread_ = false;     // an expects_continue request was answered
  bool keep_alive_header_ = false;  // HTTP/1.0 keep-alive: say so (RFC 9112 §9.3)
  bool blocked_ = false;            // the current request waits for a file load
  std::string blocked_path_;        // capacity reused
  std::string path_;                // normalised path, capacity reused
  std::string fields_;              // extra header fields being rendered, capacity reused
  // When the current request's head was complete (kept only for the log).
  std::chrono::system_clock::time_point head_time_;
};

}  // namespace overlap::http

#include <overlap/http/connection.hpp>

#include <overlap/http/conditional.hpp>
#include <overlap/http/content_coding.hpp>
#include <overlap/http/range.hpp>
#include <overlap/http/target.hpp>

#include "response_head.hpp"

#include <algorithm>

namespace overlap::http {
namespace {

constexpr std::string_view error_content_type = "Content-Type: text/html; charset=utf-8\r\n";
constexpr std::size_t initial_head_bytes = 512;

// Statuses that answer malformed or unacceptable input: after them the byte
// stream can no longer be trusted, so we close (RFC 9112 §9.6, §11.2).
bool closes_connection(http_status s) noexcept {
  switch (s) {
    case http_status::bad_request:
    case http_status::content_too_large:
    case http_status::uri_too_long:
    case http_status::request_header_fields_too_large:
    case http_status::not_implemented:
    case http_status::version_not_supported:
      return true;
    default:
      return false;
  }
}

}  // namespace

connection::connection(const connection_context& context)
    : ctx_(context),
      parser_(context.config.limits),
      max_slots_(std::max<std::size_t>(1, context.config.max_pipelined_responses)) {
  slots_.push_back(std::make_unique<slot_state>());
  path_.reserve(256);
  fields_.reserve(64);
}

void connection::grow_slots() {
  // Unroll the ring so the queued slots come first, then add free ones.
  std::rotate(slots_.begin(), slots_.begin() + static_cast<std::ptrdiff_t>(front_), slots_.end());
  front_ = 0;
  const std::size_t size = std::min(max_slots_, 2 * slots_.size());
  while (slots_.size() < size) slots_.push_back(std::make_unique<slot_state>());
}

connection::slot_state& connection::push_slot(const request* r, bool close_after) {
  if (count_ == slots_.size()) grow_slots();  // callers check queue_full() first
  slot_state& s = slot(count_);
  ++count_;
  if (r != nullptr && ctx_.config.max_requests_per_connection > 0 &&
      ++requests_ >= ctx_.config.max_requests_per_connection) {
    close_after = true;  // the last request this connection may make
  }
  response_plan& p = s.plan;
  if (p.head.capacity() < initial_head_bytes) p.head.reserve(initial_head_bytes);
  p.head.clear();
  p.body = body_kind::none;
  p.memory = {};
  p.file = {};
  p.pin.reset();
  p.rendered.reset();
  p.close_after = close_after;
  if (close_after) {
    input_closed_ = true;
  }
  keep_alive_header_ = r != nullptr && r->version_minor == 0 && !close_after;

  s.method = "-";
  s.protocol = "HTTP/1.1";
  if (ctx_.access_log != nullptr) {
    s.started = head_time_;
    s.log_text.clear();
    s.target_length = s.referer_length = s.agent_length = 0;
    if (r != nullptr && !r->method_name.empty()) {
      s.method = r->method_name;
      s.protocol = r->version_text();
      s.log_text.append(r->target);
      s.target_length = r->target.size();
      if (r->referer) {
        s.log_text.append(*r->referer), s.referer_length = r->referer->size();
      }
      if (r->user_agent) {
        s.log_text.append(*r->user_agent), s.agent_length = r->user_agent->size();
      }
    }
  }
  return s;
}

void connection::finish_head(response_plan& p) const {
  head::end(p.head, ctx_.config.added_fields, p.close_after, keep_alive_header_);
}

void connection::plan_error(slot_state& s, http_status status, bool head_only,
                            std::string_view extra_fields) {
  response_plan& p = s.plan;
  const std::string_view page = error_page(status);
  p.status = status;
  head::begin(p.head, status, ctx_.clock.date_value());
  p.head.append(error_content_type);
  head::content_length(p.head, page.size());
  p.head.append(extra_fields);
  finish_head(p);
  // HEAD: the same fields, no content (RFC 9110 §9.3.2).
  if (!head_only && !page.empty()) {
    p.body = body_kind::memory;
    p.memory = page;
  }
}

void connection::respond_error(const request* r, http_status status) {
  const bool head_only = r != nullptr && r->method == method_kind::head;
  const bool framing_error = closes_connection(status);
  slot_state& s =
      push_slot(r, framing_error || (r != nullptr && (!r->keep_alive || r->must_close)));
  if (framing_error) closed_on_error_ = true;
  plan_error(s, status, head_only);
}

void connection::plan_file(slot_state& s, const request& r, file_pin pin, bool twin) {
  response_plan& p = s.plan;
  const cached_file& f = *pin;
  const header_block& lines = twin ? f.as_coded_original : f.headers;
  const bool head_only = r.method == method_kind::head;
  const std::int64_t now = ctx_.clock.now_seconds();

  // RFC 9110 §13.2.2, for GET/HEAD (the only methods we serve).
  const request_conditions conditions{
      r.if_match,      r.if_unmodified_since, r.if_unmodified_since_count,
      r.if_none_match, r.if_modified_since,   r.if_modified_since_count};
  const precondition_outcome outcome =
      evaluate_preconditions(conditions, lines.etag, f.mtime_seconds, now);
  if (outcome == precondition_outcome::precondition_failed) {
    plan_error(s, http_status::precondition_failed, head_only);
    return;
  }
  if (outcome == precondition_outcome::not_modified) {
    p.status = http_status::not_modified;
    head::begin(p.head, p.status, ctx_.clock.date_value());
    p.head.append(lines.not_modified());  // §15.4.5: validators, Cache-Control, Vary
    finish_head(p);
    return;
  }

  std::uint64_t first = 0;
  std::uint64_t length = f.size;
  p.status = http_status::ok;
  // §14.2: Range is defined for GET only; a repeated Range or If-Range is
  // not a valid single field, so it is ignored. §13.1.5: a failed If-Range
  // means "send everything".
  if (r.method == method_kind::get && r.range && r.range_count == 1 &&
      (!r.if_range || (r.if_range_count == 1 &&
                       if_range_matches(*r.if_range, lines.etag, f.mtime_seconds, now)))) {
    const range_decision d = evaluate_range(*r.range, f.size);
    if (d.outcome == range_outcome::unsatisfiable) {
      // §15.5.17: a 416 says how large the representation is.
      fields_.clear();
      head::unsatisfied_range(fields_, f.size);
      plan_error(s, http_status::range_not_satisfiable, head_only, fields_);
      return;
    }
    if (d.outcome == range_outcome::satisfiable) {
      p.status = http_status::partial_content;
      first = d.first;
      length = d.length;
    }
  }

  if (p.status == http_status::ok && f.body_in_memory && !p.close_after && !keep_alive_header_ &&
      ctx_.site_mutex == nullptr && !twin) {
    // The common case, a plain 200 over a connection that stays open: the
    // file's shared rendering of it (one per second, for the Date). (A twin
    // has it for its own name, not for the original's.)
    p.rendered = ok_response(f);
    if (!head_only && length > 0) {
      p.body = body_kind::memory;
      p.memory = p.rendered->body();
    }
    p.pin = std::move(pin);
    return;
  }

  head::begin(p.head, p.status, ctx_.clock.date_value());
  if (p.status == http_status::partial_content) {
    p.head.append(lines.without_length());
    head::content_range(p.head, first, length, f.size);
    head::content_length(p.head, length);
  } else {
    p.head.append(lines.all());
  }
  finish_head(p);

  if (!head_only) {
    attach_body(p, f, first, length);
  }
  p.pin = std::move(pin);
}

void connection::attach_body(response_plan& p, const cached_file& f, std::uint64_t first,
                             std::uint64_t length) {
  if (length == 0) {
    return;
  }
  if (f.body_in_memory) {
    p.body = body_kind::memory;
    p.memory = std::string_view(f.body).substr(first, length);
  } else {
    p.body = body_kind::file;
    p.file = {f.fd.get(), first, length};
  }
}

void connection::plan_not_found_page(slot_state& s, const request& r, file_pin pin) {
  // An error's content: no validators, no ranges, and no conditionals
  // (RFC 9110 §13.2.1: preconditions are ignored for a non-2xx response).
  response_plan& p = s.plan;
  const cached_file& f = *pin;
  p.status = http_status::not_found;
  head::begin(p.head, p.status, ctx_.clock.date_value());
  p.head.append(f.headers.content_type());
  head::content_length(p.head, f.size);
  finish_head(p);
  if (r.method != method_kind::head) {
    attach_body(p, f, 0, f.size);
  }
  p.pin = std::move(pin);
}

std::shared_ptr<const rendered_response> connection::ok_response(const cached_file& f) const {
  const std::int64_t now = ctx_.clock.now_seconds();
  if (f.ok_response != nullptr && f.ok_response->date_seconds == now) {
    return f.ok_response;
  }
  // A new second: rewrite the spare unless a response being sent still
  // holds it (its bytes must not change under the send).
  std::shared_ptr<rendered_response> next = std::move(f.ok_spare);
  if (next == nullptr || next.use_count() != 1) {
    next = std::make_shared<rendered_response>();
  }
  std::string& b = next->bytes;
  b.clear();
  head::begin(b, http_status::ok, ctx_.clock.date_value());
  b.append(f.headers.all());
  head::end(b, ctx_.config.added_fields, false, false);
  next->head_length = b.size();
  b.append(f.body);
  next->date_seconds = now;
  f.ok_spare = std::move(f.ok_response);
  if (f.ok_spare == nullptr) {
    // First rendering: a spare of the same size, so later seconds allocate
    // nothing.
    f.ok_spare = std::make_shared<rendered_response>();
    f.ok_spare->bytes.reserve(b.size());
  }
  f.ok_response = next;
  return next;
}

void connection::respond(const request& r) {
  const bool head_only = r.method == method_kind::head;
  if (r.method != method_kind::get && r.method != method_kind::head) {
    // Checked before the target's form: CONNECT's authority-form and
    // OPTIONS' "*" are valid for those methods, which we do not allow on
    // static resources. RFC 9110 §15.5.6: 405 lists the allowed methods.
    slot_state& s = push_slot(&r, !r.keep_alive || r.must_close);
    plan_error(s, http_status::method_not_allowed, false, "Allow: GET, HEAD\r\n");
    return;
  }
  const split_target t = split_request_target(r.target);
  // RFC 9112 §3.2.4: "*" is only for server-wide OPTIONS.
  if (t.form == target_form::invalid || t.form == target_form::asterisk) {
    return respond_error(&r, http_status::bad_request);
  }
  bool refused = false;  // a name refused by policy: a 404 like any missing file
  switch (normalize_path(t.path, ctx_.site.options().serve_dotfiles, path_)) {
    case path_outcome::bad_request:
      return respond_error(&r, http_status::bad_request);
    case path_outcome::not_found:
      refused = true;
      break;
    case path_outcome::ok:
      break;
  }

  const bool input_was_closed = input_closed_;
  slot_state& s = push_slot(&r, !r.keep_alive || r.must_close);
  response_plan& p = s.plan;
  const accepted_codings codings = ctx_.site.options().precompressed
                                       ? accepted_codings_of(r.accept_encoding)
                                       : accepted_codings{};
  const auto lookup = [&] {
    return refused ? ctx_.site.not_found(ctx_.clock.now())
                   : ctx_.site.resolve(path_, ctx_.clock.now(), p.generated, codings);
  };
  site_lookup found;
  if (ctx_.site_mutex != nullptr) {
    const std::lock_guard<std::mutex> lock(*ctx_.site_mutex);
    found = lookup();
  } else {
    found = lookup();
  }
  switch (found.kind) {
    case site_lookup::outcome::pending:
      // Take the slot back: the request is answered by resume(), in order.
      --count_;
      if (ctx_.config.max_requests_per_connection > 0) --requests_;
      input_closed_ = input_was_closed;
      blocked_ = true;
      blocked_path_.assign(ctx_.site.cache().pending_path());
      return;
    case site_lookup::outcome::file:
      if (found.status == http_status::not_found) {
        plan_not_found_page(s, r, std::move(found.file));
      } else {
        plan_file(s, r, std::move(found.file), found.twin);
      }
      return;
    case site_lookup::outcome::redirect: {
      // RFC 9110 §10.2.2: a relative reference; the query is kept.
      std::string& h = p.head;
      p.status = http_status::moved_permanently;
      const std::string_view page = error_page(p.status);
      head::begin(h, p.status, ctx_.clock.date_value());
      h.append("Location: ");
      append_uri_path(h, path_);
      h.push_back('/');
      if (t.has_query) {
        h.append("?").append(t.query);
      }
      h.append("\r\n");
      h.append(error_content_type);
      head::content_length(h, page.size());
      finish_head(p);
      if (!head_only) {
        p.body = body_kind::memory, p.memory = page;
      }
      return;
    }
    case site_lookup::outcome::listing:
      p.status = http_status::ok;
      head::begin(p.head, p.status, ctx_.clock.date_value());
      p.head.append(error_content_type);
      head::content_length(p.head, p.generated.size());
      finish_head(p);
      if (!head_only) {
        p.body = body_kind::memory, p.memory = p.generated;
      }
      return;
    case site_lookup::outcome::error:
      plan_error(s, found.status, head_only);
      return;
  }
}

void connection::resume() {
  if (!blocked_) return;
  blocked_ = false;
  // The parser still holds the blocked request: it stopped right after it.
  respond(parser_.current());
}

std::size_t connection::feed(std::span<const char> data) {
  std::size_t used = 0;
  while (!input_closed_ && !queue_full() && !blocked_) {
    const parse_result r = parser_.parse(data.subspan(used));
    used += r.consumed;
    switch (r.event) {
      case parse_event::need_more:
        return used;
      case parse_event::head_complete:
        if (ctx_.access_log != nullptr) head_time_ = ctx_.clock.now();
        if (parser_.current().expects_continue) {
          // Answered before its content, which is never read: the
          // connection closes after this response (input_may_follow()).
          content_unread_ = true;
          respond(parser_.current());
        }
        break;  // parse the body (or the end of a body-less request) next
      case parse_event::message_complete:
        respond(parser_.current());
        break;
      case parse_event::error: {
        if (ctx_.access_log != nullptr) head_time_ = ctx_.clock.now();
        const request& cur = parser_.current();
        respond_error(cur.method_name.empty() ? nullptr : &cur, parser_.error_status());
        input_closed_ = true;  // RFC 9112 §9.6: after a framing error, close
        return used;
      }
    }
  }
  return used;
}

void connection::feed_eof() {
  // A request cut short by the peer gets no response; the queue still drains.
  (void)parser_.finish();
  input_closed_ = true;
}

std::size_t connection::gather(std::span<iovec> out, bool* more_follows) const noexcept {
  std::size_t n = 0;
  bool rest = false;  // queued bytes beyond those gathered follow at once
  auto push = [&](const char* p, std::size_t len) {
    if (len == 0) {
      return true;
    }
    if (n > 0 && static_cast<const char*>(out[n - 1].iov_base) + out[n - 1].iov_len == p) {
      out[n - 1].iov_len += len;  // contiguous (a rendered head and its body): one iovec
      return true;
    }
    if (n == out.size()) {
      rest = true;
      return false;
    }
    out[n].iov_base = const_cast<char*>(p);  // iovec is not const-correct
    out[n].iov_len = len;
    ++n;
    return true;
  };
  for (std::size_t i = 0; i < count_; ++i) {
    const response_plan& p = slot(i).plan;
    const std::string_view head = p.head_bytes();
    std::uint64_t skip = i == 0 ? sent_ : 0;
    if (skip < head.size()) {
      if (!push(head.data() + skip, head.size() - static_cast<std::size_t>(skip))) {
        break;
      }
      skip = 0;
    } else {
      skip -= head.size();
    }
    if (p.body == body_kind::file) {
      // Sent with next_file_body(); it, or the responses after it, follow.
      rest = rest || p.file.length > 0 || i + 1 < count_;
      break;
    }
    if (p.body == body_kind::memory && skip < p.memory.size() &&
        !push(p.memory.data() + skip, p.memory.size() - static_cast<std::size_t>(skip))) {
      break;
    }
  }
  if (more_follows != nullptr) {
    *more_follows = rest || input_closed_;  // input closed: the FIN follows the queue
  }
  return n;
}

std::optional<file_range> connection::next_file_body() const noexcept {
  if (count_ == 0) {
    return std::nullopt;
  }
  const response_plan& p = slot(0).plan;
  const std::size_t head_size = p.head_bytes().size();
  if (p.body != body_kind::file || sent_ < head_size) {
    return std::nullopt;
  }
  const std::uint64_t done = sent_ - head_size;
  if (done >= p.file.length) {
    return std::nullopt;
  }
  return file_range{p.file.fd, p.file.offset + done, p.file.length - done};
}

void connection::pop_front() {
  slot_state& s = slot(0);
  response_plan& p = s.plan;
  if (ctx_.access_log != nullptr) {
    const std::string_view text = s.log_text;
    access_log_record rec;
    rec.method = s.method;
    rec.protocol = s.protocol;
    rec.target = s.target_length > 0 ? text.substr(0, s.target_length) : std::string_view("-");
    rec.referer = text.substr(s.target_length, s.referer_length);
    rec.user_agent = text.substr(s.target_length + s.referer_length, s.agent_length);
    rec.status = code(p.status);
    rec.body_bytes = p.body_length();
    rec.duration =
        std::chrono::duration_cast<std::chrono::microseconds>(ctx_.clock.now() - s.started);
    ctx_.access_log->on_response(rec);
  }
  if (ctx_.counts != nullptr) {
    const unsigned cls = code(p.status) / 100;
    ++ctx_.counts->by_class[cls < ctx_.counts->by_class.size() ? cls : 0];
    ctx_.counts->body_bytes += p.body_length();
  }
  p.pin.reset();  // may close the fd if the cache already evicted the entry
  p.rendered.reset();
  p.memory = {};
  p.body = body_kind::none;
  front_ = (front_ + 1) % slots_.size();
  --count_;
  sent_ = 0;
}

void connection::bytes_sent(std::size_t n) {
  // Every plan has a non-empty head, so a completed plan consumed bytes.
  while (count_ > 0 && n > 0) {
    const std::uint64_t total = slot(0).plan.total_bytes();
    const std::uint64_t take = std::min<std::uint64_t>(total - sent_, n);
    sent_ += take;
    n -= static_cast<std::size_t>(take);
    if (sent_ < total) {
      return;
    }
    pop_front();
  }
}

}  // namespace overlap::http

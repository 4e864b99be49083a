#include "http/h2_connection.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <cctype>
#include <vector>

namespace cairn::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;

constexpr int64_t kMaxDataFrame = 256 * 1024;
// How much one write to the transport gathers at most.
constexpr size_t kMaxWrite = 2u << 20;

H2Connection* Self(void* user_data) {
  return static_cast<H2Connection*>(user_data);
}

// nghttp2_nv views of `headers` (which must outlive them), names lower-cased in `names`.
std::vector<nghttp2_nv> NameValues(const HeaderList& headers, std::vector<std::string>& names) {
  names.clear();
  names.reserve(headers.size());
  std::vector<nghttp2_nv> nva;
  nva.reserve(headers.size());
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    names.push_back(std::move(lower));
    const std::string& n = names.back();
    nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
                   reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), n.size(),
                   value.size(), NGHTTP2_NV_FLAG_NONE});
  }
  return nva;
}

}  // namespace

// The callbacks reach the connection through nghttp2's user_data; they run inside
// nghttp2_session_mem_recv/mem_send, i.e. on the strand.
class H2Callbacks {
 public:
  static int BeginHeaders(nghttp2_session*, const nghttp2_frame* frame, void* self) {
    return Self(self)->OnBeginHeaders(frame);
  }
  static int Header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                    size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* self) {
    return Self(self)->OnHeader(frame,
                                std::string_view(reinterpret_cast<const char*>(name), namelen),
                                std::string_view(reinterpret_cast<const char*>(value), valuelen));
  }
  static int Data(nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data, size_t len,
                  void* self) {
    return Self(self)->OnData(stream_id, data, len);
  }
  static int Frame(nghttp2_session*, const nghttp2_frame* frame, void* self) {
    return Self(self)->OnFrame(frame);
  }
  // DATA frames as large as the peer and the windows allow, up to kMaxDataFrame: a 4 MiB
  // chunk in 16 KiB frames (nghttp2's default) costs 256 callbacks and frame copies a side.
  static ssize_t DataLength(nghttp2_session*, uint8_t, int32_t, int32_t connection_window,
                            int32_t stream_window, uint32_t peer_max_frame, void*) {
    int64_t length =
        std::min<int64_t>({connection_window, stream_window, peer_max_frame, kMaxDataFrame});
    return static_cast<ssize_t>(std::max<int64_t>(length, 1));
  }
  // Stages a DATA frame of an outgoing body straight from the body (NGHTTP2_DATA_FLAG_NO_COPY
  // in ReadBody): no copy into nghttp2's frame buffer.
  static int SendData(nghttp2_session*, nghttp2_frame* frame, const uint8_t* header, size_t length,
                      nghttp2_data_source* source, void* self) {
    H2Connection* connection = Self(self);
    auto* body = static_cast<H2Connection::OutgoingBody*>(source->ptr);
    if (frame->data.padlen > 0) return NGHTTP2_ERR_CALLBACK_FAILURE;  // we never pad
    connection->transport_->Stage(asio::buffer(header, 9));
    connection->transport_->Stage(asio::buffer(body->bytes.view().data() + body->sent, length));
    body->sent += length;
    connection->pending_output_ -= length;
    connection->output_taken_ = true;
    // nghttp2 goes on to the next frame without returning from mem_send: pause it, so that
    // one write gathers at most about kMaxWrite.
    return connection->transport_->staged() >= kMaxWrite ? NGHTTP2_ERR_PAUSE : 0;
  }
  static int StreamClose(nghttp2_session*, int32_t stream_id, uint32_t error_code, void* self) {
    H2Connection* connection = Self(self);
    auto it = connection->outgoing_.find(stream_id);
    if (it != connection->outgoing_.end()) {
      connection->pending_output_ -= it->second->bytes.view().size() - it->second->sent;
      connection->outgoing_.erase(it);
      connection->output_taken_ = true;
    }
    return connection->OnStreamClose(stream_id, error_code);
  }
};

H2Connection::H2Connection(std::unique_ptr<H2Transport> transport, std::string already_read,
                           H2ConnectionOptions options)
    : transport_(std::move(transport)),
      executor_(transport_->executor()),
      already_read_(std::move(already_read)),
      options_(options) {
  nghttp2_session_callbacks* callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, &H2Callbacks::BeginHeaders);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, &H2Callbacks::Header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, &H2Callbacks::Data);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, &H2Callbacks::Frame);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, &H2Callbacks::StreamClose);
  nghttp2_session_callbacks_set_data_source_read_length_callback(callbacks,
                                                                 &H2Callbacks::DataLength);
  nghttp2_session_callbacks_set_send_data_callback(callbacks, &H2Callbacks::SendData);
  nghttp2_option* option;
  nghttp2_option_new(&option);
  if (options_.manual_window_updates) nghttp2_option_set_no_auto_window_update(option, 1);
  if (options_.server) {
    nghttp2_session_server_new2(&session_, callbacks, this, option);
  } else {
    nghttp2_session_client_new2(&session_, callbacks, this, option);
  }
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
}

H2Connection::~H2Connection() {
  nghttp2_session_del(session_);
}

void H2Connection::Start() {
  std::vector<nghttp2_settings_entry> settings = {
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, options_.stream_window},
      {NGHTTP2_SETTINGS_MAX_FRAME_SIZE, options_.max_frame},
  };
  if (options_.server) {
    settings.push_back({NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, options_.max_concurrent_streams});
  } else {
    settings.push_back({NGHTTP2_SETTINGS_ENABLE_PUSH, 0});
  }
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0,
                                        static_cast<int32_t>(options_.connection_window));
  if (!already_read_.empty()) {
    std::string input = std::exchange(already_read_, {});
    ssize_t rv = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(input.data()),
                                          input.size());
    if (rv < 0) {
      return End(Status::InvalidArgument(std::string("HTTP/2: ") + nghttp2_strerror(int(rv))));
    }
  }
  Flush();
  Read();
}

void H2Connection::Terminate(Status why) {
  if (ended_) return;
  if (!terminating_) terminating_ = std::move(why);
  nghttp2_session_terminate_session(session_,
                                    terminating_->ok() ? NGHTTP2_NO_ERROR : NGHTTP2_INTERNAL_ERROR);
  Flush();
}

int32_t H2Connection::SubmitRequest(const HeaderList& headers, OutgoingBytes body) {
  std::vector<std::string> names;
  std::vector<nghttp2_nv> nva = NameValues(headers, names);
  return SubmitWithBody(
      std::move(body),
      [&](const nghttp2_data_provider* provider) {
        return nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), provider, nullptr);
      },
      0);
}

int H2Connection::SubmitResponse(int32_t stream_id, const HeaderList& headers, OutgoingBytes body) {
  // nghttp2 would queue an answer to a stream the peer has reset and then drop it, and the
  // body would stay in outgoing_ until the connection ends.
  if (nghttp2_session_find_stream(session_, stream_id) == nullptr) return NGHTTP2_ERR_STREAM_CLOSED;
  std::vector<std::string> names;
  std::vector<nghttp2_nv> nva = NameValues(headers, names);
  int32_t rv = SubmitWithBody(
      std::move(body),
      [&](const nghttp2_data_provider* provider) {
        return nghttp2_submit_response(session_, stream_id, nva.data(), nva.size(), provider);
      },
      stream_id);
  return rv < 0 ? rv : 0;
}

int32_t H2Connection::SubmitWithBody(
    OutgoingBytes body, const std::function<int32_t(const nghttp2_data_provider*)>& submit,
    int32_t known_stream_id) {
  if (body.view().empty()) return submit(nullptr);
  auto outgoing = std::make_unique<OutgoingBody>();
  outgoing->bytes = std::move(body);
  nghttp2_data_provider provider;
  provider.source.ptr = outgoing.get();
  provider.read_callback = &H2Connection::ReadBody;
  int32_t rv = submit(&provider);
  if (rv < 0) return rv;
  pending_output_ += outgoing->bytes.view().size();
  outgoing_[known_stream_id != 0 ? known_stream_id : rv] = std::move(outgoing);
  return rv;
}

ssize_t H2Connection::ReadBody(nghttp2_session*, int32_t, uint8_t*, size_t length, uint32_t* flags,
                               nghttp2_data_source* source, void*) {
  // The frame is staged by SendData, from the body itself.
  auto* body = static_cast<H2Connection::OutgoingBody*>(source->ptr);
  size_t n = std::min(length, body->bytes.view().size() - body->framed);
  body->framed += n;
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;
  if (body->framed == body->bytes.view().size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

void H2Connection::ReleaseConnectionWindow(size_t bytes) {
  if (ended_ || bytes == 0) return;
  nghttp2_session_consume_connection(session_, bytes);
}

void H2Connection::ReleaseStreamWindow(int32_t stream_id, size_t bytes) {
  if (ended_ || bytes == 0 || nghttp2_session_find_stream(session_, stream_id) == nullptr) return;
  nghttp2_session_consume_stream(session_, stream_id, bytes);
}

void H2Connection::GrowStreamWindow(int32_t stream_id, size_t bytes) {
  if (ended_ || nghttp2_session_find_stream(session_, stream_id) == nullptr) return;
  const int32_t size = static_cast<int32_t>(std::min<size_t>(bytes, INT32_MAX));
  if (nghttp2_session_get_stream_local_window_size(session_, stream_id) >= size) return;
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, stream_id, size);
}

void H2Connection::Read() {
  // Over the output limit, stop only while a write is under way: the peer does not take what
  // is written. Output held back by its windows waits for its WINDOW_UPDATEs, which are input.
  if (reading_ || ended_ || (writing_ && pending_output_ > options_.max_pending_output)) return;
  reading_ = true;
  transport_->ReadSome(
      asio::buffer(read_buffer_), options_.idle_timeout,
      [self = shared_from_this()](beast::error_code ec, size_t n) {
        self->reading_ = false;
        if (self->ended_) return;
        if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated) {
          return self->End(self->terminating_.value_or(Status::OK()));
        }
        if (ec == beast::error::timeout) {
          return self->End(Status::Unavailable("HTTP/2 connection idle for too long"));
        }
        if (ec) return self->End(Status::IOError("HTTP/2 connection: " + ec.message()));
        ssize_t rv = nghttp2_session_mem_recv(self->session_, self->read_buffer_.data(), n);
        if (rv < 0) {
          return self->End(
              Status::InvalidArgument(std::string("HTTP/2: ") + nghttp2_strerror(int(rv))));
        }
        self->Flush();
        self->Read();
      });
}

void H2Connection::Flush() {
  if (writing_ || ended_) return;
  while (transport_->staged() < kMaxWrite) {
    const uint8_t* data = nullptr;
    ssize_t n = nghttp2_session_mem_send(session_, &data);  // DATA frames: see SendData
    if (n < 0) {
      return End(Status::IOError(std::string("HTTP/2: ") + nghttp2_strerror(int(n))));
    }
    if (n == 0) break;
    transport_->Stage(asio::buffer(data, size_t(n)));
  }
  if (output_taken_) {
    output_taken_ = false;
    OnOutputTaken();
  }
  if (transport_->staged() == 0) {
    if (terminating_ ||
        (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_))) {
      return End(terminating_.value_or(Status::OK()));
    }
    return Read();  // answers taken by the peer may have made room to read again
  }
  writing_ = true;
  transport_->Send([self = shared_from_this()](beast::error_code ec, size_t) {
    self->writing_ = false;
    if (self->ended_) return;
    if (ec) return self->End(Status::IOError("HTTP/2 connection: " + ec.message()));
    self->Flush();
    self->Read();  // the write that held reading back is done
  });
}

void H2Connection::End(Status why) {
  if (ended_) return;
  ended_ = true;
  transport_->Close();
  outgoing_.clear();
  pending_output_ = 0;
  OnEnded(why);
}

}  // namespace cairn::http

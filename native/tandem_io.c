/*
 * tandem_io: reads tandem's plain TCP sockets in batches, past node's per-read callback.
 *
 * Why: on a point select a proxy's own CPU is mostly the cost of getting each read into
 * JavaScript. node makes one callback per socket read (libuv's read callback, MakeCallback with
 * its tick and microtask checks, the stream's onStreamRead); under load several of tandem's
 * sockets are readable at once. Here one epoll set, watched by libuv like any other fd, holds
 * the sockets; when it wakes, every ready socket is read into that socket's own buffer and
 * JavaScript is called once with the list (bench/results: about 4 reads per call under sysbench).
 *
 * The sockets stay node's: node still connects, writes when the kernel is full, ends and
 * closes them. JavaScript stops node's reading (readStop) before it watches a socket here and
 * unwatches it before node closes it, so that a socket is never read by both.
 *
 * Exports:
 *   setup(meta: Int32Array, onBatch: (count) => void)
 *     meta receives [slot, result] pairs: bytes read, 0 at end of stream, or -errno.
 *   watch(slot, fd, buffer) -> 0 | -errno       read fd into buffer from now on
 *   setBuffer(slot, buffer)                     the next reads go to this buffer
 *   pause(slot) / resume(slot) -> 0 | -errno    stop or restart reading (backpressure)
 *   unwatch(slot)                               forget the socket (before node closes it)
 *   write(fd, buffer) -> bytes written | -errno one write(2), no retry: the caller queues the rest
 */
#define NAPI_VERSION 8
#include <errno.h>
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#define MAX_EVENTS 64

typedef struct {
  int fd;        /* -1: free */
  int reading;   /* registered in the epoll set */
  uint8_t *buf;  /* owned by a JavaScript Buffer that the caller keeps alive */
  size_t len;
} slot_t;

/* One per node environment (the main thread, or a worker that loads the addon too). */
typedef struct {
  int epfd;
  uv_poll_t poller;
  int poller_refs;
  napi_env env;
  napi_ref on_batch_ref, meta_ref;
  napi_async_context async_ctx;
  int32_t *meta;
  size_t meta_pairs;
  slot_t *slots;
  size_t slot_count;
} io_t;

static io_t *io_of(napi_env env) {
  void *data = NULL;
  napi_get_instance_data(env, &data);
  if (data == NULL) napi_throw_error(env, NULL, "tandem_io: setup() has not been called");
  return data;
}

static napi_value int_value(napi_env env, int32_t v) {
  napi_value out;
  napi_create_int32(env, v, &out);
  return out;
}

static int arg_ints(napi_env env, napi_callback_info info, size_t want, napi_value *argv, int32_t *ints,
                    size_t nints) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "tandem_io: missing arguments");
    return -1;
  }
  for (size_t i = 0; i < nints; i++) {
    if (napi_get_value_int32(env, argv[i], &ints[i]) != napi_ok) {
      napi_throw_type_error(env, NULL, "tandem_io: expected an integer");
      return -1;
    }
  }
  return 0;
}

static slot_t *slot_at(io_t *io, int32_t id) {
  if (id < 0 || (size_t)id >= io->slot_count) return NULL;
  return io->slots[id].fd < 0 ? NULL : &io->slots[id];
}

/* The poller keeps node's loop alive only while a socket is read here, as a reading socket would. */
static void poller_ref(io_t *io, int delta) {
  io->poller_refs += delta;
  if (io->poller_refs > 0) uv_ref((uv_handle_t *)&io->poller);
  else uv_unref((uv_handle_t *)&io->poller);
}

static int epoll_add(io_t *io, int32_t id, slot_t *s) {
  struct epoll_event ev;
  ev.events = EPOLLIN;
  ev.data.u64 = (uint32_t)id;
  if (epoll_ctl(io->epfd, EPOLL_CTL_ADD, s->fd, &ev) < 0) return -errno;
  s->reading = 1;
  poller_ref(io, 1);
  return 0;
}

/* A paused socket leaves the set: a level-triggered hang-up would otherwise wake us forever. */
static void epoll_del(io_t *io, slot_t *s) {
  if (!s->reading) return;
  epoll_ctl(io->epfd, EPOLL_CTL_DEL, s->fd, NULL);
  s->reading = 0;
  poller_ref(io, -1);
}

static void on_poll(uv_poll_t *handle, int status, int events) {
  (void)events;
  io_t *io = handle->data;
  if (status < 0) return;
  struct epoll_event evs[MAX_EVENTS];
  size_t max = io->meta_pairs < MAX_EVENTS ? io->meta_pairs : MAX_EVENTS;
  int n = epoll_wait(io->epfd, evs, (int)max, 0);
  if (n <= 0) return;
  int count = 0;
  for (int i = 0; i < n; i++) {
    int32_t id = (int32_t)evs[i].data.u64;
    slot_t *s = slot_at(io, id);
    if (s == NULL || !s->reading) continue;
    ssize_t r;
    do r = read(s->fd, s->buf, s->len);
    while (r < 0 && errno == EINTR);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
    int32_t result = r < 0 ? -errno : (int32_t)r;
    /* End of stream or an error: JavaScript hands the socket back to node, which reads no more. */
    if (r <= 0) epoll_del(io, s);
    io->meta[2 * count] = id;
    io->meta[2 * count + 1] = result;
    count++;
  }
  if (count == 0) return;
  napi_env env = io->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, io->on_batch_ref, &cb);
  napi_get_reference_value(env, io->meta_ref, &recv);
  napi_create_int32(env, count, &arg);
  /* As node does for its own callbacks: ticks and microtasks run after, a throw is uncaught. */
  if (napi_make_callback(env, io->async_ctx, recv, cb, 1, &arg, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_env_exit(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  io_t *io = data;
  /* The loop is closing with the environment; the poller's memory stays with it. */
  if (io->epfd >= 0) {
    uv_close((uv_handle_t *)&io->poller, NULL);
    close(io->epfd);
    io->epfd = -1;
  }
  free(io->slots);
  io->slots = NULL;
  io->slot_count = 0;
}

static napi_value js_setup(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "tandem_io: setup(meta, onBatch)");
    return NULL;
  }
  void *existing = NULL;
  napi_get_instance_data(env, &existing);
  if (existing != NULL) {
    napi_throw_error(env, NULL, "tandem_io: setup called twice");
    return NULL;
  }
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[0], &type, &length, &data, &ab, &offset) != napi_ok ||
      type != napi_int32_array || length < 2) {
    napi_throw_type_error(env, NULL, "tandem_io: meta must be an Int32Array");
    return NULL;
  }
  io_t *io = calloc(1, sizeof(io_t));
  if (io == NULL) {
    napi_throw_error(env, NULL, "tandem_io: out of memory");
    return NULL;
  }
  io->epfd = epoll_create1(EPOLL_CLOEXEC);
  if (io->epfd < 0) {
    free(io);
    napi_throw_error(env, NULL, "tandem_io: epoll_create1 failed");
    return NULL;
  }
  io->env = env;
  io->meta = data;
  io->meta_pairs = length / 2;
  napi_create_reference(env, argv[0], 1, &io->meta_ref);
  napi_create_reference(env, argv[1], 1, &io->on_batch_ref);
  napi_value name;
  napi_create_string_utf8(env, "tandem_io", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &io->async_ctx);
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  uv_poll_init(loop, &io->poller, io->epfd);
  io->poller.data = io;
  uv_poll_start(&io->poller, UV_READABLE, on_poll);
  uv_unref((uv_handle_t *)&io->poller);
  napi_set_instance_data(env, io, on_env_exit, NULL);
  return NULL;
}

static int set_buffer(napi_env env, slot_t *s, napi_value value) {
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, value, &data, &len) != napi_ok || len == 0) {
    napi_throw_type_error(env, NULL, "tandem_io: expected a non-empty Buffer");
    return -1;
  }
  s->buf = data;
  s->len = len;
  return 0;
}

static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  int32_t ints[2];
  if (arg_ints(env, info, 3, argv, ints, 2) < 0) return NULL;
  io_t *io = io_of(env);
  if (io == NULL) return NULL;
  int32_t id = ints[0], fd = ints[1];
  if (id < 0 || fd < 0) {
    napi_throw_range_error(env, NULL, "tandem_io: bad slot or fd");
    return NULL;
  }
  if ((size_t)id >= io->slot_count) {
    size_t n = io->slot_count ? io->slot_count : 64;
    while (n <= (size_t)id) n *= 2;
    slot_t *grown = realloc(io->slots, n * sizeof(slot_t));
    if (grown == NULL) {
      napi_throw_error(env, NULL, "tandem_io: out of memory");
      return NULL;
    }
    for (size_t i = io->slot_count; i < n; i++) grown[i].fd = -1;
    io->slots = grown;
    io->slot_count = n;
  }
  slot_t *s = &io->slots[id];
  if (s->fd >= 0) {
    napi_throw_error(env, NULL, "tandem_io: slot in use");
    return NULL;
  }
  if (set_buffer(env, s, argv[2]) < 0) return NULL;
  s->fd = fd;
  s->reading = 0;
  int err = epoll_add(io, id, s);
  if (err < 0) s->fd = -1;
  return int_value(env, err);
}

/* A call whose first argument names a slot. */
typedef struct {
  napi_value argv[2];
  io_t *io;
  int32_t id;
  int failed; /* the arguments were wrong: an exception is pending */
} slot_call_t;

/* The slot the call names, or NULL: when the arguments were wrong (c->failed), or when the slot
 * is not in use (unwatched already: nothing to do). */
static slot_t *slot_arg(napi_env env, napi_callback_info info, size_t want, slot_call_t *c) {
  c->failed = 1;
  if (arg_ints(env, info, want, c->argv, &c->id, 1) < 0) return NULL;
  c->io = io_of(env);
  if (c->io == NULL) return NULL;
  c->failed = 0;
  return slot_at(c->io, c->id);
}

static napi_value js_set_buffer(napi_env env, napi_callback_info info) {
  slot_call_t c;
  slot_t *s = slot_arg(env, info, 2, &c);
  if (s != NULL) set_buffer(env, s, c.argv[1]);
  return NULL;
}

static napi_value js_pause(napi_env env, napi_callback_info info) {
  slot_call_t c;
  slot_t *s = slot_arg(env, info, 1, &c);
  if (s != NULL) epoll_del(c.io, s);
  return NULL;
}

static napi_value js_resume(napi_env env, napi_callback_info info) {
  slot_call_t c;
  slot_t *s = slot_arg(env, info, 1, &c);
  if (c.failed) return NULL;
  if (s == NULL || s->reading) return int_value(env, 0);
  return int_value(env, epoll_add(c.io, c.id, s));
}

static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  slot_call_t c;
  slot_t *s = slot_arg(env, info, 1, &c);
  if (s != NULL) {
    epoll_del(c.io, s);
    s->fd = -1;
    s->buf = NULL;
    s->len = 0;
  }
  return NULL;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  int32_t fd;
  if (arg_ints(env, info, 2, argv, &fd, 1) < 0) return NULL;
  void *data;
  size_t len;
  if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "tandem_io: expected a Buffer");
    return NULL;
  }
  if (len > INT32_MAX) len = INT32_MAX;
  ssize_t r;
  do r = write(fd, data, len);
  while (r < 0 && errno == EINTR);
  if (r < 0) return int_value(env, (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -errno);
  return int_value(env, (int32_t)r);
}

NAPI_MODULE_INIT() {
  napi_property_descriptor props[] = {
      {"setup", NULL, js_setup, NULL, NULL, NULL, napi_default, NULL},
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_default, NULL},
      {"setBuffer", NULL, js_set_buffer, NULL, NULL, NULL, napi_default, NULL},
      {"pause", NULL, js_pause, NULL, NULL, NULL, napi_default, NULL},
      {"resume", NULL, js_resume, NULL, NULL, NULL, napi_default, NULL},
      {"unwatch", NULL, js_unwatch, NULL, NULL, NULL, napi_default, NULL},
      {"write", NULL, js_write, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

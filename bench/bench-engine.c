/* bench-engine.c: worker threads, each an epoll loop over many non-blocking
 * connections, and the natterd session (welcome, login) every natterd
 * connection goes through before a scenario sees it.
 *
 * Connections belong to one worker and are touched only on its thread; the
 * main thread hands work over with bench_worker_call(). Reads go into one
 * buffer per worker and only an incomplete tail is kept per connection, so
 * 50,000 idle connections cost the tool almost nothing.
 */
#define G_LOG_DOMAIN "natter-bench"

#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define READ_CHUNK (256 * 1024)

static gint64
timespec_ns (const struct timespec *ts)
{
  return (gint64) ts->tv_sec * G_GINT64_CONSTANT (1000000000) + ts->tv_nsec;
}

gint64
bench_now_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return timespec_ns (&ts);
}

/* CLOCK_REALTIME minus CLOCK_MONOTONIC, for the kernel's receive stamps
 * (realtime) against bench_now_ns (monotonic). The tightest of a few
 * bracketed samples: good to a microsecond or two. */
static gint64
realtime_offset_ns (void)
{
  static gint64 offset;
  static gsize once;

  if (g_once_init_enter (&once))
    {
      gint64 best_gap = G_MAXINT64;

      for (int i = 0; i < 16; i++)
        {
          struct timespec real;
          gint64 before = bench_now_ns (), after;

          clock_gettime (CLOCK_REALTIME, &real);
          after = bench_now_ns ();
          if (after - before < best_gap)
            {
              best_gap = after - before;
              offset = timespec_ns (&real) - (before + (after - before) / 2);
            }
        }
      g_once_init_leave (&once, 1);
    }
  return offset;
}

typedef struct {
  BenchWorkerFunc func;
  gpointer        data;
  GMutex         *mutex; /* set for a synchronous call */
  GCond          *cond;
  gboolean       *done;
} WorkerCall;

static void conn_start_real (BenchConn *c);
static void conn_fail      (BenchConn *c, const char *why);

static void
arm (BenchConn *c, gboolean want_out)
{
  struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0), .data.ptr = c };

  if (c->fd < 0 || c->want_out == want_out)
    return;
  c->want_out = want_out;
  epoll_ctl (c->worker->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

static void
setup_done (BenchConn *c)
{
  BenchWorker *w = c->worker;

  if (!c->in_setup)
    return;
  c->in_setup = FALSE;
  w->in_setup--;
  while (w->in_setup < w->window && !g_queue_is_empty (&w->to_start))
    conn_start_real (g_queue_pop_head (&w->to_start));
}

static void
conn_shutdown_fd (BenchConn *c)
{
  c->gen++;
  if (c->tls != NULL)
    {
      gnutls_deinit (c->tls);
      c->tls = NULL;
      c->tls_handshaking = FALSE;
    }
  if (c->fd >= 0)
    {
      epoll_ctl (c->worker->epfd, EPOLL_CTL_DEL, c->fd, NULL);
      close (c->fd);
      c->fd = -1;
    }
  g_clear_pointer (&c->rtail, g_free);
  c->rtail_len = 0;
  if (c->out)
    g_string_truncate (c->out, 0);
  c->out_off = 0;
  c->want_out = FALSE;
}

void
bench_conn_close (BenchConn *c)
{
  conn_shutdown_fd (c);
  c->phase = BENCH_PHASE_CLOSED;
  setup_done (c);
}

static void
conn_fail (BenchConn *c, const char *why)
{
  gboolean was_open = c->phase != BENCH_PHASE_CLOSED;

  bench_conn_close (c);
  if (was_open && c->ops->closed)
    c->ops->closed (c, why);
}

static void
conn_become_ready (BenchConn *c, gint64 now)
{
  c->phase = BENCH_PHASE_READY;
  c->t_ready = now;
  setup_done (c);
  if (c->ops->ready)
    c->ops->ready (c, now);
}

/* The engine a worker belongs to; set once at creation. */
static BenchEngine *worker_engine (BenchWorker *w);

static void
conn_start_real (BenchConn *c)
{
  BenchWorker *w = c->worker;
  BenchEngine *e = worker_engine (w);
  struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
  struct sockaddr_in dst;
  int one = 1;
  int fd;

  c->in_setup = TRUE;
  w->in_setup++;
  c->t_start = bench_now_ns ();
  c->phase = BENCH_PHASE_CONNECTING;
  fd = socket (AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      conn_fail (c, "socket() failed (file limit?)");
      return;
    }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (c->rx_stamp)
    setsockopt (fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof one);
  if (e->loopback)
    {
      /* A source address per connection from 127.1.0.0/16: the server's
       * per-address limits count each loopback address on its own, and the
       * ephemeral ports are per source address, so 50,000 connections never
       * run out of either. */
      struct sockaddr_in src = { .sin_family = AF_INET };
      guint i = c->src % 62500;

      src.sin_addr.s_addr = htonl ((127u << 24) | (1u << 16) | ((i / 250) << 8) | (i % 250 + 1));
      setsockopt (fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      if (bind (fd, (struct sockaddr *) &src, sizeof src) < 0)
        {
          close (fd);
          conn_fail (c, "bind() to a loopback source address failed");
          return;
        }
    }
  dst = e->addr;
  if (c->port != 0)
    dst.sin_port = htons (c->port);
  if (connect (fd, (struct sockaddr *) &dst, sizeof dst) < 0 && errno != EINPROGRESS)
    {
      close (fd);
      conn_fail (c, "connect() failed");
      return;
    }
  c->fd = fd;
  c->want_out = TRUE;
  epoll_ctl (w->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void
conn_enqueue (BenchConn *c)
{
  BenchWorker *w = c->worker;

  if (w->in_setup < w->window)
    conn_start_real (c);
  else
    g_queue_push_tail (&w->to_start, c);
}

void
bench_conn_send (BenchConn *c, const char *data, gsize len)
{
  if (c->fd < 0)
    return;
  if (!c->out)
    c->out = g_string_sized_new (MAX (len, 256));
  g_string_append_len (c->out, data, len);
  if (!c->dirty)
    {
      c->dirty = TRUE;
      g_ptr_array_add (c->worker->dirty, c);
    }
}

void
bench_conn_sendf (BenchConn *c, const char *fmt, ...)
{
  va_list ap;

  if (c->fd < 0)
    return;
  if (!c->out)
    c->out = g_string_sized_new (256);
  va_start (ap, fmt);
  g_string_append_vprintf (c->out, fmt, ap);
  va_end (ap);
  if (!c->dirty)
    {
      c->dirty = TRUE;
      g_ptr_array_add (c->worker->dirty, c);
    }
}

/* A GnuTLS error as the errno the plain path would have set. */
static ssize_t
tls_errno (ssize_t n, int otherwise)
{
  errno = (n == GNUTLS_E_AGAIN) ? EAGAIN : (n == GNUTLS_E_INTERRUPTED) ? EINTR : otherwise;
  return -1;
}

/* One write: send(), or a TLS record. Returns what send() would, errno
 * EAGAIN included. */
static ssize_t
conn_write (BenchConn *c, const char *data, gsize len)
{
  ssize_t n;

  if (c->tls == NULL)
    return send (c->fd, data, len, MSG_NOSIGNAL);
  n = gnutls_record_send (c->tls, data, len);
  return n >= 0 ? n : tls_errno (n, EPIPE);
}

/* recv() that also takes the kernel's stamp of the newest bytes read. */
static ssize_t
recv_stamped (BenchConn *c, void *buf, gsize len)
{
  union {
    char           buf[CMSG_SPACE (sizeof (struct timespec))];
    struct cmsghdr align;
  } control;
  struct iovec iov = { .iov_base = buf, .iov_len = len };
  struct msghdr msg = {
    .msg_iov = &iov, .msg_iovlen = 1,
    .msg_control = control.buf, .msg_controllen = sizeof control.buf,
  };
  ssize_t n;

  c->rx_ns = 0;
  n = recvmsg (c->fd, &msg, 0);
  if (n <= 0)
    return n;
  for (struct cmsghdr *cm = CMSG_FIRSTHDR (&msg); cm != NULL; cm = CMSG_NXTHDR (&msg, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_TIMESTAMPNS)
      {
        struct timespec ts;

        memcpy (&ts, CMSG_DATA (cm), sizeof ts);
        c->rx_ns = timespec_ns (&ts) - realtime_offset_ns ();
      }
  return n;
}

static ssize_t
conn_recv (BenchConn *c, void *buf, gsize len)
{
  ssize_t n;

  if (c->tls == NULL)
    return c->rx_stamp ? recv_stamped (c, buf, len) : recv (c->fd, buf, len, 0);
  n = gnutls_record_recv (c->tls, buf, len);
  return n >= 0 ? n : tls_errno (n, ECONNRESET);
}

static void
conn_flush (BenchConn *c)
{
  if (c->tls_handshaking)
    return; /* written once the handshake is done */
  while (c->fd >= 0 && c->out && c->out_off < c->out->len)
    {
      ssize_t n = conn_write (c, c->out->str + c->out_off, c->out->len - c->out_off);

      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            {
              arm (c, TRUE);
              return;
            }
          if (errno == EINTR)
            continue;
          conn_fail (c, "write failed");
          return;
        }
      c->out_off += n;
    }
  if (c->out && c->out_off >= c->out->len)
    {
      /* Keep small buffers for reuse; give big ones back. */
      if (c->out->allocated_len > 64 * 1024)
        {
          g_string_free (c->out, TRUE);
          c->out = NULL;
        }
      else
        g_string_truncate (c->out, 0);
      c->out_off = 0;
      if (c->phase != BENCH_PHASE_CONNECTING)
        arm (c, FALSE);
    }
}

/* The login's "features" member (with its leading comma), or "". */
static const char *
login_features (BenchConn *c)
{
  if (c->message_actions && c->files)
    return ",\"features\":[\"message_actions\",\"files\"]";
  if (c->files)
    return ",\"features\":[\"files\"]";
  return c->message_actions ? ",\"features\":[\"message_actions\"]" : "";
}

/* The natterd session: welcome, then the login or registration, then the
 * scenario. */
static void
session_line (BenchConn *c, char *line, gsize len, gint64 now)
{
  if (c->phase == BENCH_PHASE_WELCOME)
    {
      if (!bench_frame_is (line, len, "welcome"))
        {
          conn_fail (c, "no welcome");
          return;
        }
      switch (c->auth)
        {
        case BENCH_AUTH_TOKEN:
          bench_conn_sendf (c, "{\"type\":\"login\",\"id\":1,\"token\":\"%s\"%s}\n", c->secret,
                            login_features (c));
          break;
        case BENCH_AUTH_PASSWORD:
          bench_conn_sendf (c, "{\"type\":\"login\",\"id\":1,\"username\":\"%s\",\"password\":\"%s\"%s}\n",
                            c->username, c->secret, login_features (c));
          break;
        case BENCH_AUTH_REGISTER:
          bench_conn_sendf (c, "{\"type\":\"register\",\"id\":1,\"username\":\"%s\",\"password\":\"%s\"}\n",
                            c->username, c->secret);
          break;
        case BENCH_AUTH_NONE:
        default:
          conn_become_ready (c, now);
          return;
        }
      c->phase = BENCH_PHASE_AUTH;
      return;
    }

  if (c->phase == BENCH_PHASE_AUTH)
    {
      char type[32];

      if (!bench_frame_type (line, len, type, sizeof type))
        return;
      if (g_str_equal (type, "ok"))
        {
          if (c->auth != BENCH_AUTH_TOKEN && !c->token)
            {
              g_autoptr(JsonNode) node = NULL;
              JsonObject *obj = bench_parse_object (line, len, &node);

              if (obj && json_object_has_member (obj, "token"))
                c->token = g_strdup (json_object_get_string_member (obj, "token"));
            }
          conn_become_ready (c, now);
        }
      else if (g_str_equal (type, "error"))
        {
          g_autoptr(JsonNode) node = NULL;
          JsonObject *obj = bench_parse_object (line, len, &node);

          g_free (c->error_code);
          c->error_code = g_strdup (obj && json_object_has_member (obj, "code")
                                    ? json_object_get_string_member (obj, "code") : "?");
          conn_fail (c, "login refused");
        }
      /* Events before the reply (none are expected) are ignored. */
      return;
    }

  c->ops->line (c, line, len, now);
}

static void
conn_read (BenchConn *c, gint64 now)
{
  BenchWorker *w = c->worker;
  guint gen = c->gen;
  int round;

  /* TLS keeps decrypted bytes of its own that epoll cannot see: read it
   * until it says EAGAIN. */
  for (round = 0; (round < 8 || c->tls != NULL) && c->fd >= 0; round++)
    {
      gsize have = c->rtail_len;
      gsize total, start;
      ssize_t n;
      char *p;

      if (w->buf_cap < have + READ_CHUNK)
        {
          w->buf_cap = have + READ_CHUNK;
          w->buf = g_realloc (w->buf, w->buf_cap);
        }
      if (have)
        memcpy (w->buf, c->rtail, have);
      n = conn_recv (c, w->buf + have, w->buf_cap - have);
      if (n < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
          conn_fail (c, "read failed");
          return;
        }
      if (n == 0)
        {
          conn_fail (c, "closed by the server");
          return;
        }
      now = bench_now_ns ();
      total = have + n;
      /* Counters with one writer: a plain add published relaxed, no locked
       * instruction per read. */
      __atomic_store_n (&w->bytes_in, w->bytes_in + n, __ATOMIC_RELAXED);
      start = 0;
      p = (char *) w->buf;
      while (start < total)
        {
          char *nl = memchr (p + start, '\n', total - start);
          gsize len;

          if (!nl)
            break;
          len = nl - (p + start);
          w->lines_local++;
          if (c->phase == BENCH_PHASE_READY)
            c->ops->line (c, p + start, len, now);
          else
            session_line (c, p + start, len, now);
          start += len + 1;
          if (c->gen != gen)
            return; /* closed (or restarted) by the line handler */
        }
      __atomic_store_n (&w->lines, w->lines_local, __ATOMIC_RELAXED);
      if (start < total)
        {
          gsize rest = total - start;

          if (start > 0 || !c->rtail)
            {
              g_free (c->rtail);
              c->rtail = g_memdup2 (p + start, rest);
            }
          else
            {
              c->rtail = g_realloc (c->rtail, rest);
              memcpy (c->rtail, p + start, rest);
            }
          c->rtail_len = rest;
        }
      else
        {
          g_clear_pointer (&c->rtail, g_free);
          c->rtail_len = 0;
        }
      if ((gsize) n < w->buf_cap - have && c->tls == NULL)
        return; /* drained */
    }
}

/* --- TLS (--tls): natterd's certificate is not checked; the benchmark
 * measures the server's cost of TLS, not trust. */

static void
tls_continue (BenchConn *c)
{
  int rc = gnutls_handshake (c->tls);

  if (rc == GNUTLS_E_AGAIN || rc == GNUTLS_E_INTERRUPTED)
    {
      arm (c, gnutls_record_get_direction (c->tls) == 1);
      return;
    }
  if (rc < 0)
    {
      conn_fail (c, "TLS handshake failed");
      return;
    }
  c->tls_handshaking = FALSE;
  arm (c, c->out && c->out->len > c->out_off);
  conn_flush (c);
}

static void
tls_start (BenchConn *c)
{
  if (gnutls_init (&c->tls, GNUTLS_CLIENT | GNUTLS_NONBLOCK) < 0)
    {
      c->tls = NULL;
      conn_fail (c, "gnutls_init failed");
      return;
    }
  gnutls_set_default_priority (c->tls);
  gnutls_credentials_set (c->tls, GNUTLS_CRD_CERTIFICATE, worker_engine (c->worker)->tls_cred);
  gnutls_transport_set_int (c->tls, c->fd);
  c->tls_handshaking = TRUE;
  tls_continue (c);
}

static void
conn_event (BenchConn *c, guint32 events, gint64 now)
{
  guint gen;

  if (c->phase == BENCH_PHASE_CONNECTING)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
        return;
      getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0)
        {
          conn_fail (c, "connect failed");
          return;
        }
      c->phase = BENCH_PHASE_WELCOME;
      if (worker_engine (c->worker)->tls_cred != NULL)
        {
          tls_start (c);
          return;
        }
      arm (c, c->out && c->out->len > c->out_off);
      if (c->raw)
        conn_become_ready (c, now); /* no welcome to wait for */
      return;
    }
  if (c->tls_handshaking)
    {
      tls_continue (c);
      return;
    }
  gen = c->gen;
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
    conn_read (c, now);
  if (c->gen == gen && c->fd >= 0 && (events & EPOLLOUT))
    conn_flush (c);
}

static void
drain_calls (BenchWorker *w)
{
  guint64 v;
  WorkerCall *call;

  if (read (w->evfd, &v, sizeof v) < 0)
    { /* nothing pending */ }
  while ((call = g_async_queue_try_pop (w->calls)))
    {
      call->func (w, call->data);
      if (call->mutex)
        {
          g_mutex_lock (call->mutex);
          *call->done = TRUE;
          g_cond_broadcast (call->cond);
          g_mutex_unlock (call->mutex);
        }
      else
        g_free (call);
    }
}

static gpointer
worker_main (gpointer data)
{
  BenchWorker *w = data;
  struct epoll_event evs[512];

  while (!g_atomic_int_get (&w->stop))
    {
      struct timespec ts, *tsp = NULL;
      gboolean calls;
      gint64 now;
      int n, i;

      if (w->tick)
        {
          gint64 wait = w->tick_at - bench_now_ns ();

          if (wait < 0)
            wait = 0;
          ts.tv_sec = wait / 1000000000;
          ts.tv_nsec = wait % 1000000000;
          tsp = &ts;
        }
      n = epoll_pwait2 (w->epfd, evs, G_N_ELEMENTS (evs), tsp, NULL);
      now = bench_now_ns ();
      calls = FALSE;
      for (i = 0; i < n; i++)
        {
          if (evs[i].data.ptr == NULL)
            calls = TRUE;
          else
            conn_event (evs[i].data.ptr, evs[i].events, now);
        }
      /* After the batch's connection events, never before: a call may
       * free connections that later entries of @evs still point to (ASan
       * caught free_conns_cb doing so in the smoke test). */
      if (calls)
        drain_calls (w);
      if (w->tick && now >= w->tick_at)
        {
          now = bench_now_ns ();
          w->tick (w, now, w->tick_data);
        }
      /* Write what the handlers queued in this round, one send per
       * connection. */
      for (i = 0; i < (int) w->dirty->len; i++)
        {
          BenchConn *c = g_ptr_array_index (w->dirty, i);

          c->dirty = FALSE;
          if (c->phase != BENCH_PHASE_CONNECTING)
            conn_flush (c);
        }
      g_ptr_array_set_size (w->dirty, 0);
    }
  return NULL;
}

void
bench_worker_call (BenchWorker *w, BenchWorkerFunc func, gpointer data)
{
  WorkerCall *call = g_new0 (WorkerCall, 1);
  guint64 one = 1;

  call->func = func;
  call->data = data;
  g_async_queue_push (w->calls, call);
  if (write (w->evfd, &one, sizeof one) < 0)
    g_warning ("eventfd write: %s", g_strerror (errno));
}

void
bench_worker_call_sync (BenchWorker *w, BenchWorkerFunc func, gpointer data)
{
  GMutex mutex;
  GCond cond;
  gboolean done = FALSE;
  WorkerCall call = { func, data, &mutex, &cond, &done };
  guint64 one = 1;

  g_mutex_init (&mutex);
  g_cond_init (&cond);
  g_async_queue_push (w->calls, &call);
  if (write (w->evfd, &one, sizeof one) < 0)
    g_warning ("eventfd write: %s", g_strerror (errno));
  g_mutex_lock (&mutex);
  while (!done)
    g_cond_wait (&cond, &mutex);
  g_mutex_unlock (&mutex);
  g_mutex_clear (&mutex);
  g_cond_clear (&cond);
}

void
bench_engine_call_all (BenchEngine *e, BenchWorkerFunc func, gpointer data)
{
  guint i;

  for (i = 0; i < e->n_workers; i++)
    bench_worker_call_sync (e->workers[i], func, data);
}

static BenchEngine *
worker_engine (BenchWorker *w)
{
  return w->engine;
}

BenchEngine *
bench_engine_new (const char *host, guint16 port, guint n_workers, GError **error)
{
  BenchEngine *e = g_new0 (BenchEngine, 1);
  guint i;

  e->addr.sin_family = AF_INET;
  e->addr.sin_port = htons (port);
  if (inet_pton (AF_INET, host, &e->addr.sin_addr) != 1)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "%s is not an IPv4 address", host);
      g_free (e);
      return NULL;
    }
  e->loopback = (ntohl (e->addr.sin_addr.s_addr) >> 24) == 127;
  e->n_workers = MAX (n_workers, 1);
  e->workers = g_new0 (BenchWorker *, e->n_workers);
  for (i = 0; i < e->n_workers; i++)
    {
      BenchWorker *w = g_new0 (BenchWorker, 1);
      struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
      char name[32];

      w->index = i;
      w->engine = e;
      w->epfd = epoll_create1 (EPOLL_CLOEXEC);
      w->evfd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
      epoll_ctl (w->epfd, EPOLL_CTL_ADD, w->evfd, &ev);
      w->calls = g_async_queue_new ();
      w->conns = g_ptr_array_new ();
      w->dirty = g_ptr_array_new ();
      g_queue_init (&w->to_start);
      w->window = 256;
      w->hist = g_new0 (BenchHist, 1);
      w->hist_arrival = g_new0 (BenchHist, 1);
      g_snprintf (name, sizeof name, "bench-w%u", i);
      e->workers[i] = w;
      w->thread = g_thread_new (name, worker_main, w);
    }
  return e;
}

static void
free_conns_cb (BenchWorker *w, gpointer data)
{
  guint i;

  for (i = 0; i < w->conns->len; i++)
    {
      BenchConn *c = g_ptr_array_index (w->conns, i);

      conn_shutdown_fd (c);
      if (c->out)
        g_string_free (c->out, TRUE);
      g_free (c->token);
      g_free (c->error_code);
      g_free (c);
    }
  g_ptr_array_set_size (w->conns, 0);
  g_ptr_array_set_size (w->dirty, 0);
  g_queue_clear (&w->to_start);
  w->in_setup = 0;
  w->tick = NULL;
}

static void
stop_cb (BenchWorker *w, gpointer data)
{
  g_atomic_int_set (&w->stop, 1);
}

gboolean
bench_engine_set_tls (BenchEngine *e, GError **error)
{
  if (e->tls_cred != NULL)
    return TRUE;
  if (gnutls_certificate_allocate_credentials (&e->tls_cred) < 0)
    {
      e->tls_cred = NULL;
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot set up GnuTLS");
      return FALSE;
    }
  return TRUE;
}

void
bench_engine_free (BenchEngine *e)
{
  guint i;

  if (!e)
    return;
  for (i = 0; i < e->n_workers; i++)
    {
      BenchWorker *w = e->workers[i];

      bench_worker_call_sync (w, free_conns_cb, NULL);
      bench_worker_call (w, stop_cb, NULL);
      g_thread_join (w->thread);
      close (w->epfd);
      close (w->evfd);
      g_async_queue_unref (w->calls);
      g_ptr_array_free (w->conns, TRUE);
      g_ptr_array_free (w->dirty, TRUE);
      g_free (w->buf);
      g_free (w->hist);
      g_free (w->hist_arrival);
      g_free (w);
    }
  g_free (e->workers);
  if (e->tls_cred != NULL)
    gnutls_certificate_free_credentials (e->tls_cred);
  g_free (e);
}

void
bench_engine_drop_conns (BenchEngine *e)
{
  bench_engine_call_all (e, free_conns_cb, NULL);
}

BenchWorker *
bench_engine_worker (BenchEngine *e, guint i)
{
  return e->workers[i % e->n_workers];
}

typedef struct {
  BenchConn *c;
  char      *desc;
} TlsDescCall;

static void
tls_desc_cb (BenchWorker *w, gpointer data)
{
  TlsDescCall *call = data;
  char *desc;

  if (call->c->tls == NULL || call->c->tls_handshaking)
    return;
  desc = gnutls_session_get_desc (call->c->tls);
  call->desc = g_strdup (desc);
  gnutls_free (desc);
}

char *
bench_conn_tls_desc (BenchConn *c)
{
  TlsDescCall call = { c, NULL };

  bench_worker_call_sync (c->worker, tls_desc_cb, &call);
  return call.desc;
}

static guint next_src;

BenchConn *
bench_conn_new (BenchWorker *w, const BenchConnOps *ops, gpointer group,
                guint index, BenchAuth auth, const char *username, const char *secret)
{
  BenchConn *c = g_new0 (BenchConn, 1);

  c->worker = w;
  c->ops = ops;
  c->group = group;
  c->fd = -1;
  c->index = index;
  c->auth = auth;
  c->username = username;
  c->secret = secret;
  c->src = g_atomic_int_add (&next_src, 1);
  return c;
}

static void
start_cb (BenchWorker *w, gpointer data)
{
  BenchConn *c = data;

  g_ptr_array_add (w->conns, c);
  conn_enqueue (c);
}

void
bench_conn_start (BenchConn *c)
{
  bench_worker_call (c->worker, start_cb, c);
}

void
bench_conn_restart (BenchConn *c)
{
  conn_shutdown_fd (c);
  setup_done (c);
  c->phase = BENCH_PHASE_IDLE;
  conn_enqueue (c);
}

void
bench_worker_set_window (BenchWorker *w, guint window)
{
  w->window = MAX (window, 1);
}

void
bench_worker_set_tick (BenchWorker *w, BenchTickFunc tick, gpointer data, gint64 at)
{
  w->tick = tick;
  w->tick_data = data;
  w->tick_at = at;
}

guint64
bench_engine_sum_lines (BenchEngine *e)
{
  guint64 sum = 0;
  guint i;

  for (i = 0; i < e->n_workers; i++)
    sum += __atomic_load_n (&e->workers[i]->lines, __ATOMIC_RELAXED);
  return sum;
}

guint64
bench_wait_counter (const guint64 *counter, guint64 target, gint64 deadline_ns)
{
  guint64 v;

  while ((v = __atomic_load_n (counter, __ATOMIC_ACQUIRE)) < target && bench_now_ns () < deadline_ns)
    g_usleep (1000);
  return v;
}

// Load generator for bench/handshake: every request on a new TLS connection, full handshakes or
// resumed ones (TLS 1.3 session tickets), C connections at a time for a fixed time. Written in C
// on OpenSSL because the usual tools cannot be told which: wrk and h2load resume a session when
// they reconnect (so "one handshake per request" with them measures mostly resumptions), and a
// Node client would spend more CPU per handshake than the servers it measures.
//
// Each connection: TCP connect, TLS handshake (SNI, ALPN http/1.1), GET with Connection: close,
// read until the server closes. Its latency is connect() to the server's close. In "resumed"
// mode each of the C slots offers the ticket its previous connection received (as a returning
// browser does); its first connection is a full handshake and is not counted.
//
//   handshake-load HOST PORT SERVERNAME PATH full|resumed CONNECTIONS SECONDS
// Prints one JSON line: connections, seconds, rate, p50_ms, p99_ms, resumed, errors (all of these
// over the measured time), and completed (every connection, warm-up included).
//
// Build: cc -O2 -o handshake-load handshake-load.c -lssl -lcrypto (Debian: gcc, libssl-dev)
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum phase { CONNECTING, HANDSHAKE, WRITING, READING };

struct slot {
  int fd;
  SSL *ssl;
  enum phase phase;
  double started;
  size_t written;
  SSL_SESSION *session; /* the ticket to offer next (resumed mode) */
  int warm;             /* this slot's first (full) connection is done */
};

static struct sockaddr_in server;
static const char *servername;
static char request[512];
static size_t request_len;
static int resume_mode;
static SSL_CTX *ctx;
static int epfd;

static double *latencies;
static size_t counted, latencies_cap, resumed, errors, completed;
static double measure_from, measure_until;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static void watch(struct slot *s, uint32_t events, int op) {
  struct epoll_event ev = {.events = events, .data.ptr = s};
  if (epoll_ctl(epfd, op, s->fd, &ev) != 0) {
    perror("epoll_ctl");
    exit(1);
  }
}

static void open_connection(struct slot *s) {
  s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (s->fd < 0) {
    perror("socket");
    exit(1);
  }
  int one = 1;
  setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  s->started = now();
  s->written = 0;
  s->phase = CONNECTING;
  if (connect(s->fd, (struct sockaddr *)&server, sizeof server) != 0 && errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
  s->ssl = SSL_new(ctx);
  SSL_set_fd(s->ssl, s->fd);
  SSL_set_tlsext_host_name(s->ssl, servername);
  if (resume_mode && s->session) SSL_set_session(s->ssl, s->session);
  watch(s, EPOLLOUT, EPOLL_CTL_ADD);
}

static void finish(struct slot *s, int ok) {
  double ended = now();
  if (ok) completed++;
  if (!ok) {
    if (ended >= measure_from) errors++;
  } else if (s->warm || !resume_mode) {
    if (s->started >= measure_from && ended <= measure_until) {
      if (counted == latencies_cap) {
        latencies_cap = latencies_cap ? latencies_cap * 2 : 65536;
        latencies = realloc(latencies, latencies_cap * sizeof *latencies);
      }
      latencies[counted++] = ended - s->started;
      if (SSL_session_reused(s->ssl)) resumed++;
    }
  }
  if (ok && resume_mode) {
    /* The newest ticket this connection received (TLS 1.3 sends them after the handshake). */
    SSL_SESSION *latest = SSL_get1_session(s->ssl);
    if (latest && SSL_SESSION_is_resumable(latest)) {
      if (s->session) SSL_SESSION_free(s->session);
      s->session = latest;
      s->warm = 1;
    } else if (latest) {
      SSL_SESSION_free(latest);
    }
  }
  epoll_ctl(epfd, EPOLL_CTL_DEL, s->fd, NULL);
  /* Closed cleanly: freed otherwise, OpenSSL would mark the session not resumable. */
  if (ok) SSL_set_shutdown(s->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
  /* The server closed first; a reset here leaves no TIME_WAIT to exhaust the local ports. */
  struct linger reset = {.l_onoff = 1, .l_linger = 0};
  setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  SSL_free(s->ssl);
  close(s->fd);
  s->ssl = NULL;
  if (ended < measure_until) open_connection(s);
  else s->fd = -1;
}

/* Moves a connection on as far as it can go without waiting; arranges to be called when it can go on. */
static void drive(struct slot *s) {
  for (;;) {
    int r = 0, want;
    switch (s->phase) {
      case CONNECTING: {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) return finish(s, 0);
        s->phase = HANDSHAKE;
        continue;
      }
      case HANDSHAKE:
        r = SSL_connect(s->ssl);
        if (r == 1) {
          s->phase = WRITING;
          continue;
        }
        break;
      case WRITING:
        r = SSL_write(s->ssl, request + s->written, (int)(request_len - s->written));
        if (r > 0) {
          s->written += (size_t)r;
          if (s->written == request_len) s->phase = READING;
          continue;
        }
        break;
      case READING: {
        char buf[16384];
        r = SSL_read(s->ssl, buf, sizeof buf);
        if (r > 0) continue;
        int e = SSL_get_error(s->ssl, r);
        /* The server's close_notify, or its FIN without one (both end a Connection: close answer). */
        if (e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) || (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
          ERR_clear_error();
          return finish(s, 1);
        }
        break;
      }
    }
    want = SSL_get_error(s->ssl, r);
    if (want == SSL_ERROR_WANT_READ) return watch(s, EPOLLIN, EPOLL_CTL_MOD);
    if (want == SSL_ERROR_WANT_WRITE) return watch(s, EPOLLOUT, EPOLL_CTL_MOD);
    ERR_clear_error();
    return finish(s, 0);
  }
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  if (argc != 8) {
    fprintf(stderr, "usage: %s HOST PORT SERVERNAME PATH full|resumed CONNECTIONS SECONDS\n", argv[0]);
    return 2;
  }
  server.sin_family = AF_INET;
  server.sin_port = htons((uint16_t)atoi(argv[2]));
  if (inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
    fprintf(stderr, "not an IPv4 address: %s\n", argv[1]);
    return 2;
  }
  servername = argv[3];
  request_len = (size_t)snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", argv[4], servername);
  resume_mode = strcmp(argv[5], "resumed") == 0;
  int connections = atoi(argv[6]);
  double seconds = atof(argv[7]);

  ctx = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  static const unsigned char alpn[] = "\x08http/1.1";
  SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
  /* Sessions are kept by the slots themselves, never looked up in a cache. */
  SSL_CTX_set_session_cache_mode(ctx, resume_mode ? SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE : SSL_SESS_CACHE_OFF);
  if (!resume_mode) SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);

  epfd = epoll_create1(0);
  /* One second to warm up (and, resumed, to get every slot a ticket), then the measured time. */
  measure_from = now() + 1.0;
  measure_until = measure_from + seconds;
  struct slot *slots = calloc((size_t)connections, sizeof *slots);
  for (int i = 0; i < connections; i++) open_connection(&slots[i]);
  int open = connections;
  struct epoll_event events[256];
  while (open > 0) {
    int n = epoll_wait(epfd, events, 256, 1000);
    for (int i = 0; i < n; i++) {
      struct slot *s = events[i].data.ptr;
      drive(s);
      if (s->fd < 0) open--;
    }
  }
  qsort(latencies, counted, sizeof *latencies, by_value);
  double p50 = counted ? latencies[counted / 2] * 1000 : 0, p99 = counted ? latencies[(size_t)(counted * 0.99)] * 1000 : 0;
  printf("{\"connections\":%zu,\"seconds\":%.3f,\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"resumed\":%zu,\"errors\":%zu,\"completed\":%zu}\n", counted, seconds, counted / seconds,
         p50, p99, resumed, errors, completed);
  return 0;
}

/*
 * bench/floor.c - the "floor" server of riptide's benchmark.
 *
 * The least an HTTP/1.1 server can do per keep-alive request on this kernel:
 * one process (or N copies of it with SO_REUSEPORT, --workers N), one
 * edge-triggered epoll loop, accept4 non-blocking, recv until a short read or
 * EAGAIN, and for every complete request in what was read ("\r\n\r\n" seen)
 * one copy of a fixed response with a 612-byte body; all the answers of one
 * read leave in one send. It parses nothing else (except that a read holding
 * "Connection: close" makes it close the connection once its answers are
 * sent, so that the close612 cell measures real new connections), opens no
 * file per request and keeps a few bytes of state per connection. Its requests per server
 * core-second are the ceiling riptide is measured against.
 *
 * Build:  cc -O2 -o floor bench/floor.c
 * Usage:  floor --listen 127.0.0.1:PORT [--workers N] [--body FILE]
 *         (--body: the body to send, default a built-in 612-byte page;
 *          stays in the foreground, stops on SIGTERM/SIGINT)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_EVENTS 512
#define RECV_BUF (64 * 1024)
#define SEND_BUF (256 * 1024)
#define MAX_OWED (4u * 1024 * 1024) /* stop reading a client owed this much */
#define MAX_WORKERS 64

/* Per connection: how far into "\r\n\r\n" the last read ended, the response
 * bytes still owed (the response stream is the fixed response repeated, so
 * the phase is implied by the count), and whether unread input was left. */
struct conn {
    uint64_t owed;
    uint8_t crlf;
    uint8_t open;
    uint8_t read_blocked;
    uint8_t close_after; /* a request asked for Connection: close */
};

static struct conn *conns;
static size_t nconns;
static char resp[2048];        /* the keep-alive response */
static size_t resp_len;
static size_t date_off;        /* where the 29-byte Date value sits in resp */
static char resp_close[2048];  /* the same with "Connection: close" */
static size_t resp_close_len;
static size_t date_off_close;
static time_t date_sec;
static char recv_buf[RECV_BUF];
static char send_buf[SEND_BUF];
static volatile sig_atomic_t stop_flag;

static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static void http_date(time_t t, char out[30]) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 30, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static size_t build_one(char *out, size_t cap, const char *conn_value, const char *body,
                        size_t body_len, time_t now, size_t *date_at) {
    char date[30], lm[30];
    http_date(now, date);
    http_date(now - 3600, lm);
    int n = snprintf(out, cap,
                     "HTTP/1.1 200 OK\r\n"
                     "Server: floor\r\n"
                     "Date: %s\r\n"
                     "Content-Type: text/html\r\n"
                     "Content-Length: %zu\r\n"
                     "Last-Modified: %s\r\n"
                     "Connection: %s\r\n"
                     "ETag: \"%lx-%zx\"\r\n"
                     "Accept-Ranges: bytes\r\n"
                     "\r\n",
                     date, body_len, lm, conn_value, (unsigned long)(now - 3600), body_len);
    if (n < 0 || (size_t)n + body_len > cap) {
        fprintf(stderr, "floor: body too large\n");
        exit(1);
    }
    *date_at = (size_t)(strstr(out, "Date: ") - out) + 6;
    memcpy(out + n, body, body_len);
    return (size_t)n + body_len;
}

static void build_response(const char *body, size_t body_len) {
    time_t now = time(NULL);
    resp_len = build_one(resp, sizeof resp, "keep-alive", body, body_len, now, &date_off);
    resp_close_len = build_one(resp_close, sizeof resp_close, "close", body, body_len, now, &date_off_close);
    date_sec = now;
}

/* time() is served by the vDSO: no syscall. */
static void refresh_date(void) {
    time_t now = time(NULL);
    if (now != date_sec) {
        char d[30];
        http_date(now, d);
        memcpy(resp + date_off, d, 29);
        memcpy(resp_close + date_off_close, d, 29);
        date_sec = now;
    }
}

static void close_conn(int fd) {
    conns[fd].open = 0;
    close(fd); /* close removes it from the epoll set */
}

/* Send what the client is owed: fill send_buf with the repeated response from
 * the right phase, send until done or EAGAIN. Returns -1 if closed. */
static int flush_owed(int fd) {
    struct conn *c = &conns[fd];
    while (c->owed > 0) {
        size_t phase = (size_t)((resp_len - c->owed % resp_len) % resp_len);
        size_t want = c->owed < SEND_BUF ? (size_t)c->owed : SEND_BUF;
        size_t fill = 0;
        while (fill < want) {
            size_t piece = resp_len - phase;
            if (piece > want - fill) piece = want - fill;
            memcpy(send_buf + fill, resp + phase, piece);
            fill += piece;
            phase = 0;
        }
        ssize_t n = send(fd, send_buf, fill, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) return 0;
            close_conn(fd);
            return -1;
        }
        c->owed -= (uint64_t)n;
        if ((size_t)n < fill) return 0; /* socket buffer full: wait for EPOLLOUT */
    }
    if (c->close_after) {
        /* the last answer says "Connection: close"; on a fresh connection
         * its ~900 bytes always fit the socket buffer */
        (void)send(fd, resp_close, resp_close_len, MSG_NOSIGNAL);
        close_conn(fd);
        return -1;
    }
    return 0;
}

/* Count complete requests in buf, carrying the "\r\n\r\n" progress. */
static uint64_t count_requests(struct conn *c, const char *buf, size_t n) {
    uint64_t reqs = 0;
    unsigned st = c->crlf;
    const char *p = buf, *end = buf + n;
    while (p < end) {
        if (st == 0) {
            p = memchr(p, '\r', (size_t)(end - p));
            if (!p) break;
            st = 1;
            p++;
            continue;
        }
        char ch = *p++;
        if (st == 1) st = ch == '\n' ? 2 : (ch == '\r' ? 1 : 0);
        else if (st == 2) st = ch == '\r' ? 3 : 0;
        else /* st == 3 */ {
            if (ch == '\n') { reqs++; st = 0; }
            else st = ch == '\r' ? 1 : 0;
        }
    }
    c->crlf = (uint8_t)st;
    return reqs;
}

static void on_readable(int fd) {
    struct conn *c = &conns[fd];
    c->read_blocked = 0;
    for (;;) {
        if (c->owed >= MAX_OWED) { c->read_blocked = 1; break; }
        ssize_t n = recv(fd, recv_buf, sizeof recv_buf, 0);
        if (n == 0) { close_conn(fd); return; }
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN) break;
            close_conn(fd);
            return;
        }
        uint64_t reqs = count_requests(c, recv_buf, (size_t)n);
        if (reqs && memmem(recv_buf, (size_t)n, "\r\nConnection: close\r\n", 21)) {
            c->close_after = 1; /* answer the others, then this one with close */
            c->owed += (reqs - 1) * resp_len;
            refresh_date();
            flush_owed(fd);
            return;
        }
        c->owed += reqs * resp_len;
        if ((size_t)n < sizeof recv_buf) break; /* short read: drained */
    }
    if (c->owed > 0) {
        refresh_date();
        flush_owed(fd);
    }
}

static void on_writable(int fd) {
    struct conn *c = &conns[fd];
    if (c->owed > 0) {
        refresh_date();
        if (flush_owed(fd) < 0) return;
    }
    if (c->owed == 0 && c->read_blocked && c->open) on_readable(fd);
}

static void accept_all(int lfd, int ep) {
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) continue;
            return; /* EAGAIN, or EMFILE and friends: try on the next edge */
        }
        if ((size_t)fd >= nconns) { close(fd); continue; }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        memset(&conns[fd], 0, sizeof conns[fd]);
        conns[fd].open = 1;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                 .data.fd = fd};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) close_conn(fd);
    }
}

static int listen_on(const char *host, int port, int reuseport) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { perror("floor: socket"); exit(1); }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (reuseport) setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
        fprintf(stderr, "floor: bad address %s\n", host);
        exit(2);
    }
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) { perror("floor: bind"); exit(1); }
    if (listen(fd, 4096) < 0) { perror("floor: listen"); exit(1); }
    return fd;
}

static int worker_loop(int lfd) {
    int ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) { perror("floor: epoll_create1"); return 1; }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.fd = lfd};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0) { perror("floor: epoll_ctl"); return 1; }
    struct epoll_event evs[MAX_EVENTS];
    while (!stop_flag) {
        int n = epoll_wait(ep, evs, MAX_EVENTS, -1); /* no timers: sleep until work */
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("floor: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            uint32_t e = evs[i].events;
            if (fd == lfd) { accept_all(lfd, ep); continue; }
            if (!conns[fd].open) continue;
            if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(fd);
            if (!conns[fd].open) continue;
            if (e & EPOLLOUT) on_writable(fd);
        }
    }
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: floor --listen HOST:PORT [--workers N] [--body FILE]\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *listen_arg = NULL, *body_file = NULL;
    int workers = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--listen") && i + 1 < argc) listen_arg = argv[++i];
        else if (!strcmp(argv[i], "--workers") && i + 1 < argc) workers = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--body") && i + 1 < argc) body_file = argv[++i];
        else usage();
    }
    if (!listen_arg || workers < 1 || workers > MAX_WORKERS) usage();
    char host[64];
    const char *colon = strrchr(listen_arg, ':');
    if (!colon || (size_t)(colon - listen_arg) >= sizeof host) usage();
    memcpy(host, listen_arg, (size_t)(colon - listen_arg));
    host[colon - listen_arg] = 0;
    int port = atoi(colon + 1);
    if (port <= 0 || port > 65535) usage();

    static char body[1024];
    size_t body_len = 612;
    if (body_file) {
        int bf = open(body_file, O_RDONLY | O_CLOEXEC);
        if (bf < 0) { perror("floor: --body"); return 1; }
        ssize_t n = read(bf, body, sizeof body);
        close(bf);
        if (n < 0 || (size_t)n >= sizeof body) {
            fprintf(stderr, "floor: --body must be under %zu bytes\n", sizeof body);
            return 1;
        }
        body_len = (size_t)n;
    } else {
        static const char head[] = "<!DOCTYPE html>\n<html>\n<head><title>floor</title></head>\n<body>\n<p>";
        static const char tail[] = "</p>\n</body>\n</html>\n";
        size_t h = sizeof head - 1, t = sizeof tail - 1;
        memcpy(body, head, h);
        memset(body + h, 'x', body_len - h - t);
        memcpy(body + body_len - t, tail, t);
    }
    build_response(body, body_len);

    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) nconns = rl.rlim_cur;
    else nconns = 65536;
    if (nconns > (1u << 22)) nconns = 1u << 22;
    conns = calloc(nconns, sizeof *conns);
    if (!conns) { perror("floor: calloc"); return 1; }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: epoll_wait returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (workers == 1) {
        int lfd = listen_on(host, port, 0);
        return worker_loop(lfd);
    }

    /* N workers, each with its own SO_REUSEPORT listener; the parent only
     * waits for a signal and passes it on. */
    pid_t kids[MAX_WORKERS];
    int nk = 0;
    for (int w = 0; w < workers; w++) {
        pid_t p = fork();
        if (p < 0) { perror("floor: fork"); stop_flag = 1; break; }
        if (p == 0) {
            int lfd = listen_on(host, port, 1);
            _exit(worker_loop(lfd));
        }
        kids[nk++] = p;
    }
    while (!stop_flag) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0 && errno == ECHILD) break;
        if (p > 0) { stop_flag = 1; break; } /* a worker died: stop all */
    }
    for (int k = 0; k < nk; k++) kill(kids[k], SIGTERM);
    for (int k = 0; k < nk; k++) waitpid(kids[k], NULL, 0);
    return 0;
}

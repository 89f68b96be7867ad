/*
 * Packet capture on Linux for Node.js, through Node-API only (ABI-stable: one build runs on Node 20 and 24).
 *
 * One capture = an AF_PACKET socket with a TPACKET_V3 receive ring, opened the way libpcap opens it (the socket
 * receives nothing until it is bound, a drop-all filter is attached before the bind, the ring is drained, then
 * the real program is attached), and a reader thread that waits on the socket with poll(), turns each retired
 * ring block into capture-file records (pcapng enhanced packet blocks or classic pcap records) and hands them
 * to the output: written straight to a file descriptor (a file or stdout) by the thread itself, or handed to
 * JavaScript through a thread-safe function when JavaScript wants the records (the text printer). The event
 * loop never waits on the socket, and with a descriptor it never touches a packet.
 *
 * Flow control: the thread hands a block back to the kernel as soon as its records are copied out, and
 * keeps at most `queue_bytes` of records that JavaScript has not written yet (ack() reports each batch
 * written). So a busy event loop costs memory, not packets, up to that bound; past it the thread waits,
 * blocks stay with the kernel, and the kernel counts drops, as for tcpdump blocked on write().
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <net/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

enum format { FORMAT_PCAPNG = 0, FORMAT_PCAP = 1 };
enum direction { DIRECTION_INOUT = 0, DIRECTION_IN = 1, DIRECTION_OUT = 2 };
enum end_reason { END_NONE = 0, END_STOPPED, END_COUNT, END_SIZE, END_ERROR, END_OUTPUT };

struct options {
  char ifname[IF_NAMESIZE];
  char netns[4096];
  char abandon_path[4096]; /* a temporary output file to remove if Node tears the environment down mid-capture */
  uint32_t snaplen, block_size, block_count, block_timeout_ms;
  uint64_t queue_bytes;
  int direction, promiscuous, format, output_fd;
  uint64_t max_packets, max_bytes;
  struct sock_filter *program;
  uint32_t program_len;
};

struct capture {
  struct options opt;
  int fd, wake_fd, ifindex, hardware_type, loopback;
  uint8_t *ring;
  size_t ring_size;
  uint8_t *write_buffer; /* reused for every block when the thread writes to output_fd itself */
  uint32_t next_block;

  pthread_t thread;
  int thread_started, thread_joined;
  napi_threadsafe_function tsfn;

  pthread_mutex_t lock;
  pthread_cond_t credit_cond;
  uint64_t queued; /* bytes delivered to JavaScript and not yet acknowledged */
  int stop_requested, aborted, closed;
  uint64_t packets_written, bytes_written;
  uint64_t kernel_received, kernel_dropped;
};

struct message {
  int end;
  uint8_t *data;
  size_t length;
  uint32_t packets;
  int reason, error;
};

struct failure {
  int error;
  char text[512];
};

static void fail(struct failure *f, int error, const char *fmt, const char *arg) {
  f->error = error;
  char what[400];
  snprintf(what, sizeof what, fmt, arg);
  snprintf(f->text, sizeof f->text, "%s: %s", what, strerror(error));
}

/* ---------- opening, in the capture's network namespace ---------- */

static int attach(int fd, struct sock_filter *insns, uint32_t len) {
  struct sock_fprog prog = {.len = (unsigned short)len, .filter = insns};
  return setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog);
}

static void release_block(struct tpacket_block_desc *block) {
  __atomic_store_n(&block->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
}

static int block_ready(struct tpacket_block_desc *block) {
  return (__atomic_load_n(&block->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

static struct tpacket_block_desc *block_at(struct capture *c, uint32_t index) {
  return (struct tpacket_block_desc *)(c->ring + (size_t)index * c->opt.block_size);
}

/* The steps of libpcap's activate_pf_packet + setup_mmapped + set_kernel_filter, in that order. */
static void open_socket(struct capture *c, struct failure *f) {
  struct options *o = &c->opt;
  /* Protocol 0: the socket receives nothing until bind() names ETH_P_ALL. */
  c->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (c->fd < 0) {
    if (errno == EPERM || errno == EACCES)
      fail(f, errno, "no permission to open a packet socket%s (capturing needs root or CAP_NET_RAW)", "");
    else
      fail(f, errno, "socket(AF_PACKET)%s", "");
    return;
  }
  c->ifindex = (int)if_nametoindex(o->ifname);
  if (c->ifindex == 0) {
    fail(f, ENODEV, "no such interface: %s", o->ifname);
    return;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  memcpy(ifr.ifr_name, o->ifname, IF_NAMESIZE - 1); /* o->ifname is NUL-terminated within IF_NAMESIZE */
  if (ioctl(c->fd, SIOCGIFHWADDR, &ifr) < 0) {
    fail(f, errno, "cannot read the link type of %s", o->ifname);
    return;
  }
  c->hardware_type = ifr.ifr_hwaddr.sa_family;
  c->loopback = c->hardware_type == ARPHRD_LOOPBACK;
  if (c->hardware_type != ARPHRD_ETHER && c->hardware_type != ARPHRD_LOOPBACK) {
    /* The filter compiler and the files speak Ethernet framing (DLT_EN10MB) only. */
    fail(f, EPROTONOSUPPORT, "%s is not an Ethernet or loopback interface", o->ifname);
    return;
  }
  struct sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
  if (attach(c->fd, &drop_all, 1) < 0) {
    fail(f, errno, "attaching the drop-all filter to %s", o->ifname);
    return;
  }
  int version = TPACKET_V3;
  if (setsockopt(c->fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) {
    fail(f, errno, "PACKET_VERSION TPACKET_V3 on %s", o->ifname);
    return;
  }
  struct tpacket_req3 req;
  memset(&req, 0, sizeof req);
  req.tp_block_size = o->block_size;
  req.tp_block_nr = o->block_count;
  req.tp_frame_size = o->block_size; /* TPACKET_V3 packs frames of any length; one "frame" per block */
  req.tp_frame_nr = o->block_count;
  req.tp_retire_blk_tov = o->block_timeout_ms;
  if (setsockopt(c->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) {
    fail(f, errno, "PACKET_RX_RING of %s", "the requested block size and count");
    return;
  }
  c->ring_size = (size_t)o->block_size * o->block_count;
  void *ring = mmap(NULL, c->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, c->fd, 0);
  if (ring == MAP_FAILED) ring = mmap(NULL, c->ring_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
  if (ring == MAP_FAILED) {
    fail(f, errno, "mapping the %s receive ring", "TPACKET_V3");
    return;
  }
  c->ring = ring;
  struct sockaddr_ll sll;
  memset(&sll, 0, sizeof sll);
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = c->ifindex;
  if (bind(c->fd, (struct sockaddr *)&sll, sizeof sll) < 0) {
    fail(f, errno, "binding to %s", o->ifname);
    return;
  }
  int pending = 0;
  socklen_t plen = sizeof pending;
  if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &pending, &plen) == 0 && pending != 0) {
    fail(f, pending, "interface %s", o->ifname);
    return;
  }
  if (o->promiscuous) {
    struct packet_mreq mr;
    memset(&mr, 0, sizeof mr);
    mr.mr_ifindex = c->ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(c->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) {
      fail(f, errno, "promiscuous mode on %s", o->ifname);
      return;
    }
  }
  /* Nothing can have passed the drop-all filter, but give back any block and reset the counters anyway. */
  for (uint32_t i = 0; i < o->block_count; i++)
    if (block_ready(block_at(c, i))) release_block(block_at(c, i));
  struct tpacket_stats_v3 st;
  socklen_t slen = sizeof st;
  getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &slen);
  if (attach(c->fd, o->program, o->program_len) < 0) {
    fail(f, errno, "the kernel refused the filter program for %s", o->ifname);
    return;
  }
}

struct netns_job {
  struct capture *c;
  struct failure *f;
};

static void *open_in_namespace(void *arg) {
  struct netns_job *job = arg;
  int ns = open(job->c->opt.netns, O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    fail(job->f, errno, "network namespace %s", job->c->opt.netns);
    return NULL;
  }
  /* Only this short-lived thread enters the namespace; the socket keeps it after the thread ends. */
  if (setns(ns, CLONE_NEWNET) < 0) {
    fail(job->f, errno, "entering network namespace %s", job->c->opt.netns);
    close(ns);
    return NULL;
  }
  close(ns);
  open_socket(job->c, job->f);
  return NULL;
}

/* ---------- the reader thread ---------- */

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put16be(uint8_t *p, uint16_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* libpcap's linux_check_direction: outgoing copies on loopback are duplicates of the incoming ones. */
static int wanted(struct capture *c, const struct sockaddr_ll *sll) {
  if (sll->sll_pkttype == PACKET_OUTGOING) {
    if (c->loopback) return 0;
    return c->opt.direction != DIRECTION_IN;
  }
  return c->opt.direction != DIRECTION_OUT;
}

/* Appends one record; returns its length, or 0 if the size limit stops the capture before it. */
static size_t write_record(struct capture *c, uint8_t *out, struct tpacket3_hdr *h) {
  const uint8_t *frame = (const uint8_t *)h + h->tp_mac;
  uint32_t caplen = h->tp_snaplen, len = h->tp_len;
  /* As libpcap: a tag is present if the kernel says so, or (kernels before TP_STATUS_VLAN_VALID) its TCI is set. */
  int vlan = ((h->tp_status & TP_STATUS_VLAN_VALID) || h->hv1.tp_vlan_tci != 0) && caplen >= 12;
  if (vlan) {
    caplen += 4;
    len += 4;
  }
  if (caplen > c->opt.snaplen) caplen = c->opt.snaplen;
  uint64_t ns = (uint64_t)h->tp_sec * 1000000000ull + h->tp_nsec;
  size_t header = c->opt.format == FORMAT_PCAPNG ? 28 : 16;
  size_t padded = c->opt.format == FORMAT_PCAPNG ? (caplen + 3u) & ~3u : caplen;
  size_t total = header + padded + (c->opt.format == FORMAT_PCAPNG ? 4 : 0);
  if (c->opt.max_bytes && c->bytes_written + total > c->opt.max_bytes) return 0;
  if (c->opt.format == FORMAT_PCAPNG) {
    put32(out, 6);
    put32(out + 4, (uint32_t)total);
    put32(out + 8, 0);
    put32(out + 12, (uint32_t)(ns >> 32));
    put32(out + 16, (uint32_t)ns);
    put32(out + 20, caplen);
    put32(out + 24, len);
  } else {
    put32(out, h->tp_sec);
    put32(out + 4, h->tp_nsec);
    put32(out + 8, caplen);
    put32(out + 12, len);
  }
  uint8_t *data = out + header;
  if (vlan) {
    /* The kernel moved the 802.1Q tag out of the frame; put it back after the MAC addresses, as libpcap does. */
    uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
    uint8_t tagged[16];
    memcpy(tagged, frame, 12);
    put16be(tagged + 12, tpid);
    put16be(tagged + 14, (uint16_t)h->hv1.tp_vlan_tci);
    uint32_t head = caplen < 16 ? caplen : 16;
    memcpy(data, tagged, head);
    if (caplen > 16) memcpy(data + 16, frame + 12, caplen - 16);
  } else {
    memcpy(data, frame, caplen);
  }
  memset(data + caplen, 0, padded - caplen);
  if (c->opt.format == FORMAT_PCAPNG) put32(data + padded, (uint32_t)total);
  return total;
}

/* write() until done; a non-blocking descriptor (a pipe Node set up) is waited on with poll(). */
static int write_all(struct capture *c, const uint8_t *data, size_t length) {
  while (length > 0) {
    ssize_t n = write(c->opt.output_fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        /* Not on the eventfd: once a stop has been asked for it stays readable. A close() is seen within 100 ms. */
        struct pollfd out = {.fd = c->opt.output_fd, .events = POLLOUT};
        poll(&out, 1, 100);
        pthread_mutex_lock(&c->lock);
        int aborted = c->aborted;
        pthread_mutex_unlock(&c->lock);
        if (aborted) return ECANCELED;
        continue;
      }
      return errno;
    }
    data += n;
    length -= (size_t)n;
  }
  return 0;
}

static void deliver(struct capture *c, struct message *m) {
  if (napi_call_threadsafe_function(c->tsfn, m, napi_tsfn_nonblocking) != napi_ok) {
    free(m->data);
    free(m);
  }
}

/* Waits until `bytes` more fit in the queue (an empty queue takes any batch); returns 0 if aborted meanwhile. */
static int take_credit(struct capture *c, size_t bytes) {
  pthread_mutex_lock(&c->lock);
  while (c->queued > 0 && c->queued + bytes > c->opt.queue_bytes && !c->aborted)
    pthread_cond_wait(&c->credit_cond, &c->lock);
  int ok = !c->aborted;
  if (ok) c->queued += bytes;
  pthread_mutex_unlock(&c->lock);
  return ok;
}

static int stopping(struct capture *c) {
  pthread_mutex_lock(&c->lock);
  int s = c->stop_requested || c->aborted;
  pthread_mutex_unlock(&c->lock);
  return s;
}

static int aborting(struct capture *c) {
  pthread_mutex_lock(&c->lock);
  int a = c->aborted;
  pthread_mutex_unlock(&c->lock);
  return a;
}

static void *reader(void *arg) {
  struct capture *c = arg;
  /* Named, so tools (and the tests) can tell this thread from Node's own pools. */
  pthread_setname_np(pthread_self(), "pcap-reader");
  int reason = END_NONE, error = 0, drained = 0;
  struct pollfd fds[2] = {{.fd = c->fd, .events = POLLIN}, {.fd = c->wake_fd, .events = POLLIN}};
  while (reason == END_NONE) {
    struct tpacket_block_desc *block = block_at(c, c->next_block);
    if (!block_ready(block)) {
      /* On a stop, what the kernel has retired is still written; then the capture ends. The block being
       * filled is retired by the kernel's timer within the block timeout once it holds a packet: wait for
       * that once, so a stop keeps every packet that arrived before it (not when Node is tearing down). */
      if (stopping(c)) {
        if (!drained && !aborting(c)) {
          drained = 1;
          struct pollfd sock = {.fd = c->fd, .events = POLLIN};
          poll(&sock, 1, (int)c->opt.block_timeout_ms * 2 + 10);
          continue;
        }
        reason = END_STOPPED;
        break;
      }
      int n = poll(fds, 2, -1);
      if (n < 0 && errno != EINTR) {
        reason = END_ERROR;
        error = errno;
      } else if (n > 0 && (fds[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
        int pending = 0;
        socklen_t plen = sizeof pending;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &pending, &plen);
        if (pending != 0 || (fds[0].revents & (POLLHUP | POLLNVAL))) {
          reason = END_ERROR;
          error = pending ? pending : ENETDOWN;
        }
      }
      continue;
    }
    /* Records are smaller than their ring entries (28-byte header + 4-byte VLAN tag + padding against a
     * 48-byte tpacket3_hdr + sockaddr_ll), so the bytes the block uses bound them. */
    uint8_t *out = c->write_buffer ? c->write_buffer : malloc(block->hdr.bh1.blk_len + 64);
    if (!out) {
      reason = END_ERROR;
      error = ENOMEM;
      break;
    }
    size_t used = 0;
    uint32_t packets = 0;
    uint32_t count = block->hdr.bh1.num_pkts;
    struct tpacket3_hdr *h = (struct tpacket3_hdr *)((uint8_t *)block + block->hdr.bh1.offset_to_first_pkt);
    for (uint32_t i = 0; i < count && reason == END_NONE; i++) {
      const struct sockaddr_ll *sll =
          (const struct sockaddr_ll *)((const uint8_t *)h + TPACKET_ALIGN(sizeof(struct tpacket3_hdr)));
      if (wanted(c, sll)) {
        size_t n = write_record(c, out + used, h);
        if (n == 0) {
          reason = END_SIZE;
          break;
        }
        used += n;
        c->bytes_written += n;
        packets++;
        c->packets_written++;
        if (c->opt.max_packets && c->packets_written >= c->opt.max_packets) reason = END_COUNT;
      }
      h = (struct tpacket3_hdr *)((uint8_t *)h + h->tp_next_offset);
    }
    release_block(block);
    c->next_block = (c->next_block + 1) % c->opt.block_count;
    if (c->write_buffer) {
      int e = used ? write_all(c, out, used) : 0;
      if (e == ECANCELED) break;
      if (e != 0) {
        reason = END_OUTPUT;
        error = e;
      }
      continue;
    }
    if (packets == 0) {
      free(out);
      continue;
    }
    if (!take_credit(c, used)) {
      free(out);
      break;
    }
    struct message *m = calloc(1, sizeof *m);
    if (!m) {
      free(out);
      reason = END_ERROR;
      error = ENOMEM;
      break;
    }
    m->data = out;
    m->length = used;
    m->packets = packets;
    deliver(c, m);
  }
  pthread_mutex_lock(&c->lock);
  int aborted = c->aborted;
  pthread_mutex_unlock(&c->lock);
  if (!aborted) {
    struct message *m = calloc(1, sizeof *m);
    if (m) {
      m->end = 1;
      m->reason = reason == END_NONE ? END_STOPPED : reason;
      m->error = error;
      deliver(c, m);
    }
  }
  napi_release_threadsafe_function(c->tsfn, napi_tsfn_release);
  return NULL;
}

/* ---------- Node-API glue ---------- */

#define CHECK(call)                                                                                   \
  do {                                                                                                \
    if ((call) != napi_ok) {                                                                          \
      napi_throw_error(env, "ENATIVE", "packetcapture native call failed: " #call);                  \
      return NULL;                                                                                    \
    }                                                                                                 \
  } while (0)

static const char *reason_name(int reason) {
  switch (reason) {
    case END_COUNT: return "count";
    case END_SIZE: return "size";
    case END_ERROR: return "error";
    case END_OUTPUT: return "output";
    default: return "stopped";
  }
}

static void free_buffer(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static void call_js(napi_env env, napi_value callback, void *context, void *data) {
  (void)context;
  struct message *m = data;
  if (env == NULL) {
    free(m->data);
    free(m);
    return;
  }
  napi_value undefined, args[4];
  napi_get_undefined(env, &undefined);
  if (m->end) {
    napi_get_boolean(env, 1, &args[0]);
    napi_create_string_utf8(env, reason_name(m->reason), NAPI_AUTO_LENGTH, &args[1]);
    napi_create_int32(env, m->error, &args[2]);
    if (m->error) napi_create_string_utf8(env, strerror(m->error), NAPI_AUTO_LENGTH, &args[3]);
    else args[3] = undefined;
  } else {
    napi_get_boolean(env, 0, &args[0]);
    void *copy;
    if (napi_create_external_buffer(env, m->length, m->data, free_buffer, NULL, &args[1]) != napi_ok) {
      /* Runtimes that forbid external buffers: copy instead. */
      napi_create_buffer_copy(env, m->length, m->data, &copy, &args[1]);
      free(m->data);
    }
    napi_create_uint32(env, m->packets, &args[2]);
    args[3] = undefined;
  }
  free(m);
  napi_call_function(env, undefined, callback, 4, args, NULL);
}

static void read_kernel_stats(struct capture *c) {
  if (c->fd < 0) return;
  struct tpacket_stats_v3 st;
  socklen_t len = sizeof st;
  if (getsockopt(c->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0) {
    /* Each read resets the kernel's counters; keep the totals. tp_packets already includes tp_drops. */
    c->kernel_received += st.tp_packets;
    c->kernel_dropped += st.tp_drops;
  }
}

static void shut(struct capture *c) {
  if (c->closed) return;
  pthread_mutex_lock(&c->lock);
  c->aborted = 1;
  c->stop_requested = 1;
  pthread_cond_broadcast(&c->credit_cond);
  pthread_mutex_unlock(&c->lock);
  if (c->wake_fd >= 0) {
    uint64_t one = 1;
    ssize_t w = write(c->wake_fd, &one, sizeof one);
    (void)w;
  }
  if (c->thread_started && !c->thread_joined) {
    pthread_join(c->thread, NULL);
    c->thread_joined = 1;
  }
  read_kernel_stats(c);
  free(c->write_buffer);
  c->write_buffer = NULL;
  if (c->ring) munmap(c->ring, c->ring_size);
  c->ring = NULL;
  if (c->fd >= 0) close(c->fd);
  if (c->wake_fd >= 0) close(c->wake_fd);
  c->fd = c->wake_fd = -1;
  c->closed = 1;
}

/* The environment is going away with the capture still open (a worker terminated, say): no JavaScript will
 * finish the file, so release everything and remove the temporary file. */
static void cleanup_hook(void *arg) {
  struct capture *c = arg;
  if (c->closed) return;
  shut(c);
  if (c->opt.abandon_path[0]) unlink(c->opt.abandon_path);
}

static void finalize_capture(napi_env env, void *data, void *hint) {
  (void)hint;
  struct capture *c = data;
  shut(c);
  napi_remove_env_cleanup_hook(env, cleanup_hook, c);
  pthread_mutex_destroy(&c->lock);
  pthread_cond_destroy(&c->credit_cond);
  free(c->opt.program);
  free(c);
}

static int get_uint(napi_env env, napi_value obj, const char *key, uint32_t *out) {
  napi_value v;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return 0;
  return napi_get_value_uint32(env, v, out) == napi_ok;
}

static int get_int(napi_env env, napi_value obj, const char *key, int32_t *out) {
  napi_value v;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok) return 0;
  return napi_get_value_int32(env, v, out) == napi_ok;
}

static int get_string(napi_env env, napi_value obj, const char *key, char *out, size_t size) {
  napi_value v;
  napi_valuetype t;
  out[0] = 0;
  if (napi_get_named_property(env, obj, key, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok) return 0;
  if (t == napi_undefined) return 1;
  size_t n;
  return napi_get_value_string_utf8(env, v, out, size, &n) == napi_ok;
}

static napi_value throw_failure(napi_env env, struct failure *f) {
  napi_value code, msg, err, num;
  const char *name = f->error == ENODEV ? "ENODEV" : f->error == EPERM ? "EPERM" : f->error == EACCES ? "EACCES"
                     : f->error == EINVAL ? "EINVAL" : f->error == ENOENT ? "ENOENT" : f->error == ENOMEM ? "ENOMEM"
                     : f->error == EPROTONOSUPPORT ? "EPROTONOSUPPORT" : "ECAPTURE";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, f->text, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &err);
  napi_create_int32(env, f->error, &num);
  napi_set_named_property(env, err, "errno", num);
  napi_throw(env, err);
  return NULL;
}

/* open(options, onEvent) -> handle. onEvent(end=false, buffer, packets) per batch; onEvent(true, reason, errno, text) once. */
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc < 2) {
    napi_throw_type_error(env, NULL, "open(options, onEvent) expects two arguments");
    return NULL;
  }
  struct capture *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  c->fd = c->wake_fd = -1;
  pthread_mutex_init(&c->lock, NULL);
  pthread_cond_init(&c->credit_cond, NULL);
  struct options *o = &c->opt;
  uint32_t max_packets = 0, max_bytes_hi = 0, max_bytes_lo = 0, queue_bytes = 0;
  napi_value program_value;
  void *program_data = NULL;
  size_t program_bytes = 0;
  int ok = get_string(env, argv[0], "ifname", o->ifname, sizeof o->ifname) &&
           get_string(env, argv[0], "netns", o->netns, sizeof o->netns) &&
           get_string(env, argv[0], "abandonPath", o->abandon_path, sizeof o->abandon_path) &&
           get_uint(env, argv[0], "snaplen", &o->snaplen) && get_uint(env, argv[0], "blockSize", &o->block_size) &&
           get_uint(env, argv[0], "blockCount", &o->block_count) &&
           get_uint(env, argv[0], "blockTimeoutMs", &o->block_timeout_ms) &&
           get_uint(env, argv[0], "queueBytes", &queue_bytes) &&
           get_uint(env, argv[0], "direction", (uint32_t *)&o->direction) &&
           get_uint(env, argv[0], "promiscuous", (uint32_t *)&o->promiscuous) &&
           get_uint(env, argv[0], "format", (uint32_t *)&o->format) &&
           get_int(env, argv[0], "outputFd", &o->output_fd) &&
           get_uint(env, argv[0], "maxPackets", &max_packets) &&
           get_uint(env, argv[0], "maxBytesHigh", &max_bytes_hi) &&
           get_uint(env, argv[0], "maxBytesLow", &max_bytes_lo) &&
           napi_get_named_property(env, argv[0], "program", &program_value) == napi_ok &&
           napi_get_buffer_info(env, program_value, &program_data, &program_bytes) == napi_ok;
  if (!ok || program_bytes == 0 || program_bytes % 8 != 0 || program_bytes / 8 > BPF_MAXINSNS ||
      o->block_count == 0 || o->block_size == 0 || queue_bytes == 0) {
    free(c);
    napi_throw_type_error(env, NULL, "open(): invalid options");
    return NULL;
  }
  o->max_packets = max_packets;
  o->max_bytes = ((uint64_t)max_bytes_hi << 32) | max_bytes_lo;
  o->program_len = (uint32_t)(program_bytes / 8);
  o->program = malloc(program_bytes);
  memcpy(o->program, program_data, program_bytes);
  o->queue_bytes = queue_bytes;

  struct failure f = {0};
  if (o->netns[0]) {
    struct netns_job job = {c, &f};
    pthread_t t;
    if (pthread_create(&t, NULL, open_in_namespace, &job) != 0) fail(&f, errno, "starting the %s thread", "namespace");
    else pthread_join(t, NULL);
  } else {
    open_socket(c, &f);
  }
  if (f.error == 0 && o->output_fd >= 0) {
    c->write_buffer = malloc(o->block_size + 64);
    if (!c->write_buffer) fail(&f, ENOMEM, "the %s buffer", "write");
  }
  if (f.error == 0) {
    c->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (c->wake_fd < 0) fail(&f, errno, "eventfd%s", "");
  }
  if (f.error == 0) {
    napi_value name;
    napi_create_string_utf8(env, "packetcapture", NAPI_AUTO_LENGTH, &name);
    if (napi_create_threadsafe_function(env, argv[1], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &c->tsfn) != napi_ok)
      fail(&f, EINVAL, "creating the %s", "thread-safe callback");
  }
  if (f.error == 0) {
    int e = pthread_create(&c->thread, NULL, reader, c);
    if (e != 0) {
      napi_release_threadsafe_function(c->tsfn, napi_tsfn_abort);
      fail(&f, e, "starting the %s thread", "reader");
    } else {
      c->thread_started = 1;
    }
  }
  if (f.error != 0) {
    shut(c);
    free(o->program);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->credit_cond);
    free(c);
    return throw_failure(env, &f);
  }
  napi_value handle;
  CHECK(napi_create_external(env, c, finalize_capture, NULL, &handle));
  napi_add_env_cleanup_hook(env, cleanup_hook, c);
  return handle;
}

static struct capture *unwrap(napi_env env, napi_callback_info info, napi_value *rest) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1) return NULL;
  void *data = NULL;
  if (napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "expected a capture handle");
    return NULL;
  }
  if (rest) *rest = argv[1];
  return data;
}

/* ack(handle, bytes): a batch of that many bytes is written. */
static napi_value js_ack(napi_env env, napi_callback_info info) {
  napi_value bytes_value;
  struct capture *c = unwrap(env, info, &bytes_value);
  if (!c) return NULL;
  uint32_t bytes = 0;
  napi_get_value_uint32(env, bytes_value, &bytes);
  pthread_mutex_lock(&c->lock);
  c->queued = bytes > c->queued ? 0 : c->queued - bytes;
  pthread_cond_signal(&c->credit_cond);
  pthread_mutex_unlock(&c->lock);
  return NULL;
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  struct capture *c = unwrap(env, info, NULL);
  if (!c) return NULL;
  pthread_mutex_lock(&c->lock);
  c->stop_requested = 1;
  pthread_mutex_unlock(&c->lock);
  if (c->wake_fd >= 0) {
    uint64_t one = 1;
    ssize_t w = write(c->wake_fd, &one, sizeof one);
    (void)w;
  }
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  struct capture *c = unwrap(env, info, NULL);
  if (!c) return NULL;
  shut(c);
  return NULL;
}

/* setProgram(handle, program): replaces the running filter. SO_ATTACH_FILTER on a bound socket swaps the
   program atomically in the kernel: every packet is checked by either the old or the new one, none by none. */
static napi_value js_set_program(napi_env env, napi_callback_info info) {
  napi_value program_value;
  struct capture *c = unwrap(env, info, &program_value);
  if (!c) return NULL;
  void *data = NULL;
  size_t bytes = 0;
  if (napi_get_buffer_info(env, program_value, &data, &bytes) != napi_ok || bytes == 0 || bytes % 8 != 0 ||
      bytes / 8 > BPF_MAXINSNS) {
    napi_throw_type_error(env, NULL, "setProgram(): invalid program");
    return NULL;
  }
  if (c->fd < 0) {
    napi_throw_error(env, "ECLOSED", "setProgram(): the capture has ended");
    return NULL;
  }
  if (attach(c->fd, data, (uint32_t)(bytes / 8)) != 0) {
    char text[256];
    snprintf(text, sizeof text, "SO_ATTACH_FILTER: %s", strerror(errno));
    napi_throw_error(env, "EFILTER", text);
  }
  return NULL;
}

/* stats(handle) -> { received, dropped, linkType } ; received and dropped as the kernel counts them. */
static napi_value js_stats(napi_env env, napi_callback_info info) {
  struct capture *c = unwrap(env, info, NULL);
  if (!c) return NULL;
  read_kernel_stats(c);
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_double(env, (double)c->kernel_received, &v));
  CHECK(napi_set_named_property(env, obj, "received", v));
  CHECK(napi_create_double(env, (double)c->kernel_dropped, &v));
  CHECK(napi_set_named_property(env, obj, "dropped", v));
  CHECK(napi_create_double(env, (double)c->packets_written, &v));
  CHECK(napi_set_named_property(env, obj, "written", v));
  CHECK(napi_create_double(env, (double)c->bytes_written, &v));
  CHECK(napi_set_named_property(env, obj, "bytes", v));
  return obj;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_default, NULL},
      {"ack", NULL, js_ack, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
      {"stats", NULL, js_stats, NULL, NULL, NULL, napi_default, NULL},
      {"setProgram", NULL, js_set_program, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE(packetcapture, init)

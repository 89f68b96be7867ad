/*
 * Test and bench sender: writes Ethernet frames out of an interface through a packet socket.
 *   inject <ifname> [total [packets-per-second]]  < frames (one frame per line, hex)
 * Without total each frame is sent once, in order. With total, the frames are sent round-robin until
 * `total` frames are out, paced to packets-per-second when given (0 = as fast as the socket takes them),
 * in batches through sendmmsg. Prints "sent <n> <seconds>" on stdout.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FRAMES 65536
#define BATCH 64

static unsigned char *frames[MAX_FRAMES];
static size_t lengths[MAX_FRAMES];

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: inject <ifname> [total [pps]] < hex-frames\n");
    return 2;
  }
  long long total = argc > 2 ? atoll(argv[2]) : -1;
  double pps = argc > 3 ? atof(argv[3]) : 0;
  size_t count = 0;
  char *line = NULL;
  size_t cap = 0;
  ssize_t n;
  while ((n = getline(&line, &cap, stdin)) > 0 && count < MAX_FRAMES) {
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) n--;
    if (n == 0) continue;
    frames[count] = malloc((size_t)n / 2);
    for (ssize_t i = 0; i + 1 < n; i += 2) sscanf(line + i, "%2hhx", &frames[count][i / 2]);
    lengths[count++] = (size_t)n / 2;
  }
  if (count == 0) {
    fprintf(stderr, "inject: no frames on stdin\n");
    return 2;
  }
  int fd = socket(AF_PACKET, SOCK_RAW, 0);
  if (fd < 0) { perror("socket"); return 1; }
  int one = 1;
  setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
  struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1])};
  if (sll.sll_ifindex == 0) { fprintf(stderr, "inject: no interface %s\n", argv[1]); return 1; }
  if (bind(fd, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); return 1; }
  long long goal = total < 0 ? (long long)count : total, sent = 0;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  double start = now();
  size_t next = 0;
  while (sent < goal) {
    int batch = 0, limit = total < 0 ? 1 : BATCH; /* a list replayed in order goes one frame at a time */
    while (batch < limit && sent + batch < goal) {
      iov[batch].iov_base = frames[next];
      iov[batch].iov_len = lengths[next];
      memset(&msgs[batch], 0, sizeof msgs[batch]);
      msgs[batch].msg_hdr.msg_iov = &iov[batch];
      msgs[batch].msg_hdr.msg_iovlen = 1;
      next = (next + 1) % count;
      batch++;
    }
    int r = sendmmsg(fd, msgs, (unsigned)batch, 0);
    if (r < 0) {
      if (errno == ENOBUFS || errno == EAGAIN) {
        next = (next + count - (size_t)batch % count) % count; /* resend the same frames */
        continue;
      }
      perror("sendmmsg");
      return 1;
    }
    if (r < batch) next = (next + count - (size_t)(batch - r) % count) % count;
    sent += r;
    if (pps > 0) {
      double due = start + sent / pps;
      double wait = due - now();
      if (wait > 0) {
        struct timespec ts = {(time_t)wait, (long)((wait - (time_t)wait) * 1e9)};
        nanosleep(&ts, NULL);
      }
    }
  }
  printf("sent %lld %.6f\n", sent, now() - start);
  return 0;
}

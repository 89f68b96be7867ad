/*
 * Kernel check for classic BPF programs. Run inside a network namespace with a veth pair:
 *   kernel-filter <send-if> <recv-if> <file.pcap>
 * For each program on stdin ("code jt jf k" groups separated by commas) it opens a packet socket on
 * <recv-if> that receives nothing until the program is attached (SO_ATTACH_FILTER), sends every frame of
 * the pcap file out of <send-if>, then reads what the filter let through. Output per program:
 *   "ok <i> <i> ..."  indices of the pcap frames received (matched by content; an 802.1Q/802.1ad frame also
 *                     without its outer tag, which the kernel moves into metadata), or
 *   "rejected <errno text>" when the kernel refuses the program.
 * Nothing else may send on the pair while it runs (the caller turns IPv6 off in the namespace).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct frame { unsigned char *data; unsigned len; int taken; };
static struct frame frames[100000];
static int nframes;

static void load(const char *file) {
  FILE *f = fopen(file, "rb");
  if (!f) { perror(file); exit(2); }
  unsigned char hdr[24], rec[16];
  if (fread(hdr, 1, 24, f) != 24) { fprintf(stderr, "short pcap header\n"); exit(2); }
  while (fread(rec, 1, 16, f) == 16) {
    unsigned caplen = rec[8] | rec[9] << 8 | rec[10] << 16 | (unsigned)rec[11] << 24;
    frames[nframes].data = malloc(caplen + 1);
    if (fread(frames[nframes].data, 1, caplen, f) != caplen) { fprintf(stderr, "short record\n"); exit(2); }
    frames[nframes++].len = caplen;
  }
  fclose(f);
}

static int same(const struct frame *f, const unsigned char *got, size_t n) {
  return f->len == n && !memcmp(f->data, got, n);
}
/* The kernel hands a packet socket an 802.1Q/802.1ad frame with its outer tag moved into metadata. */
static int untagged(const struct frame *f, const unsigned char *got, size_t n) {
  unsigned tpid = (unsigned)f->data[12] << 8 | f->data[13];
  if (f->len < 18 || f->len - 4 != n || (tpid != 0x8100 && tpid != 0x88a8)) return 0;
  return !memcmp(f->data, got, 12) && !memcmp(f->data + 16, got + 12, n - 12);
}
static int open_socket(const char *ifname, struct sock_fprog *prog) {
  int s = socket(AF_PACKET, SOCK_RAW, 0);
  if (s < 0) { perror("socket"); exit(2); }
  int size = 16 << 20;
  setsockopt(s, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
  if (prog && setsockopt(s, SOL_SOCKET, SO_ATTACH_FILTER, prog, sizeof *prog) < 0) {
    int e = errno;
    close(s);
    errno = e;
    return -1;
  }
  struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = (int)if_nametoindex(ifname) };
  if (bind(s, (struct sockaddr *)&sll, sizeof sll) < 0) { perror("bind"); exit(2); }
  return s;
}

int main(int argc, char **argv) {
  if (argc != 4) { fprintf(stderr, "usage: kernel-filter <send-if> <recv-if> <file.pcap>\n"); return 2; }
  load(argv[3]);
  int out = open_socket(argv[1], NULL);
  /* Sees every frame on the receiving side: once it has all of them, so has the filtered socket. */
  int witness = open_socket(argv[2], NULL);
  struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1]), .sll_halen = 6 };
  static char line[1 << 20];
  static struct sock_filter insns[4096];
  static unsigned char buf[65536];
  while (fgets(line, sizeof line, stdin)) {
    unsigned short n = 0;
    for (char *tok = strtok(line, ",\n"); tok && n < 4096; tok = strtok(NULL, ",\n")) {
      unsigned code, jt, jf; unsigned long k;
      if (sscanf(tok, "%u %u %u %lu", &code, &jt, &jf, &k) != 4) break;
      insns[n++] = (struct sock_filter){ (unsigned short)code, (unsigned char)jt, (unsigned char)jf, (unsigned)k };
    }
    struct sock_fprog prog = { .len = n, .filter = insns };
    int in = open_socket(argv[2], &prog);
    if (in < 0) { printf("rejected %s\n", strerror(errno)); fflush(stdout); continue; }
    for (int i = 0; i < nframes; i++) {
      frames[i].taken = 0;
      if (sendto(out, frames[i].data, frames[i].len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        fprintf(stderr, "send frame %d (%u bytes): %s\n", i, frames[i].len, strerror(errno));
        return 2;
      }
    }
    printf("ok");
    struct pollfd wfd = { .fd = witness, .events = POLLIN };
    for (int seen = 0; seen < nframes && poll(&wfd, 1, 2000) > 0;)
      if (recv(witness, buf, sizeof buf, 0) >= 0) seen++;
    struct pollfd pfd = { .fd = in, .events = POLLIN };
    while (poll(&pfd, 1, 0) > 0) {
      ssize_t got = recv(in, buf, sizeof buf, 0);
      if (got < 0) break;
      for (int i = 0; i < nframes; i++) {
        if (!frames[i].taken && (same(&frames[i], buf, (size_t)got) || untagged(&frames[i], buf, (size_t)got))) {
          frames[i].taken = 1;
          printf(" %d", i);
          break;
        }
      }
    }
    printf("\n");
    fflush(stdout);
    close(in);
  }
  return 0;
}

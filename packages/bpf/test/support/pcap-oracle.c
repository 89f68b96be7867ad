/*
 * Test oracle over libpcap. One request per stdin line, one answer per stdout line (dump answers end with
 * a line "end"). Programs travel as "code jt jf k" groups separated by commas.
 *   pcap-oracle filter <file.pcap> [-O]   line: tcpdump expression -> "ok <program>;<accepted indices>" | "err <msg>"
 *   pcap-oracle run <file.pcap>           line: program -> "<index>:<return value>" for every nonzero return
 *   pcap-oracle dump <1|2|3>              line: program -> bpf_dump output, then "end"
 *   pcap-oracle validate                  line: program -> "1" if bpf_validate accepts it, else "0"
 *   pcap-oracle time <repetitions>        line: expression -> mean microseconds per optimised pcap_compile
 */
#include <time.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct packet { struct pcap_pkthdr hdr; u_char *data; };
static struct packet *packets;
static size_t npackets;

static void load(const char *file) {
  char err[PCAP_ERRBUF_SIZE];
  pcap_t *p = pcap_open_offline(file, err);
  if (!p) { fprintf(stderr, "%s\n", err); exit(2); }
  size_t cap = 1024;
  packets = malloc(cap * sizeof *packets);
  struct pcap_pkthdr *h; const u_char *d;
  while (pcap_next_ex(p, &h, &d) == 1) {
    if (npackets == cap) packets = realloc(packets, (cap *= 2) * sizeof *packets);
    packets[npackets].hdr = *h;
    packets[npackets].data = malloc(h->caplen ? h->caplen : 1);
    memcpy(packets[npackets].data, d, h->caplen);
    npackets++;
  }
  pcap_close(p);
}

static int parse_program(char *line, struct bpf_program *prog) {
  size_t cap = 64, n = 0;
  struct bpf_insn *insns = malloc(cap * sizeof *insns);
  for (char *tok = strtok(line, ","); tok; tok = strtok(NULL, ",")) {
    unsigned code, jt, jf; unsigned long k;
    if (sscanf(tok, "%u %u %u %lu", &code, &jt, &jf, &k) != 4) { free(insns); return 0; }
    if (n == cap) insns = realloc(insns, (cap *= 2) * sizeof *insns);
    insns[n].code = (u_short)code; insns[n].jt = (u_char)jt; insns[n].jf = (u_char)jf; insns[n].k = (bpf_u_int32)k;
    n++;
  }
  prog->bf_len = (u_int)n; prog->bf_insns = insns;
  return 1;
}

static void print_program(const struct bpf_program *prog) {
  for (u_int i = 0; i < prog->bf_len; i++) {
    const struct bpf_insn *in = &prog->bf_insns[i];
    printf("%s%u %u %u %u", i ? "," : "", in->code, in->jt, in->jf, in->k);
  }
}

int main(int argc, char **argv) {
  if (argc < 2) { fprintf(stderr, "usage: pcap-oracle filter|run|dump|validate ...\n"); return 2; }
  const char *mode = argv[1];
  int optimize = 1, dump_option = 1;
  if (!strcmp(mode, "filter") || !strcmp(mode, "run")) {
    if (argc < 3) { fprintf(stderr, "missing pcap file\n"); return 2; }
    load(argv[2]);
    if (argc > 3 && !strcmp(argv[3], "-O")) optimize = 0;
  } else if (!strcmp(mode, "dump")) {
    dump_option = argc > 2 ? atoi(argv[2]) : 1;
  }
  int repetitions = !strcmp(mode, "time") && argc > 2 ? atoi(argv[2]) : 1;
  pcap_t *dead = pcap_open_dead(DLT_EN10MB, 262144);
  static char line[1 << 20];
  while (fgets(line, sizeof line, stdin)) {
    line[strcspn(line, "\n")] = 0;
    struct bpf_program prog;
    if (!strcmp(mode, "time")) {
      struct timespec a, b;
      clock_gettime(CLOCK_MONOTONIC, &a);
      for (int r = 0; r < repetitions; r++) {
        if (pcap_compile(dead, &prog, line, 1, 0) != 0) break;
        pcap_freecode(&prog);
      }
      clock_gettime(CLOCK_MONOTONIC, &b);
      printf("%.3f\n", ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / repetitions);
    } else if (!strcmp(mode, "filter")) {
      if (pcap_compile(dead, &prog, line, optimize, 0) != 0) {
        printf("err %s\n", pcap_geterr(dead));
      } else {
        printf("ok ");
        print_program(&prog);
        printf(";");
        int first = 1;
        for (size_t i = 0; i < npackets; i++)
          if (pcap_offline_filter(&prog, &packets[i].hdr, packets[i].data)) { printf(first ? "%zu" : " %zu", i); first = 0; }
        printf("\n");
        pcap_freecode(&prog);
      }
    } else if (!parse_program(line, &prog)) {
      printf("bad program\n");
    } else if (!strcmp(mode, "run")) {
      int first = 1;
      for (size_t i = 0; i < npackets; i++) {
        u_int r = bpf_filter(prog.bf_insns, packets[i].data, packets[i].hdr.len, packets[i].hdr.caplen);
        if (r) { printf(first ? "%zu:%u" : " %zu:%u", i, r); first = 0; }
      }
      printf("\n");
      free(prog.bf_insns);
    } else if (!strcmp(mode, "dump")) {
      bpf_dump(&prog, dump_option);
      printf("end\n");
      free(prog.bf_insns);
    } else {
      printf("%d\n", bpf_validate(prog.bf_insns, (int)prog.bf_len) ? 1 : 0);
      free(prog.bf_insns);
    }
    fflush(stdout);
  }
  pcap_close(dead);
  return 0;
}

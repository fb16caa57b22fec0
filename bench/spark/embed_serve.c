/*
 * embed_serve.c -- the instant OpenAI-compatible embeddings server of the
 * "embedding taken out" benchmarks: tests/servers/embed_server.c (vectors
 * from a hash of the text, a thread per connection, keep-alive) bound to a
 * loopback port until SIGTERM or SIGINT.  Both ragbatch (embed.provider =
 * openai) and the PySpark peer point at it, so both get the same vectors
 * for the same texts and neither waits on a model.
 *
 *   embed_serve DIM PORT_FILE
 * writes the port to PORT_FILE once listening; on SIGTERM/SIGINT prints
 *   embed_serve: requests=N inputs=N max_in_flight=N max_batch=N cpu_s=S
 * to stderr and exits 0.  cpu_s (user + system time of the server) says
 * whether the server could have been the bottleneck of a run.
 */
#include "servers/embed_server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: embed_serve DIM PORT_FILE\n");
        return 2;
    }
    char *end;
    unsigned long dim = strtoul(argv[1], &end, 10);
    if (*end || dim == 0 || dim > 65536) {
        fprintf(stderr, "embed_serve: DIM '%s' is not 1..65536\n", argv[1]);
        return 2;
    }
    /* Block the stop signals before the server's threads exist, so that
     * they inherit the mask and only sigwait() below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    es_server *s = es_server_start(0, (size_t)dim);
    if (!s) {
        perror("embed_serve: cannot listen on 127.0.0.1");
        return 1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[2]);
    FILE *f = fopen(tmp, "w");
    if (!f || fprintf(f, "%d\n", es_server_port(s)) < 0 || fclose(f) != 0 ||
        rename(tmp, argv[2]) != 0) {
        perror(argv[2]);
        es_server_stop(s);
        return 1;
    }
    int sig;
    sigwait(&stop, &sig);
    es_stats st;
    es_server_stats(s, &st);
    es_server_stop(s);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 +
                 (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    fprintf(stderr,
            "embed_serve: requests=%zu inputs=%zu max_in_flight=%zu max_batch=%zu cpu_s=%.2f\n",
            st.requests, st.inputs, st.max_in_flight, st.max_batch, cpu);
    return 0;
}

# ragbatch container image: a Debian build stage with the -dev packages, a
# stage holding the model, and a slim runtime stage with only the shared
# libraries, the installed tree and the model.  Build from the repository
# root, after scripts/fetch-model.sh has put the model in models/:
#   docker build --build-arg RAGBATCH_COMMIT="$(scripts/git-commit.sh)" -t ragbatch:0.1.0 .
# scripts/container-test.sh (in scripts/test.sh) builds it and runs the
# shipped job in it as the pods do.  Nothing is downloaded but Debian
# packages: the model comes from the build context, in a stage of its own, so
# a source change neither copies nor fetches it again.
#
# Layout (make install, prefix /usr/local, sysconfdir /etc):
#   /usr/local/bin/ragbatch, /usr/local/share/man/man1/ragbatch.1
#   /etc/ragbatch/jobs/*.job, /etc/ragbatch/conf/ (defaults.conf names the
#   model below; the schemas), /usr/local/share/ragbatch/models/all-MiniLM-L6-v2
# A pod mounts its job at /etc/ragbatch/job/ (spark-job.yaml): the job's
# ../conf/ paths resolve to /etc/ragbatch/conf/ from there too.  Secrets such
# as the MongoDB URI come from the environment.

FROM debian:bookworm-slim AS model
# Fails here, with the path in the message, when the context has no model.
COPY models/all-MiniLM-L6-v2/ /model/
RUN test -s /model/config.json && test -s /model/vocab.txt && test -s /model/model.safetensors

FROM debian:bookworm-slim AS build
WORKDIR /src
# The same script (and package list) the tests install with, build part only.
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh --build-only
COPY . .
# The context has no .git: the commit for `ragbatch --version` is passed in.
ARG RAGBATCH_COMMIT=unknown
RUN autoreconf -fi && mkdir -p /build && cd /build \
    && /src/configure -q --prefix=/usr/local --sysconfdir=/etc \
    && RAGBATCH_COMMIT=$RAGBATCH_COMMIT make -j"$(nproc)" >/dev/null \
    && make install-strip DESTDIR=/out install_model=no >/dev/null \
    && grep -qx 'embed.model.dir = /usr/local/share/ragbatch/models/all-MiniLM-L6-v2' \
        /out/etc/ragbatch/conf/defaults.conf

FROM debian:bookworm-slim
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
        librdkafka1 libmongoc-1.0-0 libbson-1.0-0 libcurl4 libutf8proc2 libavro23 libpcre2-8-0 \
        libopenblas0-pthread libgomp1 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 ragbatch \
    && useradd --system --uid 10001 --gid 10001 --home /nonexistent --shell /usr/sbin/nologin ragbatch
# The model first: its layer stays cached across source changes.
COPY --from=model /model/ /usr/local/share/ragbatch/models/all-MiniLM-L6-v2/
COPY --from=build /out/ /
# The pods' user and group (spark-job.yaml: runAsUser/runAsGroup 10001).
USER 10001:10001
# metrics.port = 9400 in the baked job (/etc/ragbatch/jobs/product-updates.job,
# the ConfigMap's job too): /metrics, /healthz, /readyz.
EXPOSE 9400
ENTRYPOINT ["/usr/local/bin/ragbatch"]
CMD ["--help"]

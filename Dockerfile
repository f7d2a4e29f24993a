# bpfd as a container image: the old README's
#   docker run --rm -it --name bpfd -v /lib/modules:/lib/modules:ro
#     -v /usr/src:/usr/src:ro --privileged r.j3ss.co/bpfd daemon
# Build it with scripts/image (it makes the bpfd-base:bookworm base with
# debootstrap and `docker import`: no registry is needed). How to run it,
# and why each mount and capability is there: docs/deploy.md.
ARG BASE=bpfd-base:bookworm

# --- build stage: compilers and -dev packages, thrown away afterwards ---
FROM ${BASE} AS build
# debootstrap's sources.list has bookworm main only; add the updates and
# security suites so that the image gets the same fixes as a Debian host.
COPY deploy/container/debian.sources /etc/apt/sources.list.d/debian.sources
RUN rm -f /etc/apt/sources.list \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential meson ninja-build pkg-config python3 \
      libbpfcc-dev libbpf-dev libjansson-dev libinih-dev libcurl4-openssl-dev libsystemd-dev \
      libmicrohttpd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . /src
ARG BPFD_COMMIT=unknown
# No unit tests here (they run on the host, scripts/test); the rule library
# and the image's config must pass `bpfd check`, or the build fails.
RUN meson setup /build --prefix=/usr -Dtests=false -Dcommit=${BPFD_COMMIT} \
 && meson compile -C /build bpfd \
 && DESTDIR=/out meson install -C /build --no-rebuild --tags runtime \
 && /out/usr/sbin/bpfd check --rules-dir rules \
 && /out/usr/sbin/bpfd check --config deploy/container/bpfd.conf

# --- runtime stage: the binary, its libraries, rules and config ---
FROM ${BASE}
COPY deploy/container/debian.sources /etc/apt/sources.list.d/debian.sources
# libbpfcc is dlopen()ed by the daemon (BCC, with LLVM and clang), as are
# libcurl (webhook) and libmicrohttpd (the metrics server). No
# linux-headers package: BCC compiles against the host's headers, mounted
# read-only at /usr/src and /lib/modules (docs/headers.md, docs/deploy.md).
RUN rm -f /etc/apt/sources.list \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libbpfcc libbpf1 libjansson4 libinih1 libcurl4 libmicrohttpd12 ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY --from=build /out/usr/sbin/bpfd /usr/sbin/bpfd
COPY rules/ /etc/bpfd/rules/
COPY deploy/container/bpfd.conf /etc/bpfd/bpfd.conf
RUN mkdir -p /run/bpfd /var/log/bpfd
ARG BPFD_COMMIT=unknown
LABEL org.opencontainers.image.title="bpfd" \
      org.opencontainers.image.description="BPF tracers with rules and actions, container aware" \
      org.opencontainers.image.revision="${BPFD_COMMIT}" \
      org.opencontainers.image.licenses="MIT"
# `bpfd status` answers once the daemon is up; the tracers compile first
# (a few seconds, longer on a busy node).
HEALTHCHECK --interval=30s --timeout=10s --start-period=120s --retries=3 \
  CMD ["/usr/sbin/bpfd", "status"]
ENTRYPOINT ["/usr/sbin/bpfd"]
CMD ["daemon"]

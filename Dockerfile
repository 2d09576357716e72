# mgmtd in a container, for integration environments (docs/container.md).
#
#   podman build --format docker -t mgmtd .      (or: docker build -t mgmtd .)
#   podman run --rm -p 127.0.0.1:8080:8080 -v mgmtd-data:/var/lib/mgmtd mgmtd
#
# Configured by MGMTD_<SECTION>_<KEY> environment variables alone (no config
# file is read unless `--config FILE` is added to the command). `make
# container-test` builds this file unchanged and drives the image
# (tests/container/).

# ---- build: `make` and `make install`, as on a Debian 12 machine ----
FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config \
      libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libjwt-dev libinih-dev \
      libssl-dev libcurl4-openssl-dev libgnutls28-dev libsystemd-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# The Debian packages of the shared libraries the two programs load, found by
# asking dpkg who ships each library ldd resolves: the runtime stage installs
# exactly these, so the list cannot drift from the link line of the Makefile.
RUN make -j"$(nproc)" all \
 && make install DESTDIR=/staging PREFIX=/usr \
 && rm /staging/etc/mgmtd/mgmtd.ini \
 && ldd /staging/usr/bin/mgmtd /staging/usr/bin/mgmtctl \
    | awk '$2 == "=>" && $3 ~ /^\// { print "*/" $1 }' | sort -u \
    | xargs dpkg-query --search | cut -d: -f1 | sort -u \
    > /staging/usr/share/doc/mgmtd/runtime-packages

# ---- runtime: the programs, their libraries' packages, nothing to build with ----
FROM debian:12-slim
COPY --from=build /staging/ /
# ca-certificates: libcurl's HTTPS to identity providers (jwks_url, discovery);
# curl: the HEALTHCHECK below. Any shared library missing here fails the build.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
      $(cat /usr/share/doc/mgmtd/runtime-packages) \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && ! ldd /usr/bin/mgmtd /usr/bin/mgmtctl | grep 'not found'
# A fixed, numeric user (10001), so that orchestrators can check "not root"
# (Kubernetes' runAsNonRoot) and a bind-mounted data directory can be chowned
# to it. The data directory is the volume: mgmtd.db, token.key, dev-idp.key.
RUN groupadd --system --gid 10001 mgmtd \
 && useradd --system --uid 10001 --gid mgmtd --home-dir /var/lib/mgmtd \
      --shell /usr/sbin/nologin mgmtd \
 && install -d -m 0700 -o mgmtd -g mgmtd /var/lib/mgmtd \
 && chgrp mgmtd /etc/mgmtd
USER 10001:10001
VOLUME /var/lib/mgmtd
EXPOSE 8080
# Every interface of the container (its network namespace is the boundary);
# MGMTD_SERVER_DATA_DIR=:memory: for a store that writes no file, and
# MGMTD_SERVER_SEED_FILE, MGMTD_DEV_IDP_ENABLED, MGMTD_TESTING_ENABLED for a test
# environment: docs/container.md.
ENV MGMTD_SERVER_LISTEN=0.0.0.0:8080 \
    MGMTD_SERVER_DATA_DIR=/var/lib/mgmtd \
    MGMTD_LOG_FORMAT=json
# The port of MGMTD_SERVER_LISTEN; with TLS ([server] tls_cert) use https://.
# Kept in the image in Docker's format only (`podman build --format docker`).
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD curl -fsS -o /dev/null "http://127.0.0.1:${MGMTD_SERVER_LISTEN##*:}/ready" || exit 1
# mgmtd is PID 1 and stops on SIGTERM: requests in flight finish, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/mgmtd", "serve"]

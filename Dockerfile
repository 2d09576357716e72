# mgmtd in a container: a thin layer over `make install`, so that what the test
# suite proves about the installed files is what the image runs. The tests do
# not build this image (no container engine runs on the build machines); see
# docs/container.md.
#
#   docker build -t mgmtd .
#   docker run -p 8080:8080 -v mgmtd-data:/var/lib/mgmtd \
#     -v $PWD/seed.json:/etc/mgmtd/seed.json:ro -e MGMTD_SEED=/etc/mgmtd/seed.json mgmtd

FROM debian:12-slim AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config ca-certificates \
      libmicrohttpd-dev libjansson-dev libsqlite3-dev libsodium-dev libjwt-dev libinih-dev \
      libssl-dev libcurl4-openssl-dev libgnutls28-dev libsystemd-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make -j"$(nproc)" all && make install DESTDIR=/staging PREFIX=/usr

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl libmicrohttpd12 \
      libjansson4 libsqlite3-0 libsodium23 libjwt0 libinih1 libssl3 libcurl4 libgnutls30 \
      libsystemd0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /staging/ /
# The same user the sysusers.d snippet makes; the data directory is the volume.
RUN useradd --system --user-group --home-dir /var/lib/mgmtd --shell /usr/sbin/nologin mgmtd \
 && install -d -m 0700 -o mgmtd -g mgmtd /var/lib/mgmtd \
 && chgrp mgmtd /etc/mgmtd /etc/mgmtd/mgmtd.ini
USER mgmtd
VOLUME /var/lib/mgmtd
EXPOSE 8080
# Configuration by mount (/etc/mgmtd/mgmtd.ini) or environment (MGMTD_<SECTION>_<KEY>,
# which beats the file); the seed by mount, named by MGMTD_SEED.
ENV MGMTD_SERVER_LISTEN=0.0.0.0:8080 \
    MGMTD_SERVER_DATA_DIR=/var/lib/mgmtd \
    MGMTD_LOG_FORMAT=json
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s \
  CMD curl -fsS http://127.0.0.1:8080/ready || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/bin/sh", "-c", "exec mgmtd serve --config /etc/mgmtd/mgmtd.ini ${MGMTD_SEED:+--seed \"$MGMTD_SEED\"} \"$@\"", "mgmtd"]

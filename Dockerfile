# The imagegate GitHub Action: imagegate built from this repository on Debian 12, shipped on
# debian:12-slim with only its runtime libraries.
FROM debian:12 AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      build-essential cmake ninja-build pkg-config git ca-certificates \
      nlohmann-json3-dev libvalijson-dev libcli11-dev libfmt-dev \
      libcurl4-openssl-dev libssl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN cmake --preset release \
 && cmake --build --preset release \
 && cmake --install build/release --prefix /opt/imagegate --strip \
 && /opt/imagegate/bin/imagegate --version

FROM debian:12-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4 libssl3 libfmt9 ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/imagegate/bin/imagegate /usr/local/bin/imagegate
COPY scripts/action-entrypoint /usr/local/bin/action-entrypoint
RUN imagegate --version
ENTRYPOINT ["/usr/local/bin/action-entrypoint"]

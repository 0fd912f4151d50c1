# The imagegate GitHub Action: imagegate built from this repository on Debian 12 (the release
# preset), shipped on debian:12-slim with only the binary and its runtime libraries.
# BUILD_IMAGE and BASE_IMAGE let a build use a local Debian 12 image (tests/e2e/action_image.sh).
ARG BUILD_IMAGE=debian:12
ARG BASE_IMAGE=debian:12-slim

FROM ${BUILD_IMAGE} AS build
# The build dependencies come from the one list in scripts/bootstrap.
COPY scripts/bootstrap /src/scripts/bootstrap
RUN /src/scripts/bootstrap build && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the binary is built from, so a change elsewhere (docs, tests) keeps the build cached.
COPY CMakeLists.txt CMakePresets.json README.md ./
COPY cmake cmake
COPY schema schema
COPY src src
# The action's checkout has no .git; the commit can be passed in (else --version says "unknown").
ARG IMAGEGATE_COMMIT=
RUN cmake --preset release -DIMAGEGATE_GIT_COMMIT=${IMAGEGATE_COMMIT} \
 && cmake --build --preset release \
 && build/release/imagegate --version

FROM ${BASE_IMAGE}
# The libraries the binary links (what dpkg-shlibdeps computes for the .deb; libc6, libgcc-s1 and
# libstdc++6 are in every Debian image) and the CAs for https registries and AWS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libcurl4 libssl3 libfmt9 ca-certificates \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build/release/imagegate /usr/local/bin/imagegate
COPY scripts/action-entrypoint /usr/local/bin/action-entrypoint
RUN imagegate --version
ENTRYPOINT ["/usr/local/bin/action-entrypoint"]

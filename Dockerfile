# kiln in a container, for CI: the kiln executable plus every host tool it runs.
#
#   npm run dist && podman build -t kiln .      (or docker build)
#   podman run --rm --privileged -v "$PWD:/work" -w /work kiln build images/debian-bookworm.yaml --out out
#
# BASE: the Debian bookworm image to start from (tests point it at a locally imported one).
# HOST_DEPS: packages to install instead of the full scripts/host-deps list (empty = all of them).
# HOST_DEPS_FLAGS: extra scripts/host-deps flags; Recommends are left out by default to keep the
# image small (the list names what kiln needs explicitly).
ARG BASE=debian:bookworm
FROM ${BASE}

ARG HOST_DEPS=""
ARG HOST_DEPS_FLAGS="--no-install-recommends"

COPY scripts/host-deps /usr/local/lib/kiln/host-deps
RUN /usr/local/lib/kiln/host-deps ${HOST_DEPS_FLAGS} ${HOST_DEPS} \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/*

# kiln puts the kiln-firstboot beside it into every image it builds
COPY dist/kiln dist/kiln-firstboot /usr/local/bin/

ENTRYPOINT ["kiln"]

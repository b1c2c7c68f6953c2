# syntax=docker/dockerfile:1
# failover-operator image: compile TypeScript in a build stage, ship dist/ plus production dependencies only.
#   docker build -t failover-operator:0.1.0 .
#   docker run --rm failover-operator:0.1.0 simulate examples/two-region-rds.yaml --scenario us-east-1-2011

FROM node:24-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

FROM node:24-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# scenario-loader.ts finds the built-in scenarios at new URL('./builtin/', import.meta.url): next to the built module.
COPY src/scenarios/builtin/*.yaml ./dist/scenarios/builtin/
COPY examples ./examples
# The node image's unprivileged user (uid 1000); the chart also sets runAsNonRoot and a read-only root filesystem.
USER node
# 8443: /metrics (HTTPS, authenticated; FO_METRICS_PORT), 8081: /healthz and /readyz (FO_HEALTH_PORT).
EXPOSE 8443 8081
ENTRYPOINT ["node", "dist/cli/failover-operator.js"]
CMD ["run"]

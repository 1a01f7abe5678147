# syntax=docker/dockerfile:1
# tandem: MySQL-protocol proxy for zero-downtime database migration.
#   docker build -t tandem .
#   docker run -p 6033:6033 -p 6034:6034 -e TANDEM_ADMIN_TOKEN=<at least 16 characters> \
#     tandem start --source mysql://... --target mysql://...
# The admin port listens beyond loopback in a container, so tandem refuses to start without a token.

# --- build: compile TypeScript to dist/, and the native socket reader (native/tandem_io.c) ---
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ \
    && rm -rf /var/lib/apt/lists/*
# node-gyp builds against the image's own node headers.
ENV npm_config_nodedir=/usr/local
WORKDIR /app
COPY package.json package-lock.json binding.gyp ./
COPY native ./native
COPY scripts ./scripts
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build

# --- runtime: compiled code and production dependencies only ---
FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# No scripts: the one install script builds the native reader, copied built from the build stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY config ./config
COPY --from=build /app/dist ./dist
COPY --from=build /app/build/Release/tandem_io.node ./build/Release/tandem_io.node

# Inside a container the loopback defaults would be unreachable from outside: listen on all
# interfaces, and keep state (mode, checkpoints, repair journal) on a volume the node user owns.
ENV TANDEM_LISTEN=0.0.0.0:6033 \
    TANDEM_ADMIN=0.0.0.0:6034 \
    TANDEM_STATE_DIR=/var/lib/tandem
RUN mkdir -p /var/lib/tandem && chown node:node /var/lib/tandem
VOLUME ["/var/lib/tandem"]

USER node
EXPOSE 6033 6034

# Assumes the admin port stays 6034; change this with TANDEM_ADMIN.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:6034/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# node runs as PID 1 and tandem handles SIGTERM itself (drains, then exits 0).
ENTRYPOINT ["node", "--max-semi-space-size=1", "bin/tandem.js"]
CMD ["start"]

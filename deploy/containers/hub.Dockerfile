# The hub image: dashboard, API and the endpoint collectors stream to. Build from the repository
# root:
#   docker build -f deploy/containers/hub.Dockerfile -t firesight-hub:0.1.0 .
# It runs as the unprivileged `node` user (uid 1000) with its store in /var/lib/firesight.

FROM node:20-bookworm-slim AS build
# better-sqlite3 builds from source with node-gyp.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends make g++ python3 \
	&& rm -rf /var/lib/apt/lists/*
ENV TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
WORKDIR /opt/firesight
COPY . .
# The native workspace's BPF build is the collector's; the hub does not load BPF.
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --filter=@firesight/web...

FROM node:20-bookworm-slim
ENV NODE_ENV=production NEXT_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
WORKDIR /opt/firesight
# The CLI runs its TypeScript through tsx, so the tree keeps its node_modules as built.
COPY --from=build /opt/firesight /opt/firesight
RUN mkdir -p /var/lib/firesight && chown node:node /var/lib/firesight
USER node
VOLUME /var/lib/firesight
EXPOSE 7300
ENTRYPOINT ["node", "/opt/firesight/apps/collector/bin/firesight.js"]
CMD ["hub", "--listen", "0.0.0.0:7300", "--data", "/var/lib/firesight"]

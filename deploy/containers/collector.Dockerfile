# The collector image. Build from the repository root:
#   docker build -f deploy/containers/collector.Dockerfile -t firesight-collector:0.1.0 .
# It runs privileged with the host's PID namespace (see deploy/kubernetes/collector-daemonset.yaml).
# The BPF programs are CO-RE: built once against the build machine's BTF, they load on any
# kernel with BTF (5.8+).

FROM node:20-bookworm-slim AS build
# The build chain scripts/bootstrap.sh installs: clang and bpftool for the BPF programs,
# libbpf/libelf/zlib headers and g++ for the addon, python3 for node-gyp.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev pkg-config make g++ python3 \
	&& rm -rf /var/lib/apt/lists/*
ENV TURBO_TELEMETRY_DISABLED=1 NEXT_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
WORKDIR /opt/firesight
COPY . .
RUN npm ci --no-audit --no-fund
RUN npx turbo run build --filter=@firesight/collector...

FROM node:20-bookworm-slim
# What the addon links against at run time.
RUN apt-get update \
	&& apt-get install -y --no-install-recommends libbpf1 libelf1 zlib1g \
	&& rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
WORKDIR /opt/firesight
# The CLI runs its TypeScript through tsx, so the tree keeps its node_modules as built.
COPY --from=build /opt/firesight /opt/firesight
ENTRYPOINT ["node", "/opt/firesight/apps/collector/bin/firesight.js"]
CMD ["collector", "--help"]

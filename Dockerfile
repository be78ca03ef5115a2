# Every Purser executable in one image; docker-compose.yml picks one per service with `command`.
#
#   docker build -t purser:local .
#
# Build stage: the Swift toolchain and librdkafka's headers. The Swift runtime is linked
# statically, so the runtime stage needs only librdkafka and the C/C++ runtime.
ARG SWIFT_VERSION=6.1
FROM swift:${SWIFT_VERSION}-bookworm AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librdkafka-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Dependencies first, so editing the sources does not download them again.
COPY Package.swift Package.resolved* ./
RUN swift package resolve
COPY . .
ARG PRODUCTS="purser purser-ingest purser-transaction-fetcher purser-customer-policy purser-purse-renewer purser-deposit-crediter calypso-sandbox"
RUN mkdir -p /out \
    && for product in $PRODUCTS; do \
        swift build -c release --static-swift-stdlib --product "$product" || exit 1; \
        cp "$(swift build -c release --show-bin-path)/$product" /out/ || exit 1; \
    done

# Runtime stage: Debian 12 ships librdkafka 2.0.2, the version Purser is built and tested against.
FROM debian:bookworm-slim
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends librdkafka1 ca-certificates tzdata \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app purser \
    && mkdir -p /var/lib/purser/spool \
    && chown -R purser /var/lib/purser
COPY --from=build /out/ /usr/local/bin/
# `purser topics apply` reads the declarations from ./topics.
COPY topics /app/topics
WORKDIR /app
USER purser
# Ingest (8080), calypso-sandbox (8081), worker /metrics and /health (9090).
EXPOSE 8080 8081 9090
CMD ["purser", "--help"]

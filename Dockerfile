# syntax=docker/dockerfile:1
# Build: `make build`, the same command and flags as outside Docker; with
# libisal-dev installed it links ISA-L's in-process gzip decoder (migrations,
# configs and the API document are embedded). Run: non-root, with the configs
# and sample coupon data beside it, and Debian's isal (libisal2 for the linked
# decoder, igzip as its fallback). test/deploy_test.go checks this file against
# the Makefile and builds the same layout.
FROM golang:1.26-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends libisal-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build BIN=/out/minikart

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates isal \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app minikart
WORKDIR /app
COPY --from=build /out/minikart /app/minikart
COPY configs/ /app/configs/
COPY data/coupons/ /app/data/coupons/
# /app/index holds the coupon index the deploy step builds (a shared volume).
RUN mkdir -p /app/index && chown -R minikart /app/data /app/index
USER minikart
# The port is server.port's default (8080), so that SERVER_PORT or
# MINIKART_SERVER_PORT given at `docker run` moves it without one of them
# silently winning over the other.
ENV MINIKART_ENV=production \
    MINIKART_SERVER_HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["/app/minikart", "healthcheck"]
ENTRYPOINT ["/app/minikart"]
CMD ["serve"]

# syntax=docker/dockerfile:1
# Build: a static binary (migrations, configs and the API document are
# embedded). Run: non-root, with the configs and sample coupon data beside it,
# and Debian's isal (igzip) for fast coupon decoding.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/minikart .

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
ENV MINIKART_ENV=production \
    MINIKART_SERVER_HOST=0.0.0.0 \
    MINIKART_SERVER_PORT=8080
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
    CMD ["/app/minikart", "healthcheck"]
ENTRYPOINT ["/app/minikart"]
CMD ["serve"]

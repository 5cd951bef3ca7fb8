# Multi-stage build: compile in the Rust image, run in a small Debian image as a
# non-root user.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin catalog

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home /var/lib/catalog catalog \
 && mkdir -p /var/lib/catalog/media && chown -R catalog /var/lib/catalog \
 && printf '#!/bin/sh\nexec curl -fsS http://127.0.0.1:8000/readyz >/dev/null\n' > /usr/local/bin/catalog-healthcheck \
 && chmod +x /usr/local/bin/catalog-healthcheck
COPY --from=build /src/target/release/catalog /usr/local/bin/catalog
COPY --chown=catalog config /var/lib/catalog/config
USER catalog
WORKDIR /var/lib/catalog
ENV CATALOG_BIND=0.0.0.0:8000
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s CMD ["/usr/local/bin/catalog-healthcheck"]
CMD ["catalog", "serve"]

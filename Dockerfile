# The backend image: `luojia` plus ffmpeg (for `luojia ingest`). Used by docker-compose.yml.
FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
ENV CARGO_TARGET_DIR=/src/target
RUN cargo build --release --locked -p luojia && cp target/release/luojia /luojia

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /luojia /usr/local/bin/luojia
ENV APP_MODE=production \
    APP_SERVER__HOST=127.0.0.1 \
    APP_DATA_DIR=/data \
    APP_MEDIA__DIR=/srv/luojia/media \
    APP_MEDIA__PUBLIC_DIR=/srv/luojia/public \
    APP_MEDIA__SERVE_FILES=false
VOLUME ["/data", "/srv/luojia/media", "/srv/luojia/public"]
CMD ["luojia", "serve"]

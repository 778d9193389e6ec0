# syntax=docker/dockerfile:1
# source-intercom: an Airbyte source connector for Intercom.
#
#   docker build -t source-intercom/source-intercom:0.1.0 .
#   docker run --rm source-intercom/source-intercom:0.1.0 spec
#
# The labels, the entrypoint and AIRBYTE_ENTRYPOINT must agree with metadata.yaml; a
# test (tests/suite/conformance.rs) checks that they do.

############################ build ############################
FROM rust:1-bookworm AS build
WORKDIR /src

# Dependencies first, from the manifests alone, so that a source change rebuilds only
# our own crates and this layer stays cached.
COPY Cargo.toml Cargo.lock ./
COPY fake-intercom/Cargo.toml fake-intercom/Cargo.toml
RUN mkdir -p src fake-intercom/src \
 && echo 'fn main() {}' > src/main.rs && touch src/lib.rs \
 && echo 'fn main() {}' > fake-intercom/src/main.rs && touch fake-intercom/src/lib.rs \
 && cargo build --release --locked -p source-intercom \
 && rm -rf src fake-intercom/src

# Then the connector itself.
COPY src src
COPY schemas schemas
COPY fake-intercom/src fake-intercom/src
RUN touch src/main.rs src/lib.rs \
 && cargo build --release --locked -p source-intercom --bin source-intercom \
 && ./target/release/source-intercom spec > /dev/null

############################ runtime ############################
FROM debian:bookworm-slim

# CA certificates for TLS to Intercom; /bin/sh comes with the base (the platform runs
# every command through `sh -c "$AIRBYTE_ENTRYPOINT ..."`). A non-root user with uid 1000,
# as Airbyte's rootless pods run, owning a writable home and /airbyte.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && mkdir -p /airbyte/integration_code \
 && groupadd --gid 1000 airbyte \
 && useradd --uid 1000 --gid 1000 --home-dir /airbyte/home --create-home --shell /bin/sh airbyte \
 && chown -R airbyte:airbyte /airbyte

COPY --from=build /src/target/release/source-intercom /airbyte/integration_code/source-intercom

ENV AIRBYTE_ENTRYPOINT="/airbyte/integration_code/source-intercom"
ENV HOME="/airbyte/home"
ENV TZ="UTC"
ENTRYPOINT ["/airbyte/integration_code/source-intercom"]

LABEL io.airbyte.name="source-intercom/source-intercom"
LABEL io.airbyte.version="0.1.0"

USER airbyte
WORKDIR /airbyte/integration_code

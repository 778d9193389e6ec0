# Sourced by scripts/image-test.sh and scripts/standard-tests.sh: a container engine and the
# connector image, built from the project's Dockerfile as it is.
#
#   engine_setup    picks `docker` if a Docker engine answers, otherwise installs (Debian's
#                   packages) and configures `podman` with runc, vfs storage and cgroupfs under
#                   $IMAGE_WORK; puts a `docker` command for it first on PATH ($IMAGE_WORK/bin).
#   build_image     builds $IMAGE from the Dockerfile (layers cached: a second build in the same
#                   run reuses every layer). With podman, the two base images cannot be pulled
#                   here, so it first makes local stand-ins under the names the Dockerfile uses.
#
# Needs root and Debian's package archive (podman, runc, debootstrap). Users' builds with a
# Docker engine pull the real base images; nothing here changes the Dockerfile.

IMAGE=${IMAGE:-source-intercom/source-intercom:dev}
TARGET_DIR=${CARGO_TARGET_DIR:-target}
IMAGE_WORK=${IMAGE_WORK:-$TARGET_DIR/image}
mkdir -p "$IMAGE_WORK"
IMAGE_WORK=$(cd "$IMAGE_WORK" && pwd)

# The Dockerfile's base images, and what stands in for them when they cannot be pulled.
RUNTIME_BASE=docker.io/library/debian:bookworm-slim
BUILD_BASE=docker.io/library/rust:1-bookworm

engine_setup() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    ENGINE=docker
    return
  fi
  ENGINE=podman
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v runc >/dev/null || missing+=(runc)
  command -v debootstrap >/dev/null || missing+=(debootstrap)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (Debian packages)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${missing[@]}" uidmap >"$IMAGE_WORK/apt.log" 2>&1 || { tail -20 "$IMAGE_WORK/apt.log"; return 1; }
  fi
  # Our own configuration, in files of ours (nothing under /etc changes): no default
  # ulimits (the sandbox refuses raising them), cgroupfs (no systemd), runc, vfs storage
  # (no overlay in this kernel setup), and the host network by default, so that a plain
  # `docker run` reaches the fake Intercom on 127.0.0.1 as the standard tests run it.
  mkdir -p "$IMAGE_WORK/podman" "$IMAGE_WORK/bin"
  cat >"$IMAGE_WORK/podman/containers.conf" <<EOF
[containers]
default_ulimits = []
netns = "host"
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
EOF
  cat >"$IMAGE_WORK/podman/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$IMAGE_WORK/podman/storage"
runroot = "$IMAGE_WORK/podman/run"
EOF
  export CONTAINERS_CONF="$IMAGE_WORK/podman/containers.conf"
  export CONTAINERS_STORAGE_CONF="$IMAGE_WORK/podman/storage.conf"
  # A docker-compatible CLI for tools that call `docker` (Airbyte's image tests).
  cat >"$IMAGE_WORK/bin/docker" <<EOF
#!/bin/sh
export CONTAINERS_CONF="$CONTAINERS_CONF" CONTAINERS_STORAGE_CONF="$CONTAINERS_STORAGE_CONF"
exec podman "\$@"
EOF
  chmod +x "$IMAGE_WORK/bin/docker"
  export PATH="$IMAGE_WORK/bin:$PATH"
}

engine() { "$ENGINE" "$@"; }

# A Debian bookworm root, debootstrap minbase (what Debian's official images are made from),
# made once and kept.
debian_root() {
  local root=$IMAGE_WORK/rootfs-debootstrap
  if [ ! -x "$root/bin/sh" ] || [ ! -e "$root/.complete" ]; then
    rm -rf "$root"
    echo "debootstrap --variant=minbase bookworm" >&2
    debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian \
      >"$IMAGE_WORK/debootstrap.log" 2>&1 || { tail -20 "$IMAGE_WORK/debootstrap.log" >&2; return 1; }
    touch "$root/.complete"
  fi
  echo "$root"
}

# Import a root directory as an image.
import_root() { # dir, image, --change instructions...
  local dir=$1 image=$2
  shift 2
  local changes=()
  for c in "$@"; do changes+=(--change "$c"); done
  tar --exclude=./.complete -C "$dir" -c . | engine import "${changes[@]}" - "$image" >/dev/null 2>&1
}

# debian:bookworm-slim: the minbase root trimmed the way Debian's slim images are (no docs,
# man pages or locales, now or in packages installed later).
make_runtime_base() {
  engine image exists "$RUNTIME_BASE" && return 0
  echo "== stand-in for $RUNTIME_BASE (debootstrap minbase, slimmed)"
  local src root=$IMAGE_WORK/rootfs-slim
  src=$(debian_root)
  rm -rf "$root"
  cp -a "$src" "$root"
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
EOF
  # Debian's images also keep apt from leaving its caches in a layer.
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::GzipIndexes "true";\n' >"$root/etc/apt/apt.conf.d/docker-gzip-indexes"
  printf 'Acquire::Languages "none";\n' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  printf 'Apt::AutoRemove::SuggestsImportant "false";\n' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{man,groff,info,lintian,linda,locale}/* "$root"/var/lib/apt/lists/* \
    "$root"/var/cache/apt/*.bin "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log
  import_root "$root" "$RUNTIME_BASE" 'CMD ["bash"]'
  rm -rf "$root"
}

# rust:1-bookworm: the Debian root with a C toolchain (for crates that build C, as the real
# image has) and this machine's installed Rust toolchain where the real image keeps it. Cargo
# trusts the CA bundle that the build mounts at /run/host-ca (the host's, for its TLS proxy);
# it is mounted into the build only, never part of an image.
make_build_base() {
  engine image exists "$BUILD_BASE" && return 0
  echo "== stand-in for $BUILD_BASE (debootstrap minbase, gcc, this machine's Rust toolchain)"
  local src root=$IMAGE_WORK/rootfs-rust sysroot
  src=$(debian_root)
  rm -rf "$root"
  cp -a "$src" "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  chroot "$root" sh -c 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends gcc libc6-dev ca-certificates' \
    >"$IMAGE_WORK/build-base.log" 2>&1 || { tail -20 "$IMAGE_WORK/build-base.log"; return 1; }
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/archives/*.deb
  : >"$root/etc/resolv.conf"
  sysroot=$(rustc --print sysroot)
  local tc=$root/usr/local/rustup/toolchains/host
  mkdir -p "$tc/bin" "$root/usr/local/cargo/bin"
  cp -a "$sysroot"/bin/{cargo,rustc,rustdoc} "$tc/bin/"
  cp -a "$sysroot/lib" "$tc/"
  rm -rf "$tc/lib/rustlib/src"
  for b in cargo rustc rustdoc; do ln -s "../../rustup/toolchains/host/bin/$b" "$root/usr/local/cargo/bin/$b"; done
  printf '[http]\ncainfo = "/run/host-ca/ca-certificates.crt"\n' >"$root/usr/local/cargo/config.toml"
  import_root "$root" "$BUILD_BASE" \
    'ENV RUSTUP_HOME=/usr/local/rustup' 'ENV CARGO_HOME=/usr/local/cargo' \
    'ENV PATH=/usr/local/cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    'CMD ["bash"]'
  rm -rf "$root"
}

host_ca_bundle() {
  local f
  for f in "${SSL_CERT_FILE:-}" /etc/ssl/certs/ca-certificates.crt; do
    [ -n "$f" ] && [ -s "$f" ] && { echo "$f"; return; }
  done
}

# A digest of everything the Dockerfile builds from (the files .dockerignore lets in).
build_inputs() {
  {
    sha256sum Dockerfile .dockerignore Cargo.toml Cargo.lock fake-intercom/Cargo.toml
    find src schemas fake-intercom/src -type f -print0 | sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

# Build $IMAGE, unless it was built from these very inputs already (earlier in this run).
build_image() {
  local inputs
  inputs=$(build_inputs)
  if [ "$(engine image inspect --format '{{index .Config.Labels "source-intercom.build-inputs"}}' "$IMAGE" 2>/dev/null)" = "$inputs" ]; then
    echo "== $IMAGE is built from these sources already: reused"
    return
  fi
  local start=$SECONDS
  if [ "$ENGINE" = docker ]; then
    docker build --label "source-intercom.build-inputs=$inputs" -t "$IMAGE" .
  else
    make_runtime_base
    make_build_base
    # --layers=false: each stage runs in one container, committed once at its end. With vfs
    # storage every committed step would copy the whole root (the build stage's is 1.5 GB).
    echo "== podman build -t $IMAGE . (the Dockerfile as it is)"
    engine build --pull=never --network host --layers=false \
      -v "$(host_ca_bundle):/run/host-ca/ca-certificates.crt:ro" \
      --label "source-intercom.build-inputs=$inputs" \
      -t "$IMAGE" . >"$IMAGE_WORK/build.log" 2>&1 || { tail -40 "$IMAGE_WORK/build.log"; return 1; }
  fi
  echo "built in $((SECONDS - start)) s"
}

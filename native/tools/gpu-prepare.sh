#!/usr/bin/env bash
# Prepares .gpu/ for native/tools/gpu-check.sh, on this (GPU-less) machine: the GPU machine of the
# device tool has CUDA, CMake, a C++ compiler and PyTorch but no JDK, no Maven and no network, so the
# Java side travels built:
#   .gpu/jdk.tar.xz  a Java 25 runtime made by jlink (java.base only, ~19 MB xz-compressed)
#   .gpu/java/       the classes of java-api, bindings (without native libraries: those are built
#                    there) and conformance, and the conformance checker's jars (jackson)
# .gpu/ is added to git's info/exclude; name it in the device tool's carry (carry: [".gpu"]). The
# tracked tree plus .gpu must stay under the tool's 64 MiB: the script prints the total and fails
# above it.   Usage (repository root): native/tools/gpu-prepare.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. .mvn/jdk.sh
panopt_find_jdk
jdk="${JAVA_HOME:?no JDK 25 found}"

exclude="$(git rev-parse --git-path info/exclude)"
grep -qx '/.gpu/' "$exclude" 2>/dev/null || echo '/.gpu/' >>"$exclude"

echo "gpu-prepare: building the Java modules (Maven, no tests)"
./mvnw -B -ntp -q package -pl conformance -am -DskipTests -Dmaven.javadoc.skip=true -Dmaven.source.skip=true

rm -rf .gpu
mkdir -p .gpu/java/lib
cp -r java-api/target/classes .gpu/java/java-api
cp -r bindings/target/classes .gpu/java/bindings
rm -rf .gpu/java/bindings/dev/panopt/bindings/native # libpanopt*.so: built on the GPU machine
cp -r conformance/target/classes .gpu/java/conformance
for j in conformance/target/lib/*.jar; do
  case "$(basename "$j")" in panopt-*) ;; *) cp "$j" .gpu/java/lib/ ;; esac
done

echo "gpu-prepare: making the Java runtime (jlink, java.base)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$jdk/bin/jlink" --add-modules java.base --strip-debug --no-header-files --no-man-pages --compress=zip-9 \
  --strip-native-debug-symbols=objcopy="$(command -v objcopy)" --output "$tmp/jdk"
tar cf - -C "$tmp" jdk | xz -9 -T2 >.gpu/jdk.tar.xz

tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r du -cb 2>/dev/null | tail -n 1 | cut -f1)
carried=$(du -sb .gpu | cut -f1)
total=$((tracked + ${untracked:-0} + carried))
limit=$((64 * 1024 * 1024))
echo "gpu-prepare: tracked $((tracked / 1000000)) MB + untracked $(( ${untracked:-0} / 1000000)) MB + .gpu $((carried / 1000000)) MB = $((total / 1000000)) MB (limit $((limit / 1000000)) MB)"
if [ "$total" -gt "$limit" ]; then
  echo "gpu-prepare: over the device tool's 64 MiB; remove untracked files or shrink .gpu" >&2
  exit 1
fi
echo "gpu-prepare: ready. With the device tool (carry [\".gpu\"], timeout_s 590): bash native/tools/gpu-check.sh --no-bench;"
echo "            then, on the same warm machine: bash native/tools/gpu-check.sh --bench-only"

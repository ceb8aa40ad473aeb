# Sourced by conformance/check and conformance/export-inputs: finds a JDK >= 25, builds the
# conformance jar once if it is missing, and runs a main class of it.
#   panopt_conformance_launch MAIN_CLASS ARGS...
panopt_conformance_launch() {
  local main="$1"
  shift
  local here root java jar log
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  root="$(dirname "$here")"
  . "$root/.mvn/jdk.sh"     # JAVA_HOME := a JDK >= 25 when the default java is older
  panopt_find_jdk
  java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
  jar="$(ls "$here"/target/panopt-conformance-*.jar 2>/dev/null | grep -v -- '-tests.jar' | head -n 1 || true)"
  if [ -z "$jar" ] || [ ! -d "$here/target/lib" ]; then
    mkdir -p "$root/target"
    log="$root/target/check-build.log"
    echo "$(basename "$0"): building Panopt once (libpanopt with CMake, the Java modules with Maven), log: $log" >&2
    if ! (cd "$root" && ./mvnw -B -ntp package -pl conformance -am -DskipTests -Dmaven.javadoc.skip=true \
        -Dmaven.source.skip=true) >"$log" 2>&1; then
      tail -n 30 "$log" >&2
      echo "$(basename "$0"): the build failed; full log: $log" >&2
      exit 2
    fi
    jar="$(ls "$here"/target/panopt-conformance-*.jar | grep -v -- '-tests.jar' | head -n 1)"
  fi
  exec "$java" --enable-native-access=ALL-UNNAMED -cp "$jar:$here/target/lib/*" "$main" "$@"
}

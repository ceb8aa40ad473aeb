# Sourced (POSIX sh) by ./mvnw, ./panopt, conformance/check, bench/run and .ci/run, then
# `panopt_find_jdk`: makes sure the JDK they run is 25 or newer, whatever the machine's default java.
#   - JAVA_HOME, if it is a JDK >= 25, is kept; else the java on the PATH, if it is one, is used;
#   - else the first JDK >= 25 among /usr/lib/jvm/temurin-25-jdk-amd64, /usr/lib/jvm/*, /usr/java/*,
#     /opt/java/*, /opt/jdk*, ~/.sdkman/candidates/java/*, ~/.jdks/* becomes JAVA_HOME (with a note
#     on stderr when it replaces a JAVA_HOME that was set);
#   - when there is none nothing changes, and Maven's enforcer says that JDK 25 is needed.
# A JDK here is a directory with bin/java, bin/javac and a `release` file naming its version.

panopt_jdk_major() { # JDK home -> its feature version (17, 25, ...), or nothing when it is not a JDK
  if [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] && [ -r "$1/release" ]; then
    sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n 1
  fi
}

panopt_is_jdk25() { # JDK home -> success when it is a JDK 25 or newer
  _panopt_m="$(panopt_jdk_major "$1")"
  [ -n "$_panopt_m" ] && [ "$_panopt_m" -ge 25 ]
}

panopt_path_jdk_home() { # the home of the java on the PATH, or nothing
  _panopt_j="$(command -v java 2>/dev/null || true)"
  if [ -n "$_panopt_j" ]; then
    _panopt_j="$(readlink -f "$_panopt_j" 2>/dev/null || printf %s "$_panopt_j")"
    printf %s\\n "${_panopt_j%/bin/java}"
  fi
}

panopt_find_jdk() {
  if [ -n "${JAVA_HOME:-}" ] && panopt_is_jdk25 "$JAVA_HOME"; then return 0; fi
  if [ -z "${JAVA_HOME:-}" ] && panopt_is_jdk25 "$(panopt_path_jdk_home)"; then return 0; fi
  case $- in *f*) _panopt_noglob=1; set +f ;; *) _panopt_noglob= ;; esac
  _panopt_found=
  for _panopt_d in /usr/lib/jvm/temurin-25-jdk-amd64 /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
      "${HOME:-/nonexistent}"/.sdkman/candidates/java/* "${HOME:-/nonexistent}"/.jdks/*; do
    if [ -d "$_panopt_d" ] && panopt_is_jdk25 "$_panopt_d"; then _panopt_found="$_panopt_d"; break; fi
  done
  [ -z "$_panopt_noglob" ] || set -f
  if [ -n "$_panopt_found" ]; then
    if [ -n "${JAVA_HOME:-}" ]; then
      echo "note: JAVA_HOME=$JAVA_HOME is not a JDK 25 or newer; using $_panopt_found" >&2
    fi
    JAVA_HOME="$_panopt_found"
    export JAVA_HOME
  fi
  return 0
}

panopt_java_is_25() { # success when the java these scripts run (JAVA_HOME's, else the PATH's) is >= 25
  if [ -n "${JAVA_HOME:-}" ]; then panopt_is_jdk25 "$JAVA_HOME"; else panopt_is_jdk25 "$(panopt_path_jdk_home)"; fi
}

# Private apt configuration: own sources list and state/cache dirs, the mirror
# read from the system's apt sources; the system's apt setup is left untouched.
#   source scripts/lib/private-apt.sh
#   papt_init DIR ARCH "SUITE..." [src]   then   papt get download PKG   (in any cwd)
#   with "src", deb-src lines too:          papt get source PKG
papt_mirror() {
  local m
  m=$(grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
      | awk '{print $2}' | grep -E '/debian/?$' | head -n1)
  [ -n "$m" ] || m=$(grep -hoE '^(URIs:|deb) +[^ ]+' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n1)
  echo "${m%/}"
}

papt_init() {
  PAPT_DIR=$1; local arch=$2 suites=$3 src=${4:-} mirror s
  mirror=$(papt_mirror)
  [ -n "$mirror" ] || { echo "private-apt: no Debian mirror found in the system's apt sources" >&2; return 1; }
  mkdir -p "$PAPT_DIR"/{lists/partial,archives/partial,etc/preferences.d,etc/apt.conf.d}
  : > "$PAPT_DIR/etc/sources.list"
  for s in $suites; do
    echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" >> "$PAPT_DIR/etc/sources.list"
    [ "$src" != src ] || echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $s main" >> "$PAPT_DIR/etc/sources.list"
  done
  touch "$PAPT_DIR/status"
  PAPT_OPTS=(-o "Dir::Etc::SourceList=$PAPT_DIR/etc/sources.list" -o "Dir::Etc::SourceParts=-"
             -o "Dir::Etc::Preferences=$PAPT_DIR/etc/preferences" -o "Dir::Etc::PreferencesParts=$PAPT_DIR/etc/preferences.d"
             -o "Dir::State=$PAPT_DIR" -o "Dir::State::Lists=$PAPT_DIR/lists" -o "Dir::State::status=$PAPT_DIR/status"
             -o "Dir::Cache=$PAPT_DIR" -o "Dir::Cache::archives=$PAPT_DIR/archives"
             -o "APT::Architecture=$arch" -o "APT::Architectures::=$arch" -o "Debug::NoLocking=1" -o "APT::Sandbox::User=root")
  apt-get "${PAPT_OPTS[@]}" -qq update
}

papt() {
  local tool=$1; shift
  "apt-$tool" "${PAPT_OPTS[@]}" "$@"
}

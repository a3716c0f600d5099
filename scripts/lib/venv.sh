# Sourced by the check scripts: pinned Python venvs outside the checkout, created when
# missing and reused. VENVS defaults to /opt/vigia-venvs.
# venv NAME REQUIREMENT...: creates $VENVS/NAME with exactly these pins unless it has them
# (a venv with other pins is rebuilt); afterwards $VENVS/NAME/bin holds its commands.
venvs=${VENVS:-/opt/vigia-venvs}
venv() {
  local name=$1; shift
  local dir="$venvs/$name" stamp="$venvs/$name/.vigia-pins"
  if [ -x "$dir/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$*" ]; then return 0; fi
  echo "creating $dir ($*)" >&2
  rm -rf "$dir"
  mkdir -p "$venvs"
  python3 -m venv "$dir"
  "$dir/bin/pip" install -q --disable-pip-version-check "$@" || { rm -rf "$dir"; return 1; }
  echo "$*" >"$stamp"
}

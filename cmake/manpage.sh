#!/bin/sh
# cmake/manpage.sh BINARY OUT VERSION: writes OUT.gz, the man page of imagegate, from the binary's
# own --help (help2man) plus every subcommand's --help as a COMMANDS section, so the page cannot
# drift from the program. Compressed with gzip -9n (no name, no time) as Debian policy asks.
set -eu
bin=$1 out=$2 version=$3
include="$out.include"
{
  echo '[COMMANDS]'
  for command in validate tags matrix gate pin verify; do
    echo ".SS $command"
    echo ".nf"
    # Backslashes and leading dots are roff syntax; the usage line shows the path it ran from.
    "$bin" "$command" --help | sed -e 's/\\/\\e/g' -e 's/^\./\\\&./' \
      -e 's|^Usage: [^ ]*imagegate|Usage: imagegate|'
    echo ".fi"
  done
} >"$include"
help2man --no-info --version-string="$version" --section=1 \
  --name="gates container deploys on images, tags and digests" \
  --include="$include" --output="$out" "$bin"
gzip -9nf "$out"

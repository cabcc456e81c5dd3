#!/bin/sh
# Regenerates assets/snippet.min.js (what dnid serves) from assets/snippet.js.
#
# The first line of the output carries the CRC32C of the source (line endings
# normalised to \n); the unit tests in src/http/snippet.rs fail when it does not match
# the current assets/snippet.js, or when the result is over 3072 bytes.
#
# Needs node and npx (terser is fetched from the npm registry, pinned below).
set -eu
cd "$(dirname "$0")/.."

TERSER=terser@5.51.4
src=assets/snippet.js
out=assets/snippet.min.js

crc=$(node -e '
  const src = require("fs").readFileSync(process.argv[1], "utf8").replace(/\r\n/g, "\n");
  const bytes = Buffer.from(src, "utf8");
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  let crc = 0xffffffff;
  for (const b of bytes) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
  process.stdout.write(((crc ^ 0xffffffff) >>> 0).toString(16).padStart(8, "0"));
' "$src")

body=$(npx --yes "$TERSER" "$src" --compress passes=2 --mangle --comments false)

tmp="$out.tmp.$$"
{
  printf '/*! dnid snippet | generated from assets/snippet.js crc32c=%s by scripts/minify-snippet.sh */\n' "$crc"
  printf '%s\n' "$body"
} > "$tmp"
mv "$tmp" "$out"

raw=$(wc -c < "$out" | tr -d ' ')
gz=$(gzip -9c "$out" | wc -c | tr -d ' ')
echo "$out: $raw bytes, $gz gzipped (source crc32c=$crc)"
if [ "$raw" -gt 3072 ]; then
  echo "error: $out is over the 3072-byte budget" >&2
  exit 1
fi

#!/usr/bin/env bash
# browser_check.sh HTML_FILE OUT_PNG: load a local HTML file in headless Chromium, the way a
# user opens a report, and fail if it does not load cleanly.
#   - every local file the HTML references (<img src> above all) exists next to it;
#   - Chromium loads it: the DOM it dumps has the file's <title> and every <img>;
#   - no console errors (Uncaught ..., Failed to load resource, net::ERR_...);
#   - the screenshot, written to OUT_PNG, is a PNG of 1280x2000 that is not blank.
# Exit 0 when all hold, 1 with a message naming what failed. Needs chromium
# (scripts/install-deps.sh) and /usr/bin/python3 (stdlib only). CHROMIUM and PYTHON
# override the programs.
set -uo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 HTML_FILE OUT_PNG" >&2
  exit 2
fi
die() { echo "browser_check: FAIL: $*" >&2; exit 1; }

HTML=$(realpath -e -- "$1" 2>/dev/null) || die "no such file: $1"
[ -f "$HTML" ] || die "not a file: $1"
OUT=$(realpath -m -- "$2")
mkdir -p "$(dirname "$OUT")" || die "cannot create $(dirname "$OUT")"
rm -f "$OUT"
PY=${PYTHON:-/usr/bin/python3}
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$CHROMIUM" ] || die "chromium not found: run scripts/install-deps.sh (or set CHROMIUM)"
W=1280
H=2000

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
# file:// URL of the absolute path, percent-encoded.
URL=$("$PY" -c 'import pathlib, sys; print(pathlib.Path(sys.argv[1]).as_uri())' "$HTML")

# One Chromium run, on a throwaway profile. Without the background-networking flags
# Chromium tries to reach Google, and on a closed network those connections are refused.
chrome() {
  local profile
  profile=$(mktemp -d -p "$WORK" profile.XXXXXX)
  timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" --enable-logging=stderr --v=0 "$@"
}

# All checks in Python, stdlib only. Modes:
#   static HTML             - local references exist and look like what they claim
#   loaded HTML DOM LOG...  - the dumped DOM matches the file; no errors in the logs
#   png PNG W H             - a PNG of W x H that is not blank
check() {
  "$PY" - "$@" <<'PY'
import os, re, struct, sys, zlib
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

class Page(HTMLParser):
    # Collects the <title>, the <img src>s and every other reference to a file.
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.title, self.in_title, self.imgs, self.refs = None, False, [], []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self.in_title, self.title = True, ""
        if tag == "img":
            self.imgs.append(a.get("src"))
        for t, k in (("img", "src"), ("script", "src"), ("link", "href"), ("a", "href"),
                     ("object", "data"), ("embed", "src"), ("source", "src"),
                     ("iframe", "src")):
            if tag == t and a.get(k):
                self.refs.append((t, k, a[k]))
    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
    def handle_data(self, data):
        if self.in_title:
            self.title += data

def parse(path):
    p = Page()
    with open(path, encoding="utf-8", errors="replace") as f:
        p.feed(f.read())
    p.close()
    return p

errors = []
mode = sys.argv[1]

if mode == "static":
    html = sys.argv[2]
    base = os.path.dirname(html)
    p = parse(html)
    if not (p.title or "").strip():
        errors.append("no <title> (or an empty one)")
    if not p.imgs:
        print("browser_check: note: no <img> in the page")
    for tag, attr, ref in p.refs:
        u = urlsplit(ref)
        what = f'<{tag} {attr}="{ref}">'
        if u.scheme in ("data", "mailto", "javascript") or (tag == "a" and not u.path):
            continue                          # inline data, or a link within the page
        if u.scheme in ("http", "https") or ref.startswith("//"):
            if tag != "a":                    # a report must work offline
                errors.append(f"{what}: remote resource, the page does not stand alone")
            continue
        if u.scheme not in ("", "file"):
            errors.append(f"{what}: unexpected URL scheme")
            continue
        path = unquote(u.path)
        full = path if os.path.isabs(path) else os.path.join(base, path)
        if tag == "img" and os.path.isabs(path):
            errors.append(f"{what}: absolute path, the report breaks when moved")
        if not os.path.isfile(full):
            errors.append(f"{what}: {full} does not exist")
            continue
        if tag == "img":
            with open(full, "rb") as f:
                head = f.read(4096)
            ext = os.path.splitext(path)[1].lower()
            if os.path.getsize(full) == 0:
                errors.append(f"{what}: {full} is empty")
            elif ext == ".png" and not head.startswith(b"\x89PNG\r\n\x1a\n"):
                errors.append(f"{what}: {full} is not a PNG")
            elif ext == ".svg" and b"<svg" not in head:
                errors.append(f"{what}: {full} is not an SVG")
    print(f"browser_check: {len(p.imgs)} <img>, {len(p.refs)} references, title {p.title!r}")

elif mode == "loaded":
    html, dom, logs = sys.argv[2], sys.argv[3], sys.argv[4:]
    want = parse(html)
    if os.path.getsize(dom) == 0:
        errors.append("Chromium dumped an empty DOM: the page did not load")
    else:
        got = parse(dom)
        if (got.title or "").strip() != (want.title or "").strip():
            errors.append(f"loaded page has title {got.title!r}, the file has {want.title!r}")
        missing = [s for s in want.imgs if s not in got.imgs]
        if missing:
            errors.append(f"loaded DOM lacks <img> {missing}")
    bad = re.compile(r"Uncaught|Failed to load resource|net::ERR_|Page load failed|"
                     r"Not allowed to load local resource|Refused to")
    for log in logs:
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                line = line.rstrip()
                if bad.search(line):
                    errors.append(f"browser: {line}")
                elif ":CONSOLE" in line:
                    print(f"browser_check: note: console: {line}")

elif mode == "png":
    png, w, h = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    if not os.path.isfile(png):
        errors.append(f"no screenshot written to {png}")
    else:
        data = open(png, "rb").read()
        if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
            errors.append(f"{png} is not a PNG")
        else:
            pw, ph, depth, ctype = struct.unpack(">IIBB", data[16:26])
            if (pw, ph) != (w, h):
                errors.append(f"screenshot is {pw}x{ph}, not {w}x{h}")
            if len(data) < 4096:
                errors.append(f"screenshot is only {len(data)} bytes")
            # Blank? Chromium's PNG of a white 1280x2000 page is already ~11 KB, so size
            # alone cannot tell. Inflate the image data (no unfiltering) and count rows that
            # are not one colour: a filtered uniform row repeats its first pixel's bytes.
            bpp = {0: 1, 2: 3, 4: 2, 6: 4}.get(ctype)
            if depth == 8 and bpp and not errors:
                idat, pos = b"", 8
                while pos + 8 <= len(data):
                    n, kind = struct.unpack(">I4s", data[pos:pos + 8])
                    if kind == b"IDAT":
                        idat += data[pos + 8:pos + 8 + n]
                    pos += 12 + n
                raw = zlib.decompress(idat)
                stride = 1 + pw * bpp
                content = 0
                for y in range(ph):
                    row = raw[y * stride + 1 + bpp:(y + 1) * stride]
                    if row != row[:bpp] * (pw - 1):
                        content += 1
                print(f"browser_check: screenshot {pw}x{ph}, {len(data)} bytes, "
                      f"{content} rows with content")
                if content < 20:
                    errors.append(f"screenshot looks blank ({content} rows with content)")

for e in errors:
    print(f"browser_check: FAIL: {e}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
}

SECONDS=0
check static "$HTML" || die "$HTML references files that are missing or broken (see above)"

chrome --screenshot="$OUT" --window-size=$W,$H "$URL" >"$WORK/shot.out" 2>"$WORK/shot.log"
rc=$?
[ $rc -eq 124 ] && die "chromium --screenshot timed out after 60 s"
[ $rc -eq 0 ] || die "chromium --screenshot exited $rc: $(grep -v dbus "$WORK/shot.log" | tail -5)"

chrome --dump-dom "$URL" >"$WORK/dom.html" 2>"$WORK/dom.log"
rc=$?
[ $rc -eq 124 ] && die "chromium --dump-dom timed out after 60 s"
[ $rc -eq 0 ] || die "chromium --dump-dom exited $rc: $(grep -v dbus "$WORK/dom.log" | tail -5)"

check loaded "$HTML" "$WORK/dom.html" "$WORK/shot.log" "$WORK/dom.log" \
  || die "$URL did not load cleanly in Chromium (see above)"
check png "$OUT" $W $H || die "bad screenshot $OUT (see above)"
echo "browser_check: ok: $HTML loaded, screenshot $OUT (${SECONDS} s)"
exit 0

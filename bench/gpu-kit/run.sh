#!/usr/bin/env bash
# Degradation Lab GPU kit: the lab's own WebGPU engine on this machine's GPU, beside PyTorch.
#
#   bash run.sh [--short] [--out DIR] [--no-torch] [--no-compile] [--only PARTS]
#
# Needs: Linux x64, a GPU with a Vulkan driver, the Vulkan loader (libvulkan.so.1), and for the
# PyTorch columns a python3 with torch (CUDA where there is a GPU; $PYTHON picks one). No network, no Node, no browser.
# Writes DIR/results.md (one Markdown table), DIR/results.json and DIR/torch.json (default DIR: out/
# beside this script). Exit status: 0 all agreement checks passed, 1 one failed, 2 the lab's side
# could not run, 3 no Vulkan loader.
#   --short       tiny nets and a few steps (the kit's own test, on a software Vulkan)
#   --no-torch    skip PyTorch        --no-compile   PyTorch eager only (no torch.compile)
#   --only PARTS  some of agreement,throughput,classroom (default: all; PyTorch runs with throughput)
set -uo pipefail
KIT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODE=full OUT="$KIT/out" TORCH=1 COMPILE=() ONLY=agreement,throughput,classroom
while [ $# -gt 0 ]; do
  case "$1" in
    --short) MODE=short ;;
    --out) OUT="${2:?--out needs a folder}"; shift ;;
    --no-torch) TORCH=0 ;;
    --no-compile) COMPILE=(--no-compile) ;;
    --only) ONLY="${2:?--only needs parts: agreement,throughput,classroom}"; shift ;;
    -h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (options: --short, --out DIR, --no-torch, --no-compile, --only PARTS, --help)" >&2; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
rm -f "$OUT/results.md" "$OUT/results.json" "$OUT/torch.json"
start=$(date +%s)
say() { echo "run.sh: $*"; }

# 1. The Vulkan loader (a kit built with --vulkan-loader carries Debian's), and a driver for it.
for d in "$KIT"/vulkan/usr/lib/*-linux-gnu; do [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; done
have_loader() {
  ldconfig -p 2>/dev/null | grep 'libvulkan\.so\.1' >/dev/null && return 0  # not grep -q: with pipefail, ldconfig's SIGPIPE would fail the test
  local IFS=:
  for d in ${LD_LIBRARY_PATH:-}; do [ -e "$d/libvulkan.so.1" ] && return 0; done
  return 1
}
if ! have_loader; then
  say "the Vulkan loader (libvulkan.so.1) is missing: Deno's WebGPU reaches the GPU through it."
  say "  install it: apt-get install -y libvulkan1"
  say "  without network: on a machine with Debian's or Ubuntu's packages, 'apt-get download libvulkan1',"
  say "  bring the .deb here and 'dpkg -x libvulkan1_*.deb / && ldconfig'; or rebuild the kit with"
  say "  'npm run gpu-kit -- --vulkan-loader', which packs it."
  exit 3
fi
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && ! ls /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  # NVIDIA's container runtime mounts its driver's manifest here, outside the loader's search path
  for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/icd.d/nvidia_icd.json; do
    [ -f "$f" ] && export VK_DRIVER_FILES="$f" VK_ICD_FILENAMES="$f" && say "Vulkan driver: $f" && break
  done
fi
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | sed 's/^/run.sh: GPU: /'
# the Vulkan loader asks for it, though nothing here draws to a screen
[ -d "${XDG_RUNTIME_DIR:-/nonexistent}" ] || { export XDG_RUNTIME_DIR; XDG_RUNTIME_DIR="$(mktemp -d)"; chmod 700 "$XDG_RUNTIME_DIR"; }

# 2. The runtime: Deno, unpacked once per machine and checked against its checksum.
DENO_DIR="${TMPDIR:-/tmp}/degradation-lab-gpu-kit-$(cut -c1-12 "$KIT/runtime/deno.sha256")"
DENO="$DENO_DIR/deno"
if [ ! -x "$DENO" ]; then
  mkdir -p "$DENO_DIR"
  if command -v xz >/dev/null; then xz -dc "$KIT/runtime/deno.xz" >"$DENO.tmp"
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$KIT/runtime/deno.xz" "$DENO.tmp"; fi || { say "could not unpack runtime/deno.xz (no xz, and python3 failed)"; exit 2; }
  if command -v sha256sum >/dev/null && [ "$(sha256sum "$DENO.tmp" | cut -d' ' -f1)" != "$(cut -d' ' -f1 "$KIT/runtime/deno.sha256")" ]; then
    say "runtime/deno.xz is corrupt (its checksum does not match runtime/deno.sha256): copy the kit again"; rm -f "$DENO.tmp"; exit 2
  fi
  chmod +x "$DENO.tmp" && mv "$DENO.tmp" "$DENO"
fi

# 3. PyTorch: the same cases, eager and torch.compile, before the lab's side reads them.
case ",$ONLY," in *,throughput,*) ;; *) TORCH=0 ;; esac
if [ "$TORCH" = 1 ]; then
  PY=""
  for p in ${PYTHON:-} python3 /usr/bin/python3; do "$p" -c 'import torch' 2>/dev/null && PY="$p" && break; done
  if [ -n "$PY" ]; then
    say "PyTorch: $("$PY" -c 'import torch; print(torch.__version__, "CUDA" if torch.cuda.is_available() else "(no CUDA: CPU figures)")') ($PY)"
    PYTHONUNBUFFERED=1 "$PY" "$KIT/torch_kit.py" --cases "$KIT/cases.json" --mode "$MODE" --out "$OUT/torch.json" "${COMPILE[@]}" ||
      say "PyTorch's side failed (above); the table will have the lab's figures alone"
  else
    say "no python3 here imports torch (\$PYTHON, python3, /usr/bin/python3): the table will have the lab's figures alone"
  fi
fi

# 4. The lab's side: adapter, agreement, throughput, the Classroom preset; then the tables.
"$DENO" run --quiet --no-config --allow-read="$KIT,$OUT" --allow-write="$OUT" --allow-env "$KIT/kit.js" --kit "$KIT" --out "$OUT" --only "$ONLY" $([ "$MODE" = short ] && echo --short)
code=$?
say "done in $(( $(date +%s) - start )) s; results in $OUT/results.md and results.json (exit $code)"
exit $code

